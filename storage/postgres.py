"""PostgreSQL behind the same `Database` interface: the engine for several instances (issue #20).

The repositories keep one SQL text for both engines (`?` placeholders, ISO-8601 UTC times as
TEXT, integer flags). What PostgreSQL reads differently is translated here and only here:
placeholders, `BEGIN IMMEDIATE`, the id an INSERT made (SQLite's lastrowid is `RETURNING id`),
and the schema's types (storage/sql_dialect.py). Values are bound on the client
(psycopg's ClientCursor), so a parameter takes the type its place asks for, as in SQLite.

One connection carries the bot's statements, serialised by the same lock and transaction rule
as SQLite's (`Database.transaction`): each instance's writes stay in the order its handlers made
them. Between instances, PostgreSQL's row locks and the repositories' conditional UPDATEs (a
claim is `UPDATE … WHERE status = 'open'`) keep every rule exactly-once.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.types.string import StrDumperUnknown

from storage.db import (
    Database,
    IntegrityError,
    OperationalError,
    Row,
    SoleInstance,
    StorageError,
)
from storage.postgres_cache import CHANNEL, CacheListener, written_table
from storage.sql_dialect import for_postgresql, schema_for_postgresql, split_postgresql

log = logging.getLogger(__name__)
T = TypeVar("T")
# The namespace of the instances' life locks (two-key advisory locks; the leader's is one-key).
_INSTANCE_LOCKS = 20
# The server's side of the same TCP keepalives (see `_connect_pg`).
_SERVER_KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}


class ConstraintRefused(IntegrityError):
    """A constraint or trigger refused a write: the same exception the repositories catch with
    SQLite (`storage.db.IntegrityError`), carrying PostgreSQL's message."""


class SchemaMismatch(OperationalError):
    """A table or column the statement names does not exist (SQLite's "no such table")."""


class PgRow(tuple[Any, ...]):
    """A row read by index or by column name, as sqlite3.Row is."""

    __slots__ = ()
    _index: dict[str, int] = {}
    _names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


_row_classes: dict[tuple[str, ...], type[PgRow]] = {}


def _row_class(names: tuple[str, ...]) -> type[PgRow]:
    cls = _row_classes.get(names)
    if cls is None:
        # The first of two equal names wins, as in sqlite3.Row.
        index = {name: position for position, name in reversed(list(enumerate(names)))}
        cls = type("PgRow", (PgRow,), {"__slots__": (), "_index": index, "_names": names})
        _row_classes[names] = cls
    return cls


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], PgRow]:
    description = cursor.description
    if description is None:
        return tuple  # type: ignore[return-value]
    cls = _row_class(tuple(column.name for column in description))
    return cls


class _IntegralNumeric(Loader):
    """SUM over BIGINT is NUMERIC in PostgreSQL (an int in SQLite): an int when whole, else a float."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


class _TextWithoutNul(StrDumperUnknown):
    """PostgreSQL's text cannot hold U+0000 (SQLite's can). No person types one; a forged update
    may carry it: it becomes U+FFFD, the mark of an unreadable character, instead of an error."""

    def dump(self, obj: str) -> bytes:
        return bytes(super().dump(obj.replace("\x00", "\ufffd") if "\x00" in obj else obj) or b"")


class _BoolAsInteger(Dumper):
    """The schema's flags are INTEGER 0/1 (as in SQLite): a Python bool is bound as 0 or 1."""

    format = Format.TEXT

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"

    def quote(self, obj: bool) -> bytes:
        return self.dump(obj)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc[-1]}"))


