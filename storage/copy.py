"""`league-bot copy-db`: every table of one database into another, then the counts compared.

The move path from SQLite's file to PostgreSQL when a county outgrows one machine (or back, to
take a province's data home). The target must be empty: it is migrated to the source's schema
first, then each table is copied in the order the migrations create them (a row's references
are there before it), rows in key order, in one transaction per table. Run it with the bot
stopped: a copy of a database that changes meanwhile is not one moment's copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database, StorageError
from storage.migration_files import available_migrations

_CREATE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE)
_BATCH = 2000


@dataclass(frozen=True)
class TableCopy:
    table: str
    source_rows: int
    target_rows: int

    @property
    def matches(self) -> bool:
        return self.source_rows == self.target_rows


def tables_in_creation_order() -> list[str]:
    """The schema's tables as the migrations create them (schema_migrations is each engine's own)."""
    seen: list[str] = []
    for _, _, sql in available_migrations():
        for name in _CREATE.findall(sql):
            if name not in seen:
                seen.append(name)
    return seen


async def _count(db: Database, table: str) -> int:
    return int(await db.fetch_value(f"SELECT COUNT(*) FROM {table}"))  # noqa: S608 - names from the migrations


async def copy_database(
    source: Database, target: Database, progress: Callable[[str, int], None] | None = None
) -> list[TableCopy]:
    """Copy every table; the counts of each side afterwards. Refuses a target that holds rows."""
    tables = tables_in_creation_order()
    source_version = await source.schema_version()
    target_version = await target.schema_version()
    if source_version != target_version:
        raise StorageError(
            f"the source's schema is version {source_version} and the target's {target_version}:"
            " run league-bot migrate on the source first (with this version of league-bot)"
        )
    filled = [table for table in tables if await _count(target, table)]
    if filled:
        raise StorageError(
            f"{target.label}: not empty ({', '.join(filled[:5])} hold rows); copy into an empty database"
        )
    copies = []
    for table in tables:
        await _copy_table(source, target, table)
        copied = TableCopy(table, await _count(source, table), await _count(target, table))
        if progress is not None:
            progress(table, copied.target_rows)
        copies.append(copied)
    return copies


async def _copy_table(source: Database, target: Database, table: str) -> None:
    first = await source.fetch_one(f"SELECT * FROM {table} LIMIT 1")  # noqa: S608 - names from the migrations
    if first is None:
        return
    columns = list(first.keys())
    # Every column in the ORDER BY: a stable order for the pages whatever the table's key.
    order = ", ".join(str(position) for position in range(1, len(columns) + 1))
    select = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order} LIMIT ? OFFSET ?"  # noqa: S608
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"  # noqa: S608
    offset = 0
    async with target.transaction():
        while rows := await source.fetch_all(select, (_BATCH, offset)):
            await target.execute_many(insert, [tuple(row) for row in rows])
            offset += len(rows)
