"""Append-only audit log: who did what to which subject."""

from __future__ import annotations

import json
from datetime import datetime

from storage.db import Database, to_db_time


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, now: datetime, actor_id: int | None, action: str, subject: str, **details) -> None:
        await self.db.execute(
            "INSERT INTO audit_log (at, actor_id, action, subject, details) VALUES (?, ?, ?, ?, ?)",
            (to_db_time(now), actor_id, action, subject, json.dumps(details, ensure_ascii=False)),
        )

    async def for_subject(self, subject: str) -> list[tuple[str, int | None, str, dict]]:
        rows = await self.db.fetch_all(
            "SELECT at, actor_id, action, details FROM audit_log WHERE subject = ? ORDER BY id", (subject,)
        )
        return [(row["at"], row["actor_id"], row["action"], json.loads(row["details"])) for row in rows]
