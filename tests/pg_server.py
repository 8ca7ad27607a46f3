"""A throw-away PostgreSQL server for the suite's PostgreSQL pass (`pytest --db postgresql`).

Started from Debian's `postgresql` package (scripts/os-packages installs it) in a temporary
folder on a free port, stopped at the end. Hand-written rather than pytest-postgresql: CI runs as
root, which `initdb` refuses, so the server runs as the `postgres` system user through runuser.

Each test configuration gets its own database, copied from a template that holds the migrated
schema (CREATE DATABASE … TEMPLATE: ~30 ms instead of running every migration again).
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

SERVER_ENV = "LEAGUE_BOT_TEST_POSTGRES"  # the running server's URL, without a database name
TEMPLATE = "league_template"
_counter = itertools.count()
_created: list[str] = []


def _binaries() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found: run scripts/os-packages test (Debian: postgresql)")
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="league-bot-pg-"))
        self.port = _free_port()
        self.bin = _binaries()
        self.as_postgres = os.geteuid() == 0
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)

    def start(self) -> None:
        if self.as_postgres:
            shutil.chown(self.folder, "postgres")
        data = self.folder / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        # fsync off: a test server's data need not survive a power cut, and tests run 3x faster.
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )
        self._make_template()

    def _make_template(self) -> None:
        import psycopg

        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        _in_own_loop(_migrate(f"{self.url}/{TEMPLATE}"))

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


async def _migrate(url: str) -> None:
    from storage.engines import open_url

    db = await open_url(url)
    await db.close()


def _in_own_loop(work) -> None:  # type: ignore[no-untyped-def]
    """Run a coroutine to the end from sync code, even inside a running event loop (a thread)."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(work)
        except BaseException as error:  # handed to the caller below
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


_by_folder: dict[str, str] = {}


def fresh_database_url(folder: Path) -> str:
    """The test's database on the suite's server, or "" when the suite runs on SQLite (no
    server in the environment): new with the migrated schema, the same again for the same
    folder (a test that restarts the bot builds its config twice and must find its data)."""
    server = os.environ.get(SERVER_ENV)
    if not server:
        return ""
    known = _by_folder.get(str(folder))
    if known is not None:
        return known
    import psycopg

    name = f"t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    _created.append(name)
    url = _by_folder[str(folder)] = f"{server}/{name}"
    return url


def drop_test_databases() -> None:
    """Drop the databases made since the last call (after each test: ~8 MB each on disk)."""
    server = os.environ.get(SERVER_ENV)
    if not server or not _created:
        return
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        _by_folder.clear()
        while _created:
            conn.execute(f"DROP DATABASE IF EXISTS {_created.pop()} WITH (FORCE)")
