"""Sunshine Home's children, their private details, volunteers' profiles and group sessions: SQL only.

Two tables kept apart on purpose: `children` (public: alias, grade, needs, status) and
`child_private`. Only the `*_private` methods read or write `child_private`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from bot.model.sunshine import (
    Availability,
    Child,
    ChildDraft,
    ChildPrivate,
    ChildStatus,
    LeaveReason,
    Origin,
    VolunteerKind,
    VolunteerProfile,
)
from storage.db import Database, Row, db_time, from_db_time, to_db_time, written

_CHILD_COLUMNS = "id, org_id, alias, grade, needs, consent, status, left_at, left_reason, private_purged_at, created_at"


def _child(row: Row) -> Child:
    return Child(
        id=row["id"],
        org_id=row["org_id"],
        alias=row["alias"],
        grade=row["grade"],
        needs=tuple(json.loads(row["needs"])),
        consent=bool(row["consent"]),
        status=ChildStatus(row["status"]),
        left_at=from_db_time(row["left_at"]),
        left_reason=LeaveReason(row["left_reason"]) if row["left_reason"] else None,
        private_purged_at=from_db_time(row["private_purged_at"]),
        created_at=db_time(row["created_at"]),
    )


def _private(row: Row) -> ChildPrivate:
    birth = row["birth_date"]
    return ChildPrivate(
        real_name=row["real_name"],
        birth_date=date.fromisoformat(birth) if birth else None,
        guardian=row["guardian"],
        guardian_phone=row["guardian_phone"],
        address=row["address"],
        notes=row["notes"],
    )


def _profile(row: Row) -> VolunteerProfile:
    return VolunteerProfile(
        user_id=row["user_id"],
        kind=VolunteerKind(row["kind"]) if row["kind"] else None,
        employer=row["employer"],
        skills=tuple(json.loads(row["skills"])),
        availability=tuple(Availability(value) for value in json.loads(row["availability"])),
        home_area=row["home_area"],
        origin=Origin(row["origin"]) if row["origin"] else None,
        counsellor_confirmed=row["counsellor_confirmed_by"] is not None,
    )


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


class ChildRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- children ---------------------------------------------------------------------------
    async def add(self, draft: ChildDraft, actor_id: int, now: datetime) -> Child:
        child_id = await self.db.execute(
            "INSERT INTO children (org_id, alias, grade, needs, consent, consent_recorded_at,"
            " consent_recorded_by, status, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
            (
                draft.org_id,
                draft.alias,
                draft.grade,
                json.dumps(list(draft.needs), ensure_ascii=False),
                int(draft.consent),
                to_db_time(now),
                actor_id,
                actor_id,
                to_db_time(now),
            ),
        )
        return written(await self.get(child_id), f"child {child_id}")

    async def get(self, child_id: int) -> Child | None:
        row = await self.db.fetch_one(f"SELECT {_CHILD_COLUMNS} FROM children WHERE id = ?", (child_id,))
        return None if row is None else _child(row)

    async def many(self, child_ids: Sequence[int]) -> dict[int, Child]:
        if not child_ids:
            return {}
        rows = await self.db.fetch_all(
            f"SELECT {_CHILD_COLUMNS} FROM children WHERE id IN ({_marks(child_ids)})", list(child_ids)
        )
        return {row["id"]: _child(row) for row in rows}

    async def of_orgs(self, org_ids: Sequence[int], *, active_only: bool = True) -> list[Child]:
        if not org_ids:
            return []
        status = " AND status = 'active'" if active_only else ""
        rows = await self.db.fetch_all(
            f"SELECT {_CHILD_COLUMNS} FROM children WHERE org_id IN ({_marks(org_ids)}){status} ORDER BY id",
            list(org_ids),
        )
        return [_child(row) for row in rows]

    async def active_keys(self, org_ids: Sequence[int]) -> set[tuple[int, str, str]]:
        """(organisation, alias, grade) of the active children: what a duplicate would repeat."""
        if not org_ids:
            return set()
        rows = await self.db.fetch_all(
            f"SELECT org_id, alias, grade FROM children WHERE status = 'active' AND org_id IN ({_marks(org_ids)})",
            list(org_ids),
        )
        return {(row["org_id"], row["alias"], row["grade"]) for row in rows}

    async def set_consent(self, child_id: int, consent: bool, actor_id: int, now: datetime) -> bool:
        return bool(
            await self.db.changes(
                "UPDATE children SET consent = ?, consent_recorded_at = ?, consent_recorded_by = ?"
                " WHERE id = ? AND consent <> ?",
                (int(consent), to_db_time(now), actor_id, child_id, int(consent)),
            )
        )

    async def leave(self, child_id: int, reason: LeaveReason, now: datetime) -> bool:
        return bool(
            await self.db.changes(
                "UPDATE children SET status = 'left', left_at = ?, left_reason = ? WHERE id = ? AND status = 'active'",
                (to_db_time(now), reason.value, child_id),
            )
        )

    # ---- private details ------------------------------------------------------------------------
    async def get_private(self, child_id: int) -> ChildPrivate | None:
        row = await self.db.fetch_one("SELECT * FROM child_private WHERE child_id = ?", (child_id,))
        return None if row is None else _private(row)

    async def put_private(self, child_id: int, details: ChildPrivate, actor_id: int, now: datetime) -> None:
        values = (
            details.real_name,
            details.birth_date.isoformat() if details.birth_date else None,
            details.guardian,
            details.guardian_phone,
            details.address,
            details.notes,
            to_db_time(now),
            actor_id,
        )
        await self.db.execute(
            "INSERT INTO child_private (child_id, real_name, birth_date, guardian, guardian_phone, address, notes,"
            " updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (child_id) DO UPDATE SET real_name = excluded.real_name,"
            " birth_date = excluded.birth_date, guardian = excluded.guardian,"
            " guardian_phone = excluded.guardian_phone, address = excluded.address, notes = excluded.notes,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (child_id, *values),
        )

    async def delete_private(self, child_id: int) -> None:
        await self.db.execute("DELETE FROM child_private WHERE child_id = ?", (child_id,))

    async def purge_private(self, left_before: datetime, now: datetime) -> list[int]:
        """Delete the details of children who left before `left_before`; their ids."""
        rows = await self.db.fetch_all(
            "SELECT id FROM children WHERE status = 'left' AND left_at < ? AND private_purged_at IS NULL",
            (to_db_time(left_before),),
        )
        ids = [row["id"] for row in rows]
        for child_id in ids:
            await self.db.execute("DELETE FROM child_private WHERE child_id = ?", (child_id,))
            await self.db.execute("UPDATE children SET private_purged_at = ? WHERE id = ?", (to_db_time(now), child_id))
        return ids

    # ---- wishes that name a child -----------------------------------------------------------------
    async def link_wish(self, wish_id: int, child_id: int | None) -> None:
        await self.db.execute("UPDATE wishes SET child_id = ? WHERE id = ?", (child_id, wish_id))

    async def wish_ids_of(self, child_id: int) -> list[int]:
        rows = await self.db.fetch_all("SELECT id FROM wishes WHERE child_id = ? ORDER BY id", (child_id,))
        return [row["id"] for row in rows]

    # ---- group sessions -----------------------------------------------------------------------------
    async def record_session(self, activity_id: int, child_ids: Sequence[int], actor_id: int, now: datetime) -> int:
        """Children who attended; those recorded already are not counted twice. How many were new."""
        added = 0
        for child_id in child_ids:
            added += await self.db.changes(
                "INSERT INTO session_children (activity_id, child_id, recorded_by, recorded_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (activity_id, child_id) DO NOTHING",
                (activity_id, child_id, actor_id, to_db_time(now)),
            )
        return added

    async def session_children(self, activity_id: int) -> list[int]:
        rows = await self.db.fetch_all(
            "SELECT child_id FROM session_children WHERE activity_id = ? ORDER BY child_id", (activity_id,)
        )
        return [row["child_id"] for row in rows]


class ProfileRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> VolunteerProfile | None:
        row = await self.db.fetch_one("SELECT * FROM volunteer_profiles WHERE user_id = ?", (user_id,))
        return None if row is None else _profile(row)

    async def all(self) -> list[VolunteerProfile]:
        rows = await self.db.fetch_all("SELECT * FROM volunteer_profiles ORDER BY user_id")
        return [_profile(row) for row in rows]

    async def put(self, profile: VolunteerProfile, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO volunteer_profiles (user_id, kind, employer, skills, availability, home_area, origin,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET kind = excluded.kind, employer = excluded.employer,"
            " skills = excluded.skills, availability = excluded.availability, home_area = excluded.home_area,"
            " origin = excluded.origin, updated_at = excluded.updated_at",
            (
                profile.user_id,
                profile.kind.value if profile.kind else None,
                profile.employer,
                json.dumps(list(profile.skills), ensure_ascii=False),
                json.dumps([value.value for value in profile.availability]),
                profile.home_area,
                profile.origin.value if profile.origin else None,
                to_db_time(now),
            ),
        )

    async def confirm_counsellor(self, user_id: int, actor_id: int, now: datetime) -> bool:
        return bool(
            await self.db.changes(
                "UPDATE volunteer_profiles SET counsellor_confirmed_by = ?, counsellor_confirmed_at = ?"
                " WHERE user_id = ? AND kind = 'counsellor'",
                (actor_id, to_db_time(now), user_id),
            )
        )
