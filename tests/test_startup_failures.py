"""A database the bot cannot use stops `run`, `migrate` and `backup` fast, with one line and status 3.

Each case runs the real CLI in a subprocess: the point is what a supervisor sees (the exit
status, the one line on stderr, no traceback, no process left hanging on the database thread).
`run` is pointed at a closed port: the database is checked before the bot calls Telegram.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.cli import EXIT_STORAGE

TOKEN = "424242:STARTUP-TOKEN"
LIMIT_SECONDS = 10.0


def write_config(tmp_path: Path, database: Path, busy_timeout_ms: int = 5000) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        '[telegram]\nbase_url = "http://127.0.0.1:9/bot"\nbase_file_url = "http://127.0.0.1:9/file/bot"\n'
        f'[storage]\npath = "{database}"\nbusy_timeout_ms = {busy_timeout_ms}\n',
        encoding="utf-8",
    )
    return config


def league_bot(*args: str) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        timeout=LIMIT_SECONDS * 3,
    )
    return done.returncode, done.stderr, time.monotonic() - started


def command(name: str, config: Path, tmp_path: Path) -> list[str]:
    extra = [str(tmp_path / "copies" / "backup.db")] if name == "backup" else []
    return [name, *extra, "--config", str(config)]


def a_database(path: Path) -> Path:
    """A real database of this program (migrated, WAL), closed cleanly."""
    code, stderr, _ = league_bot("migrate", "--config", str(write_config(path.parent, path)))
    assert code == 0, stderr
    return path


def assert_one_line_failure(code: int, stderr: str, seconds: float, database: Path | str, fix: str) -> None:
    lines = stderr.strip().splitlines()
    assert code == EXIT_STORAGE, stderr
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("league-bot: storage error: ")
    assert str(database) in lines[0] and fix in lines[0], lines[0]
    assert seconds < LIMIT_SECONDS


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Root writes through file permissions, so as root the file is made immutable instead."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only")
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("this file system does not support the immutable attribute")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


COMMANDS = ["run", "migrate", "backup"]


@pytest.mark.parametrize("name", COMMANDS)
def test_a_file_that_is_not_a_database(tmp_path, name):
    database = tmp_path / "bot.db"
    database.write_bytes(os.urandom(8192))
    config = write_config(tmp_path, database)
    code, stderr, seconds = league_bot(*command(name, config, tmp_path))
    assert_one_line_failure(code, stderr, seconds, database, "restore the latest backup")


@pytest.mark.parametrize("name", COMMANDS)
def test_a_database_with_a_damaged_page(tmp_path, name):
    database = a_database(tmp_path / "bot.db")
    raw = bytearray(database.read_bytes())
    page = 4096
    assert len(raw) > 6 * page
    raw[3 * page : 6 * page] = b"\xa5" * (3 * page)  # a few pages past the header and schema
    database.write_bytes(bytes(raw))
    config = write_config(tmp_path, database)
    code, stderr, seconds = league_bot(*command(name, config, tmp_path))
    assert_one_line_failure(code, stderr, seconds, database, "restore the latest backup")


@pytest.mark.parametrize("name", ["run", "migrate"])
def test_a_read_only_database(tmp_path, name):
    database = a_database(tmp_path / "bot.db")
    config = write_config(tmp_path, database)
    with read_only(database):
        code, stderr, seconds = league_bot(*command(name, config, tmp_path))
    assert_one_line_failure(code, stderr, seconds, database, "write access")


def test_a_read_only_database_can_still_be_backed_up(tmp_path):
    database = a_database(tmp_path / "bot.db")
    config = write_config(tmp_path, database)
    with read_only(database):
        code, stderr, _ = league_bot(*command("backup", config, tmp_path))
    assert code == 0, stderr
    assert (tmp_path / "copies" / "backup.db").exists()


@pytest.mark.parametrize("name", ["run", "migrate"])
def test_a_database_locked_by_another_process(tmp_path, name):
    database = a_database(tmp_path / "bot.db")
    config = write_config(tmp_path, database, busy_timeout_ms=2000)
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        code, stderr, seconds = league_bot(*command(name, config, tmp_path))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_one_line_failure(code, stderr, seconds, database, "stop the other program")
    assert seconds >= 2.0  # the busy timeout was honoured before giving up


def test_a_backup_is_taken_while_another_process_writes(tmp_path):
    database = a_database(tmp_path / "bot.db")
    config = write_config(tmp_path, database)
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        code, stderr, seconds = league_bot(*command("backup", config, tmp_path))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 0, stderr
    assert seconds < LIMIT_SECONDS


@pytest.mark.parametrize("name", ["run", "migrate"])
def test_a_database_folder_that_cannot_be_created(tmp_path, name):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    database = blocker / "data" / "bot.db"
    config = write_config(tmp_path, database)
    code, stderr, seconds = league_bot(*command(name, config, tmp_path))
    assert_one_line_failure(code, stderr, seconds, database.parent, "point storage.path at a folder")


def test_a_backup_of_a_missing_database(tmp_path):
    database = tmp_path / "missing" / "bot.db"
    config = write_config(tmp_path, database)
    code, stderr, seconds = league_bot(*command("backup", config, tmp_path))
    assert_one_line_failure(code, stderr, seconds, database, "check storage.path")


def test_a_backup_to_a_folder_that_cannot_be_created(tmp_path):
    database = a_database(tmp_path / "bot.db")
    config = write_config(tmp_path, database)
    blocker = tmp_path / "copies"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    code, stderr, seconds = league_bot("backup", str(blocker / "backup.db"), "--config", str(config))
    assert_one_line_failure(code, stderr, seconds, blocker / "backup.db", "choose a folder the bot may write")
