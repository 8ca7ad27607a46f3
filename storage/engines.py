"""The database a `storage.url` names: SQLite's file (storage/db.py) or PostgreSQL (storage/postgres.py)."""

from __future__ import annotations

from storage.db import Database, StorageError

SQLITE_SCHEME = "sqlite:///"
POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")


def database_at(url: str, *, busy_timeout_ms: int = 5000) -> Database:
    """The database a `storage.url` names, not yet opened: `sqlite:///path` (or a bare path) or
    `postgresql://user:password@host:port/name` (psycopg is imported only then)."""
    if url.startswith(POSTGRESQL_SCHEMES):
        from storage.postgres import PostgresDatabase  # psycopg only when asked for

        return PostgresDatabase(url, busy_timeout_ms=busy_timeout_ms)
    if "://" in url and not url.startswith(SQLITE_SCHEME):
        raise StorageError(f"{url.split('://', 1)[0]}: unknown database; use sqlite:///path or postgresql://…")
    return Database(url.removeprefix(SQLITE_SCHEME), busy_timeout_ms=busy_timeout_ms)


async def open_url(url: str, *, busy_timeout_ms: int = 5000, migrate: bool = True) -> Database:
    """`database_at(url)`, opened (and migrated unless told not to)."""
    db = database_at(url, busy_timeout_ms=busy_timeout_ms)
    await db.open(migrate=migrate)
    return db
