"""The database object: one aiosqlite connection, explicit transactions, migrations, backup.

All statements go through one connection, so concurrent handler tasks are serialised by a lock
held for a whole transaction; a task already inside a transaction re-enters it freely (the
`_owner` context variable), so a service can group several repository calls atomically.

Each statement is one trip to aiosqlite's thread (the statement, its rows and closing its cursor
together): a trip costs an event-loop round and, on a busy loop, a wait for the GIL, so a read
made of three trips (execute, fetch, close) was three times as slow for nothing.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, overload

import aiosqlite

from storage.errors import StorageError as StorageError
from storage.gate import Gate
from storage.migration_files import available_migrations, split_statements
from storage.sql_dialect import for_engine
from storage.sqlite_file import OneBotPerFile, corrupt_advice, make_folder, opening_failure

log = logging.getLogger(__name__)

Row = sqlite3.Row
# The one constraint error the repositories catch, whichever engine refused (storage/postgres.py
# raises a subclass carrying PostgreSQL's message).
IntegrityError = sqlite3.IntegrityError
# A statement the schema cannot run (a missing table or column): the same on both engines too.
OperationalError = sqlite3.OperationalError
T = TypeVar("T")
# The task inside `transaction()`. A task started from inside one (an APScheduler job armed by a
# statement, `asyncio.create_task`) copies this context variable too; comparing the task keeps
# such a task out of the transaction: it waits for the lock like any other, instead of reading
# uncommitted rows and writing without BEGIN after the transaction ended (which once left an
# outbox message marked sent and its reminder delivery still 'sending', after a kill).
_owner: contextvars.ContextVar[asyncio.Task[Any] | None] = contextvars.ContextVar("db_owner", default=None)


def _in_transaction() -> bool:
    owner = _owner.get()
    return owner is not None and owner is asyncio.current_task()


_commit_mark: contextvars.ContextVar[CommitMark | None] = contextvars.ContextVar("db_commit_mark", default=None)


class CommitMark:
    """One statement that commits with the first transaction of the task that carries it.

    The durable inbox's "this update is handled" mark (storage/inbox.py): while a handler runs,
    its task carries the mark, and its first `transaction()` writes it just before COMMIT, so the
    handler's effects and the mark are one commit. Only the carrying task's own transactions take
    it (tasks it starts copy the context, not the duty)."""

    __slots__ = ("committed", "params", "sql", "task")

    def __init__(self, sql: str, params: Sequence[Any]) -> None:
        self.sql = sql
        self.params = params
        self.committed = False
        self.task: asyncio.Task[Any] | None = None


def carry_commit_mark(mark: CommitMark) -> contextvars.Token[CommitMark | None]:
    """The current task carries `mark` until `drop_commit_mark(token)`."""
    mark.task = asyncio.current_task()
    return _commit_mark.set(mark)


def drop_commit_mark(token: contextvars.Token[CommitMark | None]) -> None:
    _commit_mark.reset(token)


def _mark_to_commit() -> CommitMark | None:
    mark = _commit_mark.get()
    if mark is None or mark.committed or mark.task is not asyncio.current_task():
        return None
    return mark


class AlreadyDone(Exception):
    """The commit mark found its update done already (handled by another instance, which took it
    over as an orphan, or the other way round): this transaction is rolled back, so an update's
    effects are committed once however many instances handled it."""


def utc_now_text() -> str:
    return to_db_time(datetime.now(UTC))


@overload
def to_db_time(moment: datetime) -> str: ...
@overload
def to_db_time(moment: None) -> None: ...
@overload
def to_db_time(moment: datetime | None) -> str | None: ...
def to_db_time(moment: datetime | None) -> str | None:
    """UTC, second precision, ISO 8601 with a Z: sorts correctly as text, portable to PostgreSQL."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage; pass an aware UTC datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_db_time(text: str | None) -> datetime | None:
    """A nullable time column."""
    return None if text is None else db_time(text)


def db_time(text: str) -> datetime:
    """A NOT NULL time column."""
    if len(text) == 20 and text[10] == "T" and text[19] == "Z":  # what to_db_time writes: the fast way
        return datetime.fromisoformat(text)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def time_value(value: object) -> str:
    """A datetime for a time column (a state change's settable value), checked at run time."""
    if not isinstance(value, datetime):
        raise TypeError(f"a time column takes a datetime, not {value!r}")
    return to_db_time(value)


