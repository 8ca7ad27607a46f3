"""Sunshine Home's pairs and their contacts: SQL only.

Every state change is one conditional UPDATE whose WHERE names the state it expects, and reports
whether it changed the row, so two concurrent callers can never both apply it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bot.model.sunshine import (
    Contact,
    ContactDraft,
    ContactKind,
    EndReason,
    Pair,
    PairStatus,
    QuietPair,
    Support,
)
from storage.db import Database, Row, db_time, from_db_time, to_db_time, written

_PAIR_COLUMNS = (
    "p.id, p.child_id, p.volunteer_id, p.org_id, p.support, p.rhythm_days, p.status, p.proposed_by,"
    " p.proposed_at, p.started_on, p.ended_at, p.end_reason, p.reminded_for, p.escalated_for"
)
_LIVE = "('proposed', 'active')"


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _pair(row: Row) -> Pair:
    return Pair(
        id=row["id"],
        child_id=row["child_id"],
        volunteer_id=row["volunteer_id"],
        org_id=row["org_id"],
        support=Support(row["support"]),
        rhythm_days=row["rhythm_days"],
        status=PairStatus(row["status"]),
        proposed_by=row["proposed_by"],
        proposed_at=db_time(row["proposed_at"]),
        started_on=_day(row["started_on"]),
        ended_at=from_db_time(row["ended_at"]),
        end_reason=EndReason(row["end_reason"]) if row["end_reason"] else None,
        reminded_for=_day(row["reminded_for"]),
        escalated_for=_day(row["escalated_for"]),
    )


def _contact(row: Row) -> Contact:
    return Contact(
        id=row["id"],
        pair_id=row["pair_id"],
        contact_on=date.fromisoformat(row["contact_on"]),
        kind=ContactKind(row["kind"]),
        minutes=row["minutes"],
        note=row["note"],
        photo_file_id=row["photo_file_id"],
        created_at=db_time(row["created_at"]),
    )


class PairRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- pairs ------------------------------------------------------------------------------
    async def propose(
        self,
        child_id: int,
        volunteer_id: int,
        org_id: int,
        support: Support,
        rhythm_days: int,
        actor_id: int,
        now: datetime,
    ) -> Pair:
        pair_id = await self.db.execute(
            "INSERT INTO pairs (child_id, volunteer_id, org_id, support, rhythm_days, status, proposed_by, proposed_at)"
            " VALUES (?, ?, ?, ?, ?, 'proposed', ?, ?)",
            (child_id, volunteer_id, org_id, support.value, rhythm_days, actor_id, to_db_time(now)),
        )
        return written(await self.get(pair_id), f"pair {pair_id}")

    async def get(self, pair_id: int) -> Pair | None:
        row = await self.db.fetch_one(f"SELECT {_PAIR_COLUMNS} FROM pairs p WHERE p.id = ?", (pair_id,))
        return None if row is None else _pair(row)

    async def live_of_child(self, child_id: int) -> list[Pair]:
        rows = await self.db.fetch_all(
            f"SELECT {_PAIR_COLUMNS} FROM pairs p WHERE p.child_id = ? AND p.status IN {_LIVE} ORDER BY p.id",
            (child_id,),
        )
        return [_pair(row) for row in rows]

    async def live_of_volunteer(self, volunteer_id: int) -> list[Pair]:
        rows = await self.db.fetch_all(
            f"SELECT {_PAIR_COLUMNS} FROM pairs p WHERE p.volunteer_id = ? AND p.status IN {_LIVE} ORDER BY p.id",
            (volunteer_id,),
        )
        return [_pair(row) for row in rows]

    async def of_orgs(self, org_ids: Sequence[int] | None) -> list[Pair]:
        where, params = _org_filter("p.org_id", org_ids)
        rows = await self.db.fetch_all(f"SELECT {_PAIR_COLUMNS} FROM pairs p WHERE 1 = 1{where} ORDER BY p.id", params)
        return [_pair(row) for row in rows]

    async def accept(self, pair_id: int, started_on: date, now: datetime) -> bool:
        return bool(
            await self.db.changes(
                "UPDATE pairs SET status = 'active', started_at = ?, started_on = ?"
                " WHERE id = ? AND status = 'proposed'",
                (to_db_time(now), started_on.isoformat(), pair_id),
            )
        )

    async def decline(self, pair_id: int, now: datetime) -> bool:
        return bool(
            await self.db.changes(
                "UPDATE pairs SET status = 'declined', ended_at = ? WHERE id = ? AND status = 'proposed'",
                (to_db_time(now), pair_id),
            )
        )

    async def end(self, pair_id: int, reason: EndReason, now: datetime) -> bool:
        """An active pair ends; a proposal not yet answered is withdrawn (declined) instead."""
        ended = await self.db.changes(
            "UPDATE pairs SET status = 'ended', ended_at = ?, end_reason = ? WHERE id = ? AND status = 'active'",
            (to_db_time(now), reason.value, pair_id),
        )
        return bool(ended) or await self.decline(pair_id, now)

    # ---- quiet pairs ---------------------------------------------------------------------------
    async def quiet_candidates(self) -> list[QuietPair]:
        """Every active pair with the day its quiet spell began (last contact, else the start)."""
        rows = await self.db.fetch_all(
            f"SELECT {_PAIR_COLUMNS}, COALESCE((SELECT MAX(c.contact_on) FROM contacts c WHERE c.pair_id = p.id),"
            " p.started_on) AS since FROM pairs p WHERE p.status = 'active' ORDER BY p.id"
        )
        return [QuietPair(_pair(row), date.fromisoformat(row["since"])) for row in rows]

    async def mark_reminded(self, pair_id: int, since: date) -> bool:
        """Once per quiet spell: False when this spell's reminder was queued already."""
        return bool(
            await self.db.changes(
                "UPDATE pairs SET reminded_for = ? WHERE id = ? AND status = 'active'"
                " AND (reminded_for IS NULL OR reminded_for <> ?)",
                (since.isoformat(), pair_id, since.isoformat()),
            )
        )

    async def mark_escalated(self, pair_id: int, since: date) -> bool:
        return bool(
            await self.db.changes(
                "UPDATE pairs SET escalated_for = ? WHERE id = ? AND status = 'active'"
                " AND (escalated_for IS NULL OR escalated_for <> ?)",
                (since.isoformat(), pair_id, since.isoformat()),
            )
        )

    # ---- contacts --------------------------------------------------------------------------------
    async def add_contact(self, draft: ContactDraft, key: str, actor_id: int, now: datetime) -> bool:
        """False when a contact with this idempotency key is stored already (a double tap)."""
        return bool(
            await self.db.changes(
                "INSERT INTO contacts (pair_id, contact_on, kind, minutes, note, photo_file_id, idempotency_key,"
                " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (idempotency_key) DO NOTHING",
                (
                    draft.pair_id,
                    draft.contact_on.isoformat(),
                    draft.kind.value,
                    draft.minutes,
                    draft.note,
                    draft.photo_file_id,
                    key,
                    actor_id,
                    to_db_time(now),
                ),
            )
        )

    async def contact_by_key(self, key: str) -> Contact | None:
        row = await self.db.fetch_one("SELECT * FROM contacts WHERE idempotency_key = ?", (key,))
        return None if row is None else _contact(row)

    async def contacts_of(self, pair_id: int) -> list[Contact]:
        rows = await self.db.fetch_all("SELECT * FROM contacts WHERE pair_id = ? ORDER BY contact_on, id", (pair_id,))
        return [_contact(row) for row in rows]


def _org_filter(column: str, org_ids: Sequence[int] | None) -> tuple[str, list[object]]:
    """An SQL condition (with its params) keeping rows of those organisations; None: all."""
    if org_ids is None:
        return "", []
    return f" AND {column} IN ({', '.join('?' for _ in org_ids) or 'NULL'})", list(org_ids)
