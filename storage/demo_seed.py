"""The practice sandbox's database file: marked as the sandbox's, so it is never confused with a
real deployment's (SQLite's `application_id` header field; no migration needed).

Used before the bot's `Database` opens the file, with the standard library's sqlite3 only.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# "LBSX" (league-bot sandbox) as a 32-bit integer, written in the file's header.
SANDBOX_APPLICATION_ID = 0x4C425358


class NotSandboxDatabase(Exception):
    """The file exists and is not the sandbox's (or is no SQLite database at all)."""


def application_id(path: Path) -> int:
    """The header's application_id of an existing file (read-only; nothing is created)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise NotSandboxDatabase(str(error)) from None
    try:
        return int(connection.execute("PRAGMA application_id").fetchone()[0])
    except sqlite3.DatabaseError as error:  # "file is not a database"
        raise NotSandboxDatabase(str(error)) from None
    finally:
        connection.close()


def is_sandbox_database(path: Path) -> bool:
    try:
        return application_id(path) == SANDBOX_APPLICATION_ID
    except NotSandboxDatabase:
        return False


def create_sandbox_database(path: Path) -> None:
    """A new, empty database file carrying the sandbox's mark (the bot then migrates it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.execute(f"PRAGMA application_id = {SANDBOX_APPLICATION_ID}")
        connection.commit()
    finally:
        connection.close()


def remove_sandbox_database(path: Path) -> None:
    """Delete a sandbox database (and its WAL files); refuses a file that is not the sandbox's."""
    if not path.exists():
        return
    if not is_sandbox_database(path):
        raise NotSandboxDatabase(f"{path} is not the sandbox's database")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
