"""Conversation state per user, so a restart never loses the step someone is on."""

from __future__ import annotations

import json
from datetime import datetime

from bot.model.organisation import Conversation
from storage.db import Database, to_db_time


class ConversationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> Conversation | None:
        row = await self.db.fetch_one(
            "SELECT user_id, flow, step, data FROM conversations WHERE user_id = ?", (user_id,)
        )
        if row is None:
            return None
        return Conversation(user_id=row["user_id"], flow=row["flow"], step=row["step"], data=json.loads(row["data"]))

    async def save(self, user_id: int, flow: str, step: str, data: dict[str, object], now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO conversations (user_id, flow, step, data, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET flow = excluded.flow, step = excluded.step,"
            " data = excluded.data, updated_at = excluded.updated_at",
            (user_id, flow, step, json.dumps(data, ensure_ascii=False), to_db_time(now)),
        )

    async def clear(self, user_id: int) -> bool:
        return await self.db.changes("DELETE FROM conversations WHERE user_id = ?", (user_id,)) == 1
