"""Memberships, join requests and handovers: who holds which role in which organisation."""

from __future__ import annotations

from datetime import datetime

from bot.model.organisation import Handover, JoinRequest, Membership, Role
from storage.db import Database, Row, db_time, from_db_time, to_db_time, written

_MEMBERSHIP = "id, org_id, user_id, role, started_at, ended_at, end_reason"
_REQUEST = "id, org_id, user_id, status, created_at, decided_by"
_HANDOVER = "id, org_id, from_user_id, to_user_id, status, created_at, notice_days"


def _membership(row: Row) -> Membership:
    return Membership(
        id=row["id"],
        org_id=row["org_id"],
        user_id=row["user_id"],
        role=Role(row["role"]),
        started_at=db_time(row["started_at"]),
        ended_at=from_db_time(row["ended_at"]),
        end_reason=row["end_reason"],
    )


def _request(row: Row) -> JoinRequest:
    return JoinRequest(
        id=row["id"],
        org_id=row["org_id"],
        user_id=row["user_id"],
        status=row["status"],
        created_at=db_time(row["created_at"]),
        decided_by=row["decided_by"],
    )


def _handover(row: Row) -> Handover:
    return Handover(
        id=row["id"],
        org_id=row["org_id"],
        from_user_id=row["from_user_id"],
        to_user_id=row["to_user_id"],
        status=row["status"],
        created_at=db_time(row["created_at"]),
        notice_days=row["notice_days"],
    )