class PostgresDatabase(Database):
    engine = "postgresql"

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000) -> None:
        super().__init__(Path("postgresql"), busy_timeout_ms=busy_timeout_ms)
        self.url = url
        self.label = redacted(url)
        self._pg: psycopg.AsyncConnection[PgRow] | None = None
        self._identity_tables: frozenset[str] = frozenset()
        self._listener = CacheListener(self._connect_pg)

    # ---- connection -------------------------------------------------------------------
    async def _connect_pg(self) -> psycopg.AsyncConnection[PgRow]:
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.url,
                autocommit=True,
                cursor_factory=psycopg.AsyncClientCursor,
                row_factory=_row_factory,
                connect_timeout=10,
                # This side notices a vanished server within ~30 s instead of TCP's ~15 minutes:
                # after 10 s of silence a probe every 5 s, given up after 3; unacknowledged
                # data given up after 20 s (libpq's parameters).
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
                tcp_user_timeout=20_000,
            )
        except psycopg.Error as error:
            raise StorageError(
                f"{self.label}: cannot connect ({' '.join(str(error).split())}); check storage.url,"
                " that the server runs and that the user may log in"
            ) from None
        conn.adapters.register_loader("numeric", _IntegralNumeric)
        conn.adapters.register_dumper(bool, _BoolAsInteger)
        conn.adapters.register_dumper(str, _TextWithoutNul)
        # A statement waiting longer than SQLite's busy timeout fails as SQLite's would.
        await conn.execute(f"SET lock_timeout = {int(self.busy_timeout_ms)}")
        # And the server notices a vanished instance (its machine gone, not just its process)
        # within ~25 s, freeing its leadership and life locks for the others to take over.
        for setting, value in _SERVER_KEEPALIVE.items():
            await conn.execute(f"SET {setting} = {int(value)}")
        return conn

    async def open(self, *, migrate: bool = True, writable: bool = True) -> None:
        self._writable = writable
        self._pg = await self._connect_pg()
        try:
            await self._mark_life()
            if migrate:
                await self.migrate()
            await self._learn_identity_tables()
            self._listener.start()
        except BaseException:
            await self.close()
            raise

    async def _mark_life(self) -> None:
        """This instance's mark of life: a session lock the server frees when the connection ends
        (the process died), so the others can tell its stored updates are orphans."""
        self.instance_id = uuid.uuid4().hex
        await self.pg.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (_INSTANCE_LOCKS, self.instance_id))

    async def _learn_identity_tables(self) -> None:
        rows = await self.fetch_all(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'"
        )
        self._identity_tables = frozenset(row[0] for row in rows)

    async def close(self) -> None:
        await self._listener.stop()
        conn, self._pg = self._pg, None
        if conn is not None:
            await conn.close()

    async def checkpoint(self) -> None:
        """Nothing to fold: PostgreSQL's WAL is the server's business (VACUUM reclaims purged rows)."""

    @property
    def pg(self) -> psycopg.AsyncConnection[PgRow]:
        if self._pg is None:
            raise StorageError("database is not open")
        return self._pg

    # ---- transactions -----------------------------------------------------------------
    async def _raw(self, sql: str, params: Sequence[Any] = ()) -> int:
        """BEGIN, COMMIT, ROLLBACK, a commit mark and the schema's statements: as written, or
        through the dialect when they carry parameters (`?`)."""
        if params:
            return max((await self._run(sql, params)).rowcount, 0)
        if sql == "BEGIN IMMEDIATE":
            sql = "BEGIN"  # PostgreSQL locks rows as it writes them
        return max((await self.pg.execute(sql)).rowcount, 0)

    def row_cache(self, table: str) -> dict[Any, Any]:
        """A cache kept true across instances by LISTEN/NOTIFY (storage/postgres_cache.py)."""
        cache = self._listener.cache(table)
        self.on_rollback(cache.clear)
        return cache

    async def instance_alive(self, instance_id: str) -> bool:
        if instance_id == self.instance_id:
            return True
        lock = (_INSTANCE_LOCKS, instance_id)
        async with self._serialised():
            cursor = await self.pg.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", lock)
            row = await cursor.fetchone()
            free = bool(row and row[0])
            if free:  # taken only to look: given back at once
                await self.pg.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", lock)
        return not free

    def leadership(self, name: str) -> AdvisoryLeadership:
        return AdvisoryLeadership(self, name)

    async def serialise(self, key: str) -> None:
        await super().serialise(key)
        await self._run("SELECT pg_advisory_xact_lock(hashtext(?))", (key,))

    async def run_sync(self, work: Callable[[Any], T]) -> T:
        raise StorageError("run_sync is SQLite's; PostgreSQL takes the statements one by one")

    # ---- statements -------------------------------------------------------------------
    async def _run(self, sql: str, params: Sequence[Any]) -> psycopg.AsyncCursor[PgRow]:
        text = for_postgresql(sql)
        bound: Sequence[Any] | dict[str, Any] = tuple(params)
        if "%(p" in text:  # SQLite's numbered ?N parameters, named pN for psycopg
            bound = {f"p{number}": value for number, value in enumerate(params, start=1)}
        try:
            cursor = await self.pg.execute(text, bound)
            await self._tell_caches(sql)
            return cursor
        except psycopg.errors.IntegrityError as error:
            raise ConstraintRefused(_message(error)) from error
        except psycopg.errors.RaiseException as error:  # a trigger's refusal (RAISE EXCEPTION)
            raise ConstraintRefused(_message(error)) from error
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as error:
            raise SchemaMismatch(_message(error)) from error

    async def _tell_caches(self, sql: str) -> None:
        """A write to a table some instance caches: they forget its rows once this commits."""
        table = written_table(sql)
        if table is not None and table in self._listener.tables:
            await self.pg.execute("SELECT pg_notify(%s, %s)", (CHANNEL, table))

    async def _ready(self) -> None:
        """The server restarted or a failover moved it: the connection is gone, so the next
        statement (outside a transaction: one inside fails with its transaction) opens a new
        one. A new connection is a new instance for the others (its life lock is new); what the
        old one left unfinished is adopted like any orphan, and its done marks decide."""
        conn = self._pg
        if conn is None or not conn.broken:
            return
        log.warning("%s: the connection was lost; connecting again", self.label)
        self._pg = await self._connect_pg()
        await self._mark_life()
        self._forget_cached()

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """A write; for an INSERT into a table with an id, that id (SQLite's lastrowid)."""
        table = _inserted_table(sql)
        returning = table is not None and table in self._identity_tables and "RETURNING" not in sql.upper()
        async with self._serialised():
            cursor = await self._run(sql + " RETURNING id" if returning else sql, params)
            if returning:
                row = await cursor.fetchone()
                await self._follow_explicit_ids(sql, table)
                return int(row[0]) if row is not None else 0
            await self._follow_explicit_ids(sql, table)
            return 0

    async def changes(self, sql: str, params: Sequence[Any] = ()) -> int:
        table = _inserted_table(sql)
        async with self._serialised():
            cursor = await self._run(sql, params)
            await self._follow_explicit_ids(sql, table)
            return max(cursor.rowcount, 0)

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        table = _inserted_table(sql)
        batch = [tuple(row) for row in rows]
        if not batch:
            return
        async with self._serialised():
            try:
                async with self.pg.cursor() as cursor:
                    await cursor.executemany(for_postgresql(sql), batch)
                await self._tell_caches(sql)
            except psycopg.errors.IntegrityError as error:
                raise ConstraintRefused(_message(error)) from error
            await self._follow_explicit_ids(sql, table)

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._serialised():
            cursor = await self._run(sql, params)
            return await cursor.fetchone()  # type: ignore[return-value]

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._serialised():
            cursor = await self._run(sql, params)
            return await cursor.fetchall()  # type: ignore[return-value]

    async def _follow_explicit_ids(self, sql: str, table: str | None) -> None:
        """An INSERT that chose its ids (a seed, a copy) moves the table's id sequence past them,
        as SQLite's rowid follows the largest id; otherwise the next plain INSERT would collide."""
        if table is None or table not in self._identity_tables or not _names_id_column(sql):
            return
        await self.pg.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))"
        )

    async def stream(self, sql: str, params: Sequence[Any] = (), *, batch: int = 2000) -> AsyncIterator[list[Row]]:
        """Row batches from a server-side cursor on a connection of its own, in one REPEATABLE READ
        snapshot: an export of a minute never holds up the bot's own statements."""
        reader = await self._connect_pg()
        try:
            async with reader.transaction():
                await reader.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                async with reader.cursor(name="league_bot_stream") as cursor:
                    await cursor.execute(for_postgresql(sql), tuple(params))
                    while rows := await cursor.fetchmany(batch):
                        yield rows  # type: ignore[misc]
        finally:
            await reader.close()

    # ---- migrations -------------------------------------------------------------------
    async def migrate(self) -> list[str]:
        """As SQLite's: every migration not recorded, each in its own transaction. Two instances
        starting together take an advisory lock first, so one migrates and the other waits."""
        await self.pg.execute("SELECT pg_advisory_lock(200001)")
        try:
            applied = await super().migrate()
        finally:
            await self.pg.execute("SELECT pg_advisory_unlock(200001)")
        await self._learn_identity_tables()
        return applied

    def _schema_statements(self, migration: str) -> list[str]:
        return split_postgresql(schema_for_postgresql(migration))

    # ---- backup -----------------------------------------------------------------------
    async def backup(self, destination: str | Path) -> None:
        """pg_dump's custom format (restore with pg_restore), a consistent snapshot while the bots
        keep writing. Needs the client tools (Debian: postgresql-client)."""
        destination = Path(destination)
        if destination.exists():
            raise StorageError(f"{destination}: already exists; choose a new file name for the backup")
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise StorageError(
                "pg_dump not found: install PostgreSQL's client tools (Debian: apt install postgresql-client)"
                f" or run pg_dump --format=custom --file={destination} on a machine that has them"
            )
        destination.parent.mkdir(parents=True, exist_ok=True)
        command = [pg_dump, "--format=custom", f"--file={destination}", f"--dbname={self.url}"]
        done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            destination.unlink(missing_ok=True)
            raise StorageError(f"pg_dump failed: {done.stderr.strip() or done.returncode}")


