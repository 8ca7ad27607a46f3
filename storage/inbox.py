"""The inbox: each update stored before Telegram is told it arrived, and marked done once handled.

The done mark of an update commits with its handler's first transaction (`done_mark`, carried by
`Database.transaction`), so the handler's effects and the mark are one commit: after a crash an
update is handled again only if nothing of it was committed.
"""

from __future__ import annotations

from datetime import datetime

from storage.db import CommitMark, Database, to_db_time

_DONE = "UPDATE inbox SET done_at = ?, payload = NULL WHERE update_id = ? AND done_at IS NULL"


def done_mark(update_id: int, now: datetime) -> CommitMark:
    """The statement that marks `update_id` done (and forgets its payload), to ride on a commit."""
    return CommitMark(_DONE, (to_db_time(now), update_id))


class InboxRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def store(self, update_id: int, payload: str, now: datetime) -> bool:
        """Keep the update; False when it is known already (a repeated delivery)."""
        changed = await self.db.changes(
            "INSERT INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?) ON CONFLICT (update_id) DO NOTHING",
            (update_id, payload, to_db_time(now)),
        )
        return changed == 1

    async def unfinished(self) -> list[tuple[int, str]]:
        """(update id, payload) of every update stored but not done, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT update_id, payload FROM inbox WHERE done_at IS NULL AND payload IS NOT NULL ORDER BY update_id"
        )
        return [(row["update_id"], row["payload"]) for row in rows]

    async def mark_done(self, mark: CommitMark) -> None:
        """The update is handled (its handler committed nothing, or the mark is not yet written)."""
        if mark.committed:
            return
        await self.db.execute(mark.sql, mark.params)
        mark.committed = True

    async def is_done(self, update_id: int) -> bool | None:
        """True done, False stored and not done, None never stored."""
        row = await self.db.fetch_one("SELECT done_at FROM inbox WHERE update_id = ?", (update_id,))
        return None if row is None else row["done_at"] is not None

    async def purge_done(self, before: datetime) -> int:
        return await self.db.changes(
            "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (to_db_time(before),)
        )
