"""The inbox: each update stored before Telegram is told it arrived, and marked done once handled.

The done mark of an update commits with its handler's first transaction (`done_mark`, carried by
`Database.transaction`), so the handler's effects and the mark are one commit: after a crash an
update is handled again only if nothing of it was committed.
"""

from __future__ import annotations

from datetime import datetime

from storage.db import CommitMark, Database, to_db_time

_DONE = "UPDATE inbox SET done_at = ?, payload = NULL WHERE update_id = ? AND done_at IS NULL"
_BATCH = 300  # rows per statement (3 parameters each, far below SQLite's limit)


class DoneMark(CommitMark):
    """The statement that marks `update_id` done (and forgets its payload), to ride on a commit."""

    __slots__ = ("update_id",)

    def __init__(self, update_id: int, now: datetime) -> None:
        super().__init__(_DONE, (to_db_time(now), update_id))
        self.update_id = update_id


class InboxRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def store(self, update_id: int, payload: str, now: datetime) -> bool:
        """Keep the update; False when it is known already (a repeated delivery)."""
        changed = await self.db.changes(
            "INSERT INTO inbox (update_id, payload, received_at, taken_by) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (update_id) DO NOTHING",
            (update_id, payload, to_db_time(now), self.db.instance_id),
        )
        return changed == 1

    async def store_many(self, updates: list[tuple[int, str]], now: datetime) -> set[int]:
        """Keep a batch of updates in one statement; returns the ids that were new."""
        new: set[int] = set()
        for start in range(0, len(updates), _BATCH):
            chunk = updates[start : start + _BATCH]
            rows = await self.db.fetch_all(
                "INSERT INTO inbox (update_id, payload, received_at, taken_by) VALUES "
                + ", ".join("(?, ?, ?, ?)" for _ in chunk)
                + " ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
                [
                    value
                    for update_id, payload in chunk
                    for value in (update_id, payload, to_db_time(now), self.db.instance_id)
                ],
            )
            new.update(row[0] for row in rows)
        return new

    async def mark_many_done(self, update_ids: list[int], now: datetime) -> None:
        """Updates handled without a transaction of their own to carry the mark, in one statement."""
        for start in range(0, len(update_ids), _BATCH):
            chunk = update_ids[start : start + _BATCH]
            await self.db.execute(
                "UPDATE inbox SET done_at = ?, payload = NULL WHERE done_at IS NULL AND update_id IN ("
                + ", ".join("?" for _ in chunk)
                + ")",
                [to_db_time(now), *chunk],
            )

    async def unfinished(self) -> list[tuple[int, str]]:
        """(update id, payload) of every update stored but not done, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT update_id, payload FROM inbox WHERE done_at IS NULL AND payload IS NOT NULL ORDER BY update_id"
        )
        return [(row["update_id"], row["payload"]) for row in rows]

    async def left_behind(self) -> list[tuple[int, str]]:
        """What this process handles first: with SQLite's one process, every update not done (a
        stop or a crash came before); with instances sharing the database, what gone ones left."""
        return await (self.unfinished() if self.db.instance_id is None else self.adopt())

    async def adopt(self) -> list[tuple[int, str]]:
        """Several instances: the updates not done whose instance is gone (died before handling
        them), made this instance's, oldest first. An update another live instance holds is
        left to it; of two instances adopting at once, the conditional UPDATE gives each update
        to one."""
        mine = self.db.instance_id
        owners = await self.db.fetch_all(
            "SELECT DISTINCT taken_by FROM inbox WHERE done_at IS NULL AND payload IS NOT NULL"
            " AND taken_by IS DISTINCT FROM ?",
            (mine,),
        )
        gone = [row[0] for row in owners if row[0] is None or not await self.db.instance_alive(row[0])]
        adopted: list[tuple[int, str]] = []
        for owner in gone:
            rows = await self.db.fetch_all(
                "UPDATE inbox SET taken_by = ? WHERE done_at IS NULL AND payload IS NOT NULL"
                " AND taken_by IS NOT DISTINCT FROM ? RETURNING update_id, payload",
                (mine, owner),
            )
            adopted.extend((row["update_id"], row["payload"]) for row in rows)
        return sorted(adopted)

    async def is_done(self, update_id: int) -> bool | None:
        """True done, False stored and not done, None never stored."""
        row = await self.db.fetch_one("SELECT done_at FROM inbox WHERE update_id = ?", (update_id,))
        return None if row is None else row["done_at"] is not None

    async def purge_done(self, before: datetime) -> int:
        return await self.db.changes(
            "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (to_db_time(before),)
        )