class AdvisoryLeadership(SoleInstance):
    """One instance leads: it holds a session-level advisory lock on a connection of its own.

    When the leader dies its connections close and the server frees the lock at once (a machine
    that vanishes from the network: after the server's TCP keepalive gives up); the next `hold`
    of another instance takes it. A leader whose lock connection broke stops leading at its next
    `hold`, before another can have taken over."""

    def __init__(self, db: PostgresDatabase, name: str) -> None:
        self.db = db
        self.name = name
        self._conn: psycopg.AsyncConnection[PgRow] | None = None
        self._held = False

    async def hold(self) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._held = False
                self._conn = await self.db._connect_pg()
            if self._held:
                await self._conn.execute("SELECT 1")
            else:
                cursor = await self._conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self.name,))
                row = await cursor.fetchone()
                self._held = bool(row and row[0])
        except (psycopg.Error, StorageError) as error:
            log.warning("leadership %s: the database cannot be reached (%s); not leading", self.name, error)
            await self.release()
        return self._held

    async def release(self) -> None:
        conn, self._conn, self._held = self._conn, None, False
        if conn is not None and not conn.closed:
            await conn.close()  # closing the session frees the lock


def _message(error: psycopg.Error) -> str:
    diag = error.diag
    return diag.message_primary or str(error)


def _inserted_table(sql: str) -> str | None:
    head = sql.lstrip()[:12].upper()
    if not head.startswith("INSERT"):
        return None
    words = sql.split(None, 4)
    # "INSERT INTO t (…" or "INSERT INTO t(…"
    if len(words) >= 3 and words[1].upper() == "INTO":
        return words[2].split("(", 1)[0].strip().strip('"').lower()
    return None


def _names_id_column(sql: str) -> bool:
    columns = sql.split("(", 1)[1].split(")", 1)[0] if "(" in sql else ""
    return "id" in (name.strip().lower() for name in columns.split(","))
