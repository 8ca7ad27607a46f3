"""Where a bench keeps its data: a file in its temporary folder (SQLite, the default), or a
fresh database on a PostgreSQL server (`--db postgresql://user@host:port/name`).

For PostgreSQL the URL names a database the user may connect to; the bench creates its own
database beside it (`CREATE DATABASE`, so the user needs CREATEDB) and drops it afterwards,
so a bench never touches a database that holds real data."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.domain.config import StorageConfig

_made = itertools.count()


@contextmanager
def bench_storage(folder: str | Path, db_url: str | None) -> Iterator[StorageConfig]:
    if not db_url or db_url.startswith("sqlite:"):
        yield StorageConfig(path=str(Path(folder) / "bench.db"))
        return
    import psycopg

    name = f"league_bench_{os.getpid()}_{next(_made)}"
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield StorageConfig(url=urlunsplit(urlsplit(db_url)._replace(path=f"/{name}")))
    finally:
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def engine_of(db_url: str | None) -> str:
    return "postgresql" if db_url and db_url.startswith(("postgresql://", "postgres://")) else "sqlite"
