"""Reminders, their occurrences and per-chat deliveries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.model.reminder import ReminderRecord
from storage.db import Database, Row, db_time, from_db_time, to_db_time, written

_COLUMNS = (
    "id, subject_key, target_kind, target_id, text, content_kind, schedule, urgent, state, next_due_at, created_by"
)


def _reminder(row: Row) -> ReminderRecord:
    return ReminderRecord(
        id=row["id"],
        subject_key=row["subject_key"],
        target_kind=row["target_kind"],
        target_id=row["target_id"],
        text=row["text"],
        content_kind=row["content_kind"],
        schedule=json.loads(row["schedule"]),
        urgent=bool(row["urgent"]),
        state=row["state"],
        next_due_at=from_db_time(row["next_due_at"]),
        created_by=row["created_by"],
    )


class ReminderRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        *,
        subject_key: str | None,
        target_kind: str,
        target_id: int | None,
        text: str,
        schedule: dict,
        urgent: bool,
        next_due_at: datetime | None,
        created_by: int | None,
        now: datetime,
        content_kind: str = "text",
    ) -> ReminderRecord:
        new_id = await self.db.execute(
            "INSERT INTO reminders (subject_key, target_kind, target_id, text, content_kind, schedule, urgent,"
            " state, next_due_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)",
            (
                subject_key,
                target_kind,
                target_id,
                text,
                content_kind,
                json.dumps(schedule),
                int(urgent),
                to_db_time(next_due_at),
                created_by,
                to_db_time(now),
            ),
        )
        return written(await self.get(new_id), f"reminder {new_id}")

    async def get(self, reminder_id: int) -> ReminderRecord | None:
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM reminders WHERE id = ?", (reminder_id,))
        return None if row is None else _reminder(row)

    async def by_subject(self, subject_key: str) -> ReminderRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {_COLUMNS} FROM reminders WHERE subject_key = ? AND state <> 'deleted'", (subject_key,)
        )
        return None if row is None else _reminder(row)

    async def active(self) -> list[ReminderRecord]:
        rows = await self.db.fetch_all(
            f"SELECT {_COLUMNS} FROM reminders WHERE state = 'active' AND next_due_at IS NOT NULL ORDER BY next_due_at"
        )
        return [_reminder(row) for row in rows]

    async def visible(self, created_by: int | None = None, chat_record_ids: Sequence[int] = ()) -> list[ReminderRecord]:
        """People's reminders (not the system's); with `created_by`, those they set, and with
        `chat_record_ids` also every reminder into those chats (whoever set it)."""
        sql = f"SELECT {_COLUMNS} FROM reminders WHERE state IN ('active', 'paused') AND subject_key IS NULL"
        params: list[object] = []
        if created_by is not None:
            marks = ", ".join("?" for _ in chat_record_ids)
            into_chats = f" OR (target_kind = 'chat' AND target_id IN ({marks}))" if chat_record_ids else ""
            sql += f" AND (created_by = ?{into_chats})"
            params = [created_by, *chat_record_ids]
        rows = await self.db.fetch_all(sql + " ORDER BY next_due_at", params)
        return [_reminder(row) for row in rows]

    async def set_state(self, reminder_id: int, state: str, next_due_at: datetime | None) -> None:
        await self.db.execute(
            "UPDATE reminders SET state = ?, next_due_at = ? WHERE id = ?",
            (state, to_db_time(next_due_at), reminder_id),
        )

    async def replace_content(
        self,
        reminder_id: int,
        *,
        target_kind: str,
        target_id: int | None,
        text: str,
        schedule: dict,
        urgent: bool,
        next_due_at: datetime | None,
    ) -> None:
        await self.db.execute(
            "UPDATE reminders SET target_kind = ?, target_id = ?, text = ?, schedule = ?, urgent = ?,"
            " state = 'active', next_due_at = ? WHERE id = ?",
            (target_kind, target_id, text, json.dumps(schedule), int(urgent), to_db_time(next_due_at), reminder_id),
        )

    # ---- occurrences and deliveries -----------------------------------------------------
    async def claim_occurrence(self, reminder_id: int, due_at: datetime, outcome: str, now: datetime) -> int | None:
        """Record the attempt before sending; None when this occurrence was already claimed (by this
        process before a crash, or by another instance). ON CONFLICT rather than catching the
        error: PostgreSQL aborts the whole transaction at a failed statement."""
        row = await self.db.fetch_one(
            "INSERT INTO reminder_occurrences (reminder_id, due_at, outcome, claimed_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (reminder_id, due_at) DO NOTHING RETURNING id",
            (reminder_id, to_db_time(due_at), outcome, to_db_time(now)),
        )
        return None if row is None else int(row[0])

    async def occurrence_id(self, reminder_id: int, due_at: datetime) -> int | None:
        return await self.db.fetch_value(
            "SELECT id FROM reminder_occurrences WHERE reminder_id = ? AND due_at = ?",
            (reminder_id, to_db_time(due_at)),
        )

    async def occurrence_due(self, occurrence_id: int) -> datetime | None:
        """When the occurrence was due (its reminder has moved on since)."""
        return from_db_time(
            await self.db.fetch_value("SELECT due_at FROM reminder_occurrences WHERE id = ?", (occurrence_id,))
        )

    async def occurrence(self, occurrence_id: int) -> tuple[int, datetime] | None:
        """(its reminder's id, when it was due)."""
        row = await self.db.fetch_one(
            "SELECT reminder_id, due_at FROM reminder_occurrences WHERE id = ?", (occurrence_id,)
        )
        return None if row is None else (row["reminder_id"], db_time(row["due_at"]))

    async def finish_occurrence(self, occurrence_id: int, outcome: str, now: datetime) -> None:
        await self.db.execute(
            "UPDATE reminder_occurrences SET outcome = ?, finished_at = ? WHERE id = ?",
            (outcome, to_db_time(now), occurrence_id),
        )

    async def unfinished_occurrences(self) -> list[tuple[int, int, datetime]]:
        rows = await self.db.fetch_all(
            "SELECT id, reminder_id, due_at FROM reminder_occurrences WHERE finished_at IS NULL ORDER BY id"
        )
        return [(row["id"], row["reminder_id"], db_time(row["due_at"])) for row in rows]

    async def delivered_chats(self, occurrence_id: int) -> set[int]:
        """Chats with any delivery record: those are never sent this occurrence again."""
        rows = await self.db.fetch_all(
            "SELECT chat_id FROM reminder_deliveries WHERE occurrence_id = ?", (occurrence_id,)
        )
        return {row["chat_id"] for row in rows}

    async def start_delivery(self, occurrence_id: int, chat_id: int, now: datetime) -> bool:
        return (
            await self.db.changes(
                "INSERT INTO reminder_deliveries (occurrence_id, chat_id, status, updated_at)"
                " VALUES (?, ?, 'sending', ?) ON CONFLICT (occurrence_id, chat_id) DO NOTHING",
                (occurrence_id, chat_id, to_db_time(now)),
            )
            == 1
        )

    async def finish_delivery(
        self, occurrence_id: int, chat_id: int, status: str, message_id: int | None, detail: str | None, now: datetime
    ) -> None:
        await self.db.execute(
            "UPDATE reminder_deliveries SET status = ?, message_id = ?, detail = ?, updated_at = ?"
            " WHERE occurrence_id = ? AND chat_id = ?",
            (status, message_id, detail, to_db_time(now), occurrence_id, chat_id),
        )

    async def deliveries(self, occurrence_id: int) -> dict[int, str]:
        rows = await self.db.fetch_all(
            "SELECT chat_id, status FROM reminder_deliveries WHERE occurrence_id = ?", (occurrence_id,)
        )
        return {row["chat_id"]: row["status"] for row in rows}