class MembershipRepository:
    """Current memberships are read on every permission check; they are cached per person and
    forgotten on every write here (the only place that writes them) and on a rollback."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._current: dict[int, list[Membership]] = db.row_cache()

    # ---- memberships --------------------------------------------------------------------
    async def current(self, org_id: int, user_id: int) -> Membership | None:
        return next((m for m in await self.of_user(user_id) if m.org_id == org_id), None)

    async def of_user(self, user_id: int) -> list[Membership]:
        current = self._current.get(user_id)
        if current is None:
            rows = await self.db.fetch_all(
                f"SELECT {_MEMBERSHIP} FROM memberships WHERE user_id = ? AND ended_at IS NULL ORDER BY org_id",
                (user_id,),
            )
            current = self._current[user_id] = [_membership(row) for row in rows]
        return list(current)

    async def of_org(self, org_id: int, role: Role | None = None) -> list[Membership]:
        sql = f"SELECT {_MEMBERSHIP} FROM memberships WHERE org_id = ? AND ended_at IS NULL"
        params: list[object] = [org_id]
        if role is not None:
            sql += " AND role = ?"
            params.append(role.value)
        rows = await self.db.fetch_all(sql + " ORDER BY started_at, id", params)
        return [_membership(row) for row in rows]

    async def history(self, org_id: int) -> list[Membership]:
        rows = await self.db.fetch_all(
            f"SELECT {_MEMBERSHIP} FROM memberships WHERE org_id = ? ORDER BY started_at, id", (org_id,)
        )
        return [_membership(row) for row in rows]

    async def grant(self, org_id: int, user_id: int, role: Role, granted_by: int | None, now: datetime) -> None:
        self._current.pop(user_id, None)
        await self.db.execute(
            "INSERT INTO memberships (org_id, user_id, role, granted_by, started_at) VALUES (?, ?, ?, ?, ?)",
            (org_id, user_id, role.value, granted_by, to_db_time(now)),
        )

    async def end(self, membership_id: int, reason: str, now: datetime, *, read_until: datetime | None = None) -> bool:
        """End a current membership; False when it had ended already (someone else ended it
        first: of two racing changes exactly one ends it). `read_until`: a notice period."""
        self._current.clear()  # ending is rare; the membership id does not name its person
        changed = await self.db.changes(
            "UPDATE memberships SET ended_at = ?, end_reason = ?, read_until = ? WHERE id = ? AND ended_at IS NULL",
            (to_db_time(now), reason, to_db_time(read_until), membership_id),
        )
        return changed == 1

    async def in_notice(self, user_id: int, now: datetime) -> list[int]:
        """The organisations the person left whose notice period is still running."""
        rows = await self.db.fetch_all(
            "SELECT DISTINCT org_id FROM memberships WHERE user_id = ? AND ended_at IS NOT NULL AND read_until > ?"
            " ORDER BY org_id",
            (user_id, to_db_time(now)),
        )
        return [row["org_id"] for row in rows]

    async def current_all(self) -> list[Membership]:
        """Every current membership (for the tenure figures)."""
        rows = await self.db.fetch_all(f"SELECT {_MEMBERSHIP} FROM memberships WHERE ended_at IS NULL ORDER BY id")
        return [_membership(row) for row in rows]

    async def role_changes(self) -> list[Membership]:
        """Memberships ended by a role change: a tenure runs on across them."""
        rows = await self.db.fetch_all(
            f"SELECT {_MEMBERSHIP} FROM memberships WHERE end_reason = 'role_change' ORDER BY id"
        )
        return [_membership(row) for row in rows]

    # ---- join requests ------------------------------------------------------------------
    async def open_request(self, org_id: int, user_id: int, now: datetime) -> JoinRequest:
        new_id = await self.db.execute(
            "INSERT INTO join_requests (org_id, user_id, status, created_at) VALUES (?, ?, 'pending', ?)",
            (org_id, user_id, to_db_time(now)),
        )
        return written(await self.request(new_id), f"join request {new_id}")

    async def request(self, request_id: int) -> JoinRequest | None:
        row = await self.db.fetch_one(f"SELECT {_REQUEST} FROM join_requests WHERE id = ?", (request_id,))
        return None if row is None else _request(row)

    async def pending_request(self, org_id: int, user_id: int) -> JoinRequest | None:
        row = await self.db.fetch_one(
            f"SELECT {_REQUEST} FROM join_requests WHERE org_id = ? AND user_id = ? AND status = 'pending'",
            (org_id, user_id),
        )
        return None if row is None else _request(row)

    async def pending_requests(self, org_id: int) -> list[JoinRequest]:
        rows = await self.db.fetch_all(
            f"SELECT {_REQUEST} FROM join_requests WHERE org_id = ? AND status = 'pending' ORDER BY id",
            (org_id,),
        )
        return [_request(row) for row in rows]

    async def decide_request(self, request_id: int, status: str, decided_by: int, now: datetime) -> bool:
        """Close a pending request; False when someone else decided it first."""
        changed = await self.db.changes(
            "UPDATE join_requests SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
            (status, decided_by, to_db_time(now), request_id),
        )
        return changed == 1

    # ---- handovers ----------------------------------------------------------------------
    async def open_handover(
        self, org_id: int, from_user_id: int, to_user_id: int, now: datetime, notice_days: int = 0
    ) -> Handover:
        await self.db.execute(
            "UPDATE handovers SET status = 'cancelled', decided_at = ?"
            " WHERE org_id = ? AND from_user_id = ? AND status = 'pending'",
            (to_db_time(now), org_id, from_user_id),
        )
        new_id = await self.db.execute(
            "INSERT INTO handovers (org_id, from_user_id, to_user_id, status, created_at, notice_days)"
            " VALUES (?, ?, ?, 'pending', ?, ?)",
            (org_id, from_user_id, to_user_id, to_db_time(now), notice_days),
        )
        return written(await self.handover(new_id), f"handover {new_id}")

    async def handover(self, handover_id: int) -> Handover | None:
        row = await self.db.fetch_one(f"SELECT {_HANDOVER} FROM handovers WHERE id = ?", (handover_id,))
        return None if row is None else _handover(row)

    async def decide_handover(self, handover_id: int, status: str, now: datetime) -> bool:
        changed = await self.db.changes(
            "UPDATE handovers SET status = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
            (status, to_db_time(now), handover_id),
        )
        return changed == 1
