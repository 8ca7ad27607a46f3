"""Duties a person holds on behalf of an organisation, moved in one statement each when they stop
acting for it, and the record of each departure (bot/domain/turnover.py decides what moves)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.model.wish import wish_code
from storage.db import Database, Row, from_db_time, to_db_time, written

# A claim is held while these last (the claimer buys, delivers, waits for the confirmation).
_CLAIM_STATES = "('claimed', 'purchased', 'delivered')"


@dataclass(frozen=True)
class HeldItem:
    """One duty as the database holds it: its id, a public label (never a child's details), a due time."""

    subject_id: int
    label: str
    due_at: datetime | None


@dataclass(frozen=True)
class DepartureRecord:
    id: int
    org_id: int
    user_id: int
    receiver_id: int | None
    reason: str
    actor_id: int
    notice_days: int
    at: datetime


@dataclass(frozen=True)
class TransferRecord:
    kind: str
    subject_id: int
    label: str
    due_at: datetime | None


def _items(rows: list[Row]) -> list[HeldItem]:
    return [HeldItem(row["id"], row["label"], from_db_time(row["due_at"])) for row in rows]


def _ids(items: list[HeldItem]) -> tuple[str, list[int]]:
    return ", ".join("?" for _ in items), [item.subject_id for item in items]


class DutyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- wish claims (and their deadline reminders) -----------------------------------------
    async def claims(self, user_id: int, org_id: int) -> list[HeldItem]:
        rows = await self.db.fetch_all(
            "SELECT id, text AS label, deadline AS due_at FROM wishes"
            f" WHERE claimed_by_user = ? AND claimed_by_org = ? AND status IN {_CLAIM_STATES} ORDER BY id",
            (user_id, org_id),
        )
        return [
            HeldItem(item.subject_id, f"{wish_code(item.subject_id)} {item.label}", item.due_at)
            for item in _items(rows)
        ]

    async def move_claims(self, items: list[HeldItem], user_id: int, receiver_id: int, now: datetime) -> None:
        """The claims, and the deadline reminders that follow them (subject keys wish:N:…)."""
        if not items:
            return
        marks, ids = _ids(items)
        await self.db.execute(
            f"UPDATE wishes SET claimed_by_user = ?, updated_at = ? WHERE id IN ({marks}) AND claimed_by_user = ?",
            (receiver_id, to_db_time(now), *ids, user_id),
        )
        subjects = [f"wish:{wish_id}:{tag}" for wish_id in ids for tag in ("3d", "1d")]
        await self.db.execute(
            f"UPDATE reminders SET target_id = ? WHERE target_kind = 'person' AND target_id = ?"
            f" AND state <> 'deleted' AND subject_key IN ({', '.join('?' for _ in subjects)})",
            (receiver_id, user_id, *subjects),
        )

    # ---- reminders set into a group (or the hub) ------------------------------------------------
    async def group_reminders(self, user_id: int, chat_record_id: int | None, *, county: bool) -> list[HeldItem]:
        """People's reminders the person set into the organisation's group; with `county`, also
        those into the hub or all groups (the county's, moved when a county admin steps down)."""
        where = ["target_kind = 'chat' AND target_id = ?"] if chat_record_id is not None else []
        params: list[object] = [user_id]
        if chat_record_id is not None:
            params.append(chat_record_id)
        if county:
            where.append("target_kind IN ('hub', 'all_groups')")
        if not where:
            return []
        rows = await self.db.fetch_all(
            "SELECT id, substr(text, 1, 40) AS label, next_due_at AS due_at FROM reminders"
            " WHERE created_by = ? AND subject_key IS NULL AND state IN ('active', 'paused')"
            f" AND ({' OR '.join(where)}) ORDER BY id",
            params,
        )
        return _items(rows)

    async def move_reminders(self, items: list[HeldItem], user_id: int, receiver_id: int) -> None:
        if items:
            marks, ids = _ids(items)
            await self.db.execute(
                f"UPDATE reminders SET created_by = ? WHERE id IN ({marks}) AND created_by = ?",
                (receiver_id, *ids, user_id),
            )

    # ---- activities they organise -----------------------------------------------------------------
    async def activities(self, user_id: int, org_id: int, now: datetime) -> list[HeldItem]:
        """Published activities not over, or over without their summary yet."""
        rows = await self.db.fetch_all(
            "SELECT id, title AS label, starts_at AS due_at FROM activities WHERE org_id = ? AND created_by = ?"
            " AND state = 'published' AND (ends_at > ? OR summary_sent_at IS NULL) ORDER BY starts_at, id",
            (org_id, user_id, to_db_time(now)),
        )
        return _items(rows)

    async def move_activities(self, items: list[HeldItem], user_id: int, receiver_id: int) -> None:
        if items:
            marks, ids = _ids(items)
            await self.db.execute(
                f"UPDATE activities SET created_by = ? WHERE id IN ({marks}) AND created_by = ?",
                (receiver_id, *ids, user_id),
            )

    # ---- auction sessions they created ------------------------------------------------------------
    async def sessions(self, user_id: int) -> list[HeldItem]:
        rows = await self.db.fetch_all(
            "SELECT id, title AS label, starts_at AS due_at FROM auction_sessions"
            " WHERE created_by = ? AND state IN ('scheduled', 'live') ORDER BY starts_at, id",
            (user_id,),
        )
        return _items(rows)

    async def move_sessions(self, items: list[HeldItem], user_id: int, receiver_id: int) -> None:
        if items:
            marks, ids = _ids(items)
            await self.db.execute(
                f"UPDATE auction_sessions SET created_by = ? WHERE id IN ({marks}) AND created_by = ?",
                (receiver_id, *ids, user_id),
            )

    # ---- pending join requests ---------------------------------------------------------------------
    async def pending_joins(self, org_id: int) -> list[HeldItem]:
        rows = await self.db.fetch_all(
            "SELECT r.id, p.display_name AS label, r.created_at AS due_at FROM join_requests r"
            " JOIN people p ON p.user_id = r.user_id WHERE r.org_id = ? AND r.status = 'pending' ORDER BY r.id",
            (org_id,),
        )
        return _items(rows)

    # ---- departures ---------------------------------------------------------------------------------
    async def add_departure(
        self,
        *,
        org_id: int,
        user_id: int,
        receiver_id: int | None,
        reason: str,
        actor_id: int,
        notice_days: int,
        now: datetime,
    ) -> DepartureRecord:
        new_id = await self.db.execute(
            "INSERT INTO departures (org_id, user_id, receiver_id, reason, actor_id, notice_days, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (org_id, user_id, receiver_id, reason, actor_id, notice_days, to_db_time(now)),
        )
        return written(await self.departure(new_id), f"departure {new_id}")

    async def departure(self, departure_id: int) -> DepartureRecord | None:
        row = await self.db.fetch_one(
            "SELECT id, org_id, user_id, receiver_id, reason, actor_id, notice_days, at FROM departures WHERE id = ?",
            (departure_id,),
        )
        if row is None:
            return None
        return DepartureRecord(
            id=row["id"],
            org_id=row["org_id"],
            user_id=row["user_id"],
            receiver_id=row["receiver_id"],
            reason=row["reason"],
            actor_id=row["actor_id"],
            notice_days=row["notice_days"],
            at=written(from_db_time(row["at"]), "departure time"),
        )

    async def add_transfers(self, departure_id: int, kind: str, items: list[HeldItem]) -> None:
        await self.db.execute_many(
            "INSERT INTO duty_transfers (departure_id, kind, subject_id, label, due_at) VALUES (?, ?, ?, ?, ?)",
            [(departure_id, kind, item.subject_id, item.label, to_db_time(item.due_at)) for item in items],
        )

    async def transfers(self, departure_id: int) -> list[TransferRecord]:
        rows = await self.db.fetch_all(
            "SELECT kind, subject_id, label, due_at FROM duty_transfers WHERE departure_id = ? ORDER BY id",
            (departure_id,),
        )
        return [
            TransferRecord(row["kind"], row["subject_id"], row["label"], from_db_time(row["due_at"])) for row in rows
        ]
