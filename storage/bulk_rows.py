"""Rows of the benchmark seeds (storage/bulk_seed*.py) written in large batches through the
database interface (`Database.execute_many`), so the same seed fills any backend and a
province-sized seed (millions of contacts) never holds all its rows at once.

    rows = BulkRows(db, ACTIVITIES_SQL, ATTENDANCE_SQL)
    rows.add(ACTIVITIES_SQL, (...))
    if rows.full:
        await rows.flush()
    ...
    await rows.flush()

A flush writes the statements in the order given to the constructor, so rows that others refer
to (activities before their attendance) always reach the database first. Call it inside the
caller's `db.transaction()`.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Database

BATCH = 20_000  # rows held before a flush: ~10 MB of tuples, and few trips to the database


class BulkRows:
    def __init__(self, db: Database, *statements: str, batch: int = BATCH) -> None:
        self.db = db
        self.batch = batch
        self._rows: dict[str, list[Sequence[object]]] = {sql: [] for sql in statements}
        self.written: dict[str, int] = dict.fromkeys(statements, 0)

    def add(self, sql: str, row: Sequence[object]) -> None:
        self._rows[sql].append(row)

    def count(self, sql: str) -> int:
        """Rows of `sql` added so far, written or not."""
        return self.written[sql] + len(self._rows[sql])

    @property
    def full(self) -> bool:
        return any(len(rows) >= self.batch for rows in self._rows.values())

    async def flush(self) -> None:
        for sql, rows in self._rows.items():
            if rows:
                await self.db.execute_many(sql, rows)
                self.written[sql] += len(rows)
                rows.clear()
