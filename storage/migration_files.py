"""The migrations as files (`storage/migrations/NNNN_name.sql`) and SQLite's statement splitter."""

from __future__ import annotations

import sqlite3
from importlib import resources

from storage.errors import StorageError


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
