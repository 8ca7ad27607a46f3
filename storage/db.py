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
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, overload

import aiosqlite

log = logging.getLogger(__name__)

Row = sqlite3.Row
T = TypeVar("T")
_owner: contextvars.ContextVar[object | None] = contextvars.ContextVar("db_owner", default=None)


class StorageError(Exception):
    """The database cannot be used as configured (path, version, corruption)."""


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


class Database:
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._rollback_hooks: list[Callable[[], None]] = []

    async def open(self, *, migrate: bool = True) -> None:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        await self._conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        await self._conn.execute("PRAGMA journal_mode = WAL")
        await self._conn.execute("PRAGMA foreign_keys = ON")
        await self._conn.execute("PRAGMA synchronous = NORMAL")
        if migrate:
            await self.migrate()

    async def close(self) -> None:
        if self._conn is not None:
            # Fold the WAL back into the main file so a copied .db is complete on its own.
            await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await self._conn.close()
            self._conn = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StorageError("database is not open")
        return self._conn

    # ---- transactions -------------------------------------------------------------------
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception, re-entrant per task."""
        if _owner.get() is not None:
            yield
            return
        async with self._lock:
            token = _owner.set(object())
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    await self.conn.execute("ROLLBACK")
                    self._forget_cached()
                    raise
                await self.conn.execute("COMMIT")
            finally:
                _owner.reset(token)

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
        if _owner.get() is not None:
            raise StorageError("run_sync cannot run inside a transaction")
        async with self._lock:
            try:
                return await self.conn._execute(work, self.conn._conn)
            except BaseException:
                self._forget_cached()
                raise

    @asynccontextmanager
    async def _serialised(self) -> AsyncIterator[None]:
        if _owner.get() is not None:
            yield
            return
        async with self._lock:
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
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        value = await self.fetch_value("SELECT MAX(version) FROM schema_migrations")
        return int(value or 0)

    async def migrate(self) -> list[str]:
        """Apply pending migrations in order, each in its own transaction; returns their names."""
        migrations = available_migrations()
        current = await self.schema_version()
        newest = migrations[-1][0] if migrations else 0
        if current > newest:
            raise StorageError(
                f"{self.path}: database schema version {current} is newer than this program"
                f" knows ({newest}); upgrade league-bot instead of downgrading"
            )
        applied = []
        for version, name, sql in migrations:
            if version <= current:
                continue
            async with self.transaction():
                for statement in split_statements(sql):
                    await self.conn.execute(statement)
                await self.conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, utc_now_text()),
                )
            log.info("applied migration %04d %s", version, name)
            applied.append(f"{version:04d}_{name}")
        return applied

    # ---- backup -------------------------------------------------------------------------
    async def backup(self, destination: str | Path) -> None:
        """SQLite's online backup: a consistent copy even while the bot writes."""
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.exists():
            raise StorageError(f"{destination}: already exists; choose a new file name for the backup")
        async with self._serialised(), aiosqlite.connect(destination) as target:
            await self.conn.backup(target)


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


def available_migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        number, _, rest = entry.name.partition("_")
        found.append((int(number), rest.removesuffix(".sql"), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if len(set(versions)) != len(versions):
        raise StorageError(f"two migrations share a version number: {versions}")
    return found


def split_statements(sql: str) -> list[str]:
    """Split a migration into statements, respecting semicolons inside triggers and strings."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        if not buffer and line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise StorageError(f"migration ends with an incomplete statement: {buffer.strip()[:60]}")
    return statements
