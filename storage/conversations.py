"""Conversation state per user, so a restart never loses the step someone is on.

A conversation left idle past its expiry becomes a tombstone: the row keeps only the user id and
when it expired (flow "", no data), so whoever comes back can be told; everything typed into it
is gone (secure_delete overwrites it in the file). Tombstones are deleted after a while too.
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.model.organisation import Conversation
from storage.db import Database, db_time, to_db_time

EXPIRED_FLOW = ""  # no real flow has an empty name


class ConversationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> Conversation | None:
        """The person's conversation (a tombstone has flow EXPIRED_FLOW), without its time."""
        found = await self.get_with_time(user_id)
        return None if found is None else found[0]

    async def get_with_time(self, user_id: int) -> tuple[Conversation, datetime] | None:
        row = await self.db.fetch_one(
            "SELECT user_id, flow, step, data, updated_at FROM conversations WHERE user_id = ?", (user_id,)
        )
        if row is None:
            return None
        state = Conversation(user_id=row["user_id"], flow=row["flow"], step=row["step"], data=json.loads(row["data"]))
        return state, db_time(row["updated_at"])

    async def save(self, user_id: int, flow: str, step: str, data: dict[str, object], now: datetime) -> None:
        # A transaction of its own (or the caller's): a step taken carries the update's "done"
        # mark of the inbox (storage/inbox.py), so the input is never applied twice after a crash.
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO conversations (user_id, flow, step, data, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET flow = excluded.flow, step = excluded.step,"
                " data = excluded.data, updated_at = excluded.updated_at",
                (user_id, flow, step, json.dumps(data, ensure_ascii=False), to_db_time(now)),
            )

    async def clear(self, user_id: int) -> bool:
        """Delete the person's row; True when it was a live conversation (not a tombstone)."""
        async with self.db.transaction():  # as `save`: carries the update's "done" mark
            row = await self.db.fetch_one("DELETE FROM conversations WHERE user_id = ? RETURNING flow", (user_id,))
        return row is not None and row["flow"] != EXPIRED_FLOW

    async def expire(self, idle_since: datetime, now: datetime) -> int:
        """Turn every conversation untouched since `idle_since` (inclusive) into a tombstone."""
        return await self.db.changes(
            "UPDATE conversations SET flow = ?, step = '', data = '{}', updated_at = ?"
            " WHERE flow != ? AND updated_at <= ?",
            (EXPIRED_FLOW, to_db_time(now), EXPIRED_FLOW, to_db_time(idle_since)),
        )

    async def expire_one(self, user_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE conversations SET flow = ?, step = '', data = '{}', updated_at = ? WHERE user_id = ?",
            (EXPIRED_FLOW, to_db_time(now), user_id),
        )

    async def forget_tombstones(self, expired_before: datetime) -> int:
        return await self.db.changes(
            "DELETE FROM conversations WHERE flow = ? AND updated_at < ?", (EXPIRED_FLOW, to_db_time(expired_before))
        )
