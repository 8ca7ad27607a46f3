"""What opening SQLite's file takes: its folder, one bot per file, and what a failure means."""

from __future__ import annotations

import fcntl
import sqlite3
from pathlib import Path
from typing import IO

from storage.errors import StorageError


def make_folder(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StorageError(
            f"{path.parent}: cannot create the database's folder ({error.strerror});"
            " create it, or point storage.path at a folder the bot may write"
        ) from None


class OneBotPerFile:
    """One bot per file: a second writer would lead too (send every reminder twice, run every
    job twice). An exclusive lock on `<file>.lock`, which the system drops when the process ends
    however it ends; a reader (a backup) does not take it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def take(self) -> None:
        if str(self.path) == ":memory:" or self._handle is not None:
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        make_folder(self.path)
        try:
            handle = open(lock_path, "a+")  # noqa: SIM115 - held open until release()
        except OSError as error:
            raise StorageError(
                f"{lock_path}: cannot be created ({error.strerror}); check the folder's permissions"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise StorageError(
                f"{self.path}: another league-bot is using this database (it holds {lock_path.name});"
                " stop it first, or for several instances use PostgreSQL (storage.url)"
            ) from None
        self._handle = handle

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()  # closing the descriptor drops the lock


def corrupt_advice(path: Path, detail: str) -> str:
    detail = " ".join(detail.replace("*** in database main ***", "").split())  # SQLite's report spans lines
    return (
        f"{path}: not a readable SQLite database ({detail}); restore the latest backup over it"
        " (league-bot backup makes one), or move it away to start with an empty database"
    )


def opening_failure(path: Path, error: sqlite3.Error, busy_timeout_ms: int) -> StorageError:
    """What an SQLite error met while opening means for the person starting the bot: one line."""
    code = getattr(error, "sqlite_errorname", "") or ""
    if code.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return StorageError(corrupt_advice(path, str(error)))
    if code.startswith("SQLITE_READONLY"):
        return StorageError(
            f"{path}: read-only; the bot must be able to write the file and its folder"
            " (give the user running the bot write access to both, e.g. with chown)"
        )
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StorageError(
            f"{path}: locked by another process for over {busy_timeout_ms} ms (storage.busy_timeout_ms);"
            " stop the other program using it (another league-bot?) and start again"
        )
    if code.startswith("SQLITE_CANTOPEN"):
        return StorageError(
            f"{path}: cannot be opened (is it a folder, or is its folder not accessible?);"
            " check storage.path and the folder's permissions"
        )
    if code.startswith("SQLITE_FULL"):
        return StorageError(f"{path}: the disk is full; free some space and start again")
    return StorageError(f"{path}: cannot be used ({error}); check storage.path, the file and its folder")