def int_value(value: object) -> int:
    """An int for an integer column, checked at run time (a bool is an int: stored as 0 or 1)."""
    if not isinstance(value, int):
        raise TypeError(f"an integer column takes an int, not {value!r}")
    return int(value)


def written(value: T | None, what: str) -> T:
    """A row read back right after this connection wrote it: absent only if the database is broken."""
    if value is None:
        raise StorageError(f"{what} is missing right after it was written")
    return value


_MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);"
)


class SoleInstance:
    """Leadership where there is one process: SQLite's file admits one bot (its lock file,
    `storage/sqlite_file.py`), so this one always leads."""

    async def hold(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class Database:
    engine = "sqlite"
    # Which instance this is, on a database several share (PostgreSQL); SQLite has one process.
    instance_id: str | None = None

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self.label = str(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._conn: aiosqlite.Connection | None = None
        self._writable = True
        self._lock = Gate()  # a transaction at a time; a long poll's store goes first (first_lane)
        self._rollback_hooks: list[Callable[[], None]] = []
        self._file_lock = OneBotPerFile(self.path)

    async def open(self, *, migrate: bool = True, writable: bool = True) -> None:
        """Connect, check the file can be read (and written, unless `writable` is False), migrate.

        Any failure closes the connection again (its thread would otherwise keep the process
        alive) and becomes one `StorageError` line naming the file and the fix."""
        self._writable = writable
        if writable:
            self._file_lock.take()
        try:
            self._conn = await self._connect()
        except BaseException:
            self._file_lock.release()
            raise
        try:
            await self._prepare(writable=writable)
            if migrate:
                await self.migrate()
        except sqlite3.Error as error:
            await self._abandon()
            raise opening_failure(self.path, error, self.busy_timeout_ms) from None
        except BaseException:
            await self._abandon()
            raise

    async def _connect(self) -> aiosqlite.Connection:
        if str(self.path) != ":memory:":
            make_folder(self.path)
        try:
            conn = await aiosqlite.connect(self.path, isolation_level=None)
        except sqlite3.Error as error:
            raise opening_failure(self.path, error, self.busy_timeout_ms) from None
        conn.row_factory = sqlite3.Row
        return conn

    async def _prepare(self, *, writable: bool) -> None:
        await self.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        # Purged values are overwritten with zeros, not left in free pages (children's data).
        await self.execute("PRAGMA secure_delete = ON")
        await self.execute("PRAGMA foreign_keys = ON")
        await self.execute("PRAGMA synchronous = NORMAL")
        # Reading the schema fails at once on a file that is not a database.
        await self.fetch_value("SELECT count(*) FROM sqlite_master")
        if writable:
            await self.execute("PRAGMA journal_mode = WAL")
            await self._probe_writing()
        await self._probe_integrity()

    async def _probe_writing(self) -> None:
        """SQLite opens a read-only file without complaint and refuses only the first write, and a
        lock held by another process shows only when writing: try one, change nothing."""
        await self.execute("BEGIN IMMEDIATE")
        try:
            version = await self.fetch_value("PRAGMA user_version")
            await self.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            await self.execute("ROLLBACK")

    async def _probe_integrity(self) -> None:
        """A damaged page shows at start-up rather than in the middle of someone's check-in.
        quick_check reads every page once (0.15 s for 145 MB from the page cache)."""
        rows = await self.fetch_all("PRAGMA quick_check(1)")
        if [tuple(row) for row in rows] != [("ok",)]:
            raise StorageError(corrupt_advice(self.path, str(rows[0][0]) if rows else "no answer"))

    async def _abandon(self) -> None:
        """Close after a failed open: no checkpoint, nothing that could fail again."""
        self._file_lock.release()
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def checkpoint(self) -> None:
        """Fold the WAL into the main file and empty it: after a purge, the WAL still holds the
        pages as they were before it (secure_delete clears only the main file's copies)."""
        await self.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            # Fold the WAL back into the main file so a copied .db is complete on its own (a
            # reading connection, e.g. a backup's, leaves that to the writer: it would wait for it).
            if self._writable:
                await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as error:
            # The data is safe in the WAL (SQLite folds it in at the next open); closing matters more.
            log.warning("%s: WAL not folded back at close (%s)", self.path, error)
        finally:
            self._conn = None
            await conn.close()
            self._file_lock.release()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StorageError("database is not open")
        return self._conn

    # ---- transactions -------------------------------------------------------------------
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception, re-entrant per task. A commit
        mark the task carries (`carry_commit_mark`) is written just before the first COMMIT."""
        if _in_transaction():
            yield
            return
        async with self._lock:
            await self._ready()
            token = _owner.set(asyncio.current_task())
            try:
                await self._raw("BEGIN IMMEDIATE")
                mark = None
                try:
                    yield
                    mark = _mark_to_commit()
                    if mark is not None and await self._raw(mark.sql, mark.params) == 0:
                        raise AlreadyDone(mark.sql)
                except BaseException:
                    await self._raw("ROLLBACK")
                    self._forget_cached()
                    raise
                await self._raw("COMMIT")
                if mark is not None:
                    mark.committed = True
            finally:
                _owner.reset(token)

    @staticmethod
    def first_lane() -> AbstractContextManager[None]:
        """The statements run in this block wait only for the transaction in progress, not for
        those queued before them (storage/gate.py): for storing a long poll's batch."""
        return Gate.first_lane()

    async def _ready(self) -> None:
        """Before a transaction or a statement takes the connection (the lock held): nothing for
        SQLite's file; the PostgreSQL backend reconnects a connection the server dropped."""

    async def _raw(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement on the connection as it is (the lock held): the rows it changed."""
        cursor = await self.conn.execute(sql, params)
        return int(cursor.rowcount)

    async def serialise(self, key: str) -> None:
        """Inside a transaction: no other transaction holding the same key runs until this one
        ends. SQLite's BEGIN IMMEDIATE already lets one writer in at a time (one process); the
        PostgreSQL backend takes a transaction-level advisory lock, for several instances."""
        if not _in_transaction():
            raise StorageError("serialise() belongs inside a transaction")

    async def instance_alive(self, instance_id: str) -> bool:
        """Whether the instance that wrote `instance_id` still runs. SQLite: only this one does."""
        return instance_id == self.instance_id

    def leadership(self, name: str) -> SoleInstance:
        """Who does the scheduled work and the sending (bot/runtime/leader.py): on SQLite, this
        process; the PostgreSQL backend holds an advisory lock, taken over when its holder dies."""
        return SoleInstance()

    def row_cache(self, table: str) -> dict[Any, Any]:
        """A repository's cache of the rows of `table`, which it alone writes, forgotten on a
        rollback. One process owns an SQLite file, so such a cache stays true; the PostgreSQL
        backend's is also forgotten when another instance writes the table (LISTEN/NOTIFY,
        storage/postgres_cache.py)."""
        cache: dict[Any, Any] = {}
        self.on_rollback(cache.clear)
        return cache

    def on_rollback(self, forget: Callable[[], None]) -> None:
        """Repositories that cache rows register here: a rolled-back write must not stay cached."""
        self._rollback_hooks.append(forget)

    def _forget_cached(self) -> None:
        for forget in self._rollback_hooks:
            forget()

    async def run_sync(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` in the database thread: many statements for one hop.

        For hot paths (a batch of auction claims), where one event-loop round trip per statement
        would cost more than the statements. `work` manages its own transaction and must not be
        called inside `transaction()`. It goes through aiosqlite's own queue (its `_execute`),
        so it is ordered with every other statement of this connection."""
        if _in_transaction():
            raise StorageError("run_sync cannot run inside a transaction")
        async with self._lock:
            try:
                return await self.conn._execute(work, self.conn._conn)
            except BaseException:
                self._forget_cached()
                raise

    @asynccontextmanager
    async def _serialised(self) -> AsyncIterator[None]:
        """One statement outside a transaction waits for the one in progress (one connection)."""
        if _in_transaction():
            yield
            return
        async with self._lock:
            await self._ready()
            yield

    # ---- statements (each one trip to the database thread) -------------------------------
    async def _statement(self, work: Callable[..., T], sql: str, params: Any) -> T:
        async with self._serialised():
            return await self.conn._execute(work, self.conn._conn, sql, params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a write; returns lastrowid (for INSERT) — callers wanting rowcount use `changes`."""
        return await self._statement(_last_row_id, sql, params)

    async def changes(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a write; returns how many rows it changed (0 means a guard in WHERE refused it)."""
        return await self._statement(_row_count, sql, params)

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._statement(_execute_many, sql, list(rows))

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self._statement(_fetch_one, sql, params)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._statement(_fetch_all, sql, params)

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    # ---- migrations ---------------------------------------------------------------------
    async def schema_version(self) -> int:
        for statement in self._schema_statements(_MIGRATIONS_TABLE):
            await self.execute(statement)
        value = await self.fetch_value("SELECT MAX(version) FROM schema_migrations")
        return int(value or 0)

    async def migrate(self) -> list[str]:
        """Apply pending migrations in order, each in its own transaction; returns their names.
        Pending means not recorded as applied, not merely newer than the newest applied: features
        developed side by side land with interleaved numbers, and a database that already has a
        later one must still get an earlier one that arrived after it."""
        migrations = available_migrations()
        current = await self.schema_version()
        done = {int(row[0]) for row in await self.fetch_all("SELECT version FROM schema_migrations")}
        newest = migrations[-1][0] if migrations else 0
        if current > newest:
            raise StorageError(
                f"{self.label}: database schema version {current} is newer than this program"
                f" knows ({newest}); upgrade league-bot instead of downgrading"
            )
        applied = []
        for version, name, sql in migrations:
            if version in done:
                continue
            async with self.transaction():
                for statement in self._schema_statements(sql):
                    await self._raw(statement)
                await self.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, utc_now_text()),
                )
            log.info("applied migration %04d %s", version, name)
            applied.append(f"{version:04d}_{name}")
        return applied

    def _schema_statements(self, migration: str) -> list[str]:
        """A migration's statements for this engine."""
        return split_statements(for_engine(migration, "sqlite"))

    async def stream(self, sql: str, params: Sequence[Any] = (), *, batch: int = 2000) -> AsyncIterator[list[Row]]:
        """The rows of one read, in batches of at most `batch`, for a read too big to hold (an
        export of a province-year): on its own read-only connection to the same file, in one
        BEGIN … COMMIT, so the batches are one consistent snapshot while the bot keeps writing
        through its own connection (WAL lets both run). Not inside `transaction()`: the
        snapshot would not see that transaction's uncommitted rows."""
        if _in_transaction():
            raise StorageError("stream cannot run inside a transaction (its rows would not be seen)")
        if str(self.path) == ":memory:":  # no file a second connection could open: one read, cut up
            rows = await self.fetch_all(sql, params)
            for first in range(0, len(rows), batch):
                yield rows[first : first + batch]
            return
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        reader = await aiosqlite.connect(uri, uri=True, isolation_level=None)
        try:
            reader.row_factory = sqlite3.Row
            await reader.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            await reader.execute("BEGIN")
            cursor = await reader.execute(sql, params)
            try:
                while fetched := await cursor.fetchmany(batch):
                    yield list(fetched)
            finally:
                await cursor.close()
                await reader.execute("COMMIT")
        finally:
            await reader.close()

    # ---- backup -------------------------------------------------------------------------
    async def backup(self, destination: str | Path) -> None:
        """SQLite's online backup: a consistent copy even while the bot writes."""
        destination = Path(destination)
        if destination.exists():
            raise StorageError(f"{destination}: already exists; choose a new file name for the backup")
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            async with self._serialised(), aiosqlite.connect(destination) as target:
                await self.conn.backup(target)
        except (OSError, sqlite3.Error) as error:
            raise StorageError(
                f"{destination}: the backup cannot be written ({error}); choose a folder the bot may write"
            ) from None


# ---- what one trip runs on the database thread ----------------------------------------------------
def _last_row_id(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    cursor = conn.execute(sql, params)
    try:
        return cursor.lastrowid or 0
    finally:
        cursor.close()


def _row_count(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    cursor = conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        cursor.close()


def _execute_many(conn: sqlite3.Connection, sql: str, rows: list[Sequence[Any]]) -> None:
    conn.executemany(sql, rows).close()


def _fetch_one(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Row | None:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchone()
    finally:
        cursor.close()


def _fetch_all(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Row]:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()
