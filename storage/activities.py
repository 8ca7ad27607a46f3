"""Activities, their group posts, volunteer sign-ups and attendance: SQL only.

The activity records (`Activity`, `Place`, `Category`) live here, like `Organisation` lives in
bot.model.organisation, and bot/domain/activities.py re-exports them for the rest of the bot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.model.activity import Activity, AttendanceRecord, Category, Place, SignupRecord, SignupStatus
from storage.db import Database, Row, db_time, from_db_time, int_value, time_value, to_db_time, written

_ACTIVITY = (
    "a.id, a.code, a.org_id, a.title, a.category, a.starts_at, a.ends_at, a.place, a.latitude,"
    " a.longitude, a.radius_m, a.slots, a.expected_served, a.served_confirmed, a.counts_as_deed,"
    " a.also_hub, a.state, a.created_by, a.summary_sent_at"
)
_SIGNUP = "id, activity_id, user_id, status, created_at, updated_at"
_ATTENDANCE = "id, activity_id, user_id, checked_in_at, checked_out_at, walk_in, no_show, method, removed_at"


def _as_given(value: object) -> object:
    return value


# Columns an edit may change, with how a value is stored.
_EDITABLE: dict[str, Callable[[object], object]] = {
    "title": str,
    "category": str,
    "starts_at": time_value,
    "ends_at": time_value,
    "place": str,
    "latitude": _as_given,
    "longitude": _as_given,
    "radius_m": _as_given,
    "slots": int_value,
    "expected_served": int_value,
    "counts_as_deed": int_value,
}


def _activity(row: Row) -> Activity:
    return Activity(
        id=row["id"],
        code=row["code"],
        org_id=row["org_id"],
        title=row["title"],
        category=Category(row["category"]),
        starts_at=db_time(row["starts_at"]),
        ends_at=db_time(row["ends_at"]),
        place=Place(row["place"], row["latitude"], row["longitude"], row["radius_m"]),
        slots=row["slots"],
        expected_served=row["expected_served"],
        served_confirmed=row["served_confirmed"],
        counts_as_deed=bool(row["counts_as_deed"]),
        also_hub=bool(row["also_hub"]),
        state=row["state"],
        created_by=row["created_by"],
        summary_sent=row["summary_sent_at"] is not None,
    )


def _signup(row: Row) -> SignupRecord:
    return SignupRecord(
        id=row["id"],
        activity_id=row["activity_id"],
        user_id=row["user_id"],
        status=SignupStatus(row["status"]),
        created_at=db_time(row["created_at"]),
        updated_at=db_time(row["updated_at"]),
    )


def _attendance(row: Row) -> AttendanceRecord:
    return AttendanceRecord(
        id=row["id"],
        activity_id=row["activity_id"],
        user_id=row["user_id"],
        checked_in_at=from_db_time(row["checked_in_at"]),
        checked_out_at=from_db_time(row["checked_out_at"]),
        walk_in=bool(row["walk_in"]),
        no_show=bool(row["no_show"]),
        method=row["method"],
        removed_at=from_db_time(row["removed_at"]),
    )


class ActivityRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- activities ---------------------------------------------------------------------
    async def add(
        self,
        *,
        org_id: int,
        title: str,
        category: Category,
        starts_at: datetime,
        ends_at: datetime,
        place: Place,
        slots: int,
        expected_served: int,
        counts_as_deed: bool,
        also_hub: bool,
        created_by: int,
        now: datetime,
    ) -> Activity:
        """Insert and give it its code, "A" + id; call inside a transaction."""
        new_id = await self.db.execute(
            "INSERT INTO activities (org_id, title, category, starts_at, ends_at, place, latitude, longitude,"
            " radius_m, slots, expected_served, counts_as_deed, also_hub, state, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'published', ?, ?)",
            (
                org_id,
                title,
                category.value,
                to_db_time(starts_at),
                to_db_time(ends_at),
                place.text,
                place.latitude,
                place.longitude,
                place.radius_m,
                slots,
                expected_served,
                int(counts_as_deed),
                int(also_hub),
                created_by,
                to_db_time(now),
            ),
        )
        await self.db.execute("UPDATE activities SET code = ? WHERE id = ?", (f"A{new_id}", new_id))
        return written(await self.get(new_id), f"activity {new_id}")

    async def get(self, activity_id: int) -> Activity | None:
        row = await self.db.fetch_one(f"SELECT {_ACTIVITY} FROM activities a WHERE a.id = ?", (activity_id,))
        return None if row is None else _activity(row)

    async def by_code(self, code: str) -> Activity | None:
        row = await self.db.fetch_one(f"SELECT {_ACTIVITY} FROM activities a WHERE a.code = ?", (code,))
        return None if row is None else _activity(row)

    async def update(self, activity_id: int, **fields: object) -> None:
        unknown = fields.keys() - _EDITABLE.keys()
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        if not fields:
            return
        assignments = ", ".join(f"{name} = ?" for name in fields)
        values = [None if value is None else _EDITABLE[name](value) for name, value in fields.items()]
        await self.db.execute(f"UPDATE activities SET {assignments} WHERE id = ?", (*values, activity_id))

    async def set_state(self, activity_id: int, state: str) -> None:
        await self.db.execute("UPDATE activities SET state = ? WHERE id = ?", (state, activity_id))

    async def set_served(self, activity_id: int, served: int) -> None:
        await self.db.execute("UPDATE activities SET served_confirmed = ? WHERE id = ?", (served, activity_id))

    async def published_around(
        self, *, org_id: int | None, hub: bool, ends_after: datetime, starts_before: datetime
    ) -> list[Activity]:
        """Not cancelled, overlapping (ends_after, starts_before), of one org and/or shown in the hub."""
        scope: list[str] = []
        params: list[object] = []
        if org_id is not None:
            scope.append("a.org_id = ?")
            params.append(org_id)
        if hub:
            scope.append("a.also_hub = 1")
        if not scope:
            return []
        rows = await self.db.fetch_all(
            f"SELECT {_ACTIVITY} FROM activities a WHERE a.state = 'published' AND ({' OR '.join(scope)})"
            " AND a.ends_at >= ? AND a.starts_at <= ? ORDER BY a.starts_at, a.id",
            (*params, to_db_time(ends_after), to_db_time(starts_before)),
        )
        return [_activity(row) for row in rows]

    async def upcoming(
        self, now: datetime, *, org_ids: Sequence[int] | None = None, user_id: int | None = None
    ) -> list[Activity]:
        """Not cancelled and not yet ended: all, or those of some orgs and/or this person's sign-ups."""
        scope: list[str] = []
        params: list[object] = []
        if org_ids:
            scope.append(f"a.org_id IN ({', '.join('?' for _ in org_ids)})")
            params.extend(org_ids)
        if user_id is not None:
            scope.append(
                "a.id IN (SELECT activity_id FROM signups WHERE user_id = ? AND status IN ('signed', 'waitlisted'))"
            )
            params.append(user_id)
        where = f" AND ({' OR '.join(scope)})" if scope else ""
        if not scope and (org_ids is not None or user_id is not None):
            return []
        rows = await self.db.fetch_all(
            f"SELECT {_ACTIVITY} FROM activities a WHERE a.state = 'published' AND a.ends_at > ?{where}"
            " ORDER BY a.starts_at, a.id",
            (to_db_time(now), *params),
        )
        return [_activity(row) for row in rows]

    async def ended_unsummarised(self, ended_before: datetime) -> list[Activity]:
        rows = await self.db.fetch_all(
            f"SELECT {_ACTIVITY} FROM activities a WHERE a.state = 'published' AND a.summary_sent_at IS NULL"
            " AND a.ends_at <= ? ORDER BY a.ends_at, a.id",
            (to_db_time(ended_before),),
        )
        return [_activity(row) for row in rows]

    async def mark_summary_sent(self, activity_id: int, now: datetime) -> bool:
        """True for the one caller that marked it; False when it was marked already."""
        changed = await self.db.changes(
            "UPDATE activities SET summary_sent_at = ? WHERE id = ? AND summary_sent_at IS NULL",
            (to_db_time(now), activity_id),
        )
        return changed == 1

    # ---- posts ----------------------------------------------------------------------------
    async def record_post(self, activity_id: int, chat_record_id: int, message_id: int) -> None:
        await self.db.execute(
            "INSERT INTO activity_posts (activity_id, chat_record_id, message_id) VALUES (?, ?, ?)"
            " ON CONFLICT (activity_id, chat_record_id) DO UPDATE SET message_id = excluded.message_id",
            (activity_id, chat_record_id, message_id),
        )

    async def posts(self, activity_id: int) -> list[tuple[int, int]]:
        """(current Telegram chat id, message id) of each post, in groups the bot is still in."""
        rows = await self.db.fetch_all(
            "SELECT c.chat_id, p.message_id FROM activity_posts p JOIN chats c ON c.id = p.chat_record_id"
            " WHERE p.activity_id = ? AND c.active = 1 ORDER BY p.id",
            (activity_id,),
        )
        return [(row["chat_id"], row["message_id"]) for row in rows]

    # ---- sign-ups -------------------------------------------------------------------------
    async def signup(self, activity_id: int, user_id: int) -> SignupRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {_SIGNUP} FROM signups WHERE activity_id = ? AND user_id = ?", (activity_id, user_id)
        )
        return None if row is None else _signup(row)

    async def add_signup(self, activity_id: int, user_id: int, status: SignupStatus, now: datetime) -> None:
        """A fresh row (a new id), so a returning volunteer queues behind everyone already waiting."""
        await self.db.execute("DELETE FROM signups WHERE activity_id = ? AND user_id = ?", (activity_id, user_id))
        await self.db.execute(
            "INSERT INTO signups (activity_id, user_id, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (activity_id, user_id, status, to_db_time(now), to_db_time(now)),
        )

    async def set_signup_status(self, activity_id: int, user_id: int, status: SignupStatus, now: datetime) -> None:
        await self.db.execute(
            "UPDATE signups SET status = ?, updated_at = ? WHERE activity_id = ? AND user_id = ?",
            (status, to_db_time(now), activity_id, user_id),
        )

    async def signups(self, activity_id: int, status: SignupStatus) -> list[SignupRecord]:
        """In order: who came first (time of the change, then row id)."""
        rows = await self.db.fetch_all(
            f"SELECT {_SIGNUP} FROM signups WHERE activity_id = ? AND status = ? ORDER BY updated_at, id",
            (activity_id, status),
        )
        return [_signup(row) for row in rows]

    async def signed_count(self, activity_id: int) -> int:
        return int(
            await self.db.fetch_value(
                "SELECT COUNT(*) FROM signups WHERE activity_id = ? AND status = 'signed'", (activity_id,)
            )
        )

    async def signed_names(self, activity_id: int) -> list[str]:
        """Display names (never real names) of those signed up, in sign-up order."""
        rows = await self.db.fetch_all(
            "SELECT p.display_name FROM signups s JOIN people p ON p.user_id = s.user_id"
            " WHERE s.activity_id = ? AND s.status = 'signed' ORDER BY s.updated_at, s.id",
            (activity_id,),
        )
        return [row["display_name"] for row in rows]

    async def person_exists(self, user_id: int) -> bool:
        return await self.db.fetch_value("SELECT 1 FROM people WHERE user_id = ?", (user_id,)) is not None

    # ---- attendance -----------------------------------------------------------------------
    async def attendance(self, activity_id: int, user_id: int) -> AttendanceRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {_ATTENDANCE} FROM attendance WHERE activity_id = ? AND user_id = ?", (activity_id, user_id)
        )
        return None if row is None else _attendance(row)

    async def put_attendance(
        self,
        activity_id: int,
        user_id: int,
        *,
        checked_in_at: datetime | None,
        checked_out_at: datetime | None,
        walk_in: bool,
        no_show: bool,
        method: str,
    ) -> None:
        """Create or overwrite one person's record for one activity (and un-remove it)."""
        await self.db.execute(
            "INSERT INTO attendance (activity_id, user_id, checked_in_at, checked_out_at, walk_in, no_show, method)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (activity_id, user_id) DO UPDATE SET"
            " checked_in_at = excluded.checked_in_at, checked_out_at = excluded.checked_out_at,"
            " walk_in = excluded.walk_in, no_show = excluded.no_show, method = excluded.method, removed_at = NULL",
            (
                activity_id,
                user_id,
                to_db_time(checked_in_at),
                to_db_time(checked_out_at),
                int(walk_in),
                int(no_show),
                method,
            ),
        )

    async def check_out(self, activity_id: int, user_id: int, now: datetime) -> bool:
        """False when there is nothing to check out (never checked in, or already checked out)."""
        changed = await self.db.changes(
            "UPDATE attendance SET checked_out_at = ? WHERE activity_id = ? AND user_id = ?"
            " AND checked_in_at IS NOT NULL AND checked_out_at IS NULL AND removed_at IS NULL AND no_show = 0",
            (to_db_time(now), activity_id, user_id),
        )
        return changed == 1

    async def remove_attendance(self, activity_id: int, user_id: int, now: datetime) -> bool:
        changed = await self.db.changes(
            "UPDATE attendance SET removed_at = ? WHERE activity_id = ? AND user_id = ? AND removed_at IS NULL",
            (to_db_time(now), activity_id, user_id),
        )
        return changed == 1

    async def sheet(self, activity_id: int) -> list[AttendanceRecord]:
        """Every record not removed, in check-in order (no-shows last)."""
        rows = await self.db.fetch_all(
            f"SELECT {_ATTENDANCE} FROM attendance WHERE activity_id = ? AND removed_at IS NULL"
            " ORDER BY checked_in_at IS NULL, checked_in_at, id",
            (activity_id,),
        )
        return [_attendance(row) for row in rows]

    async def attended_by(
        self, user_id: int, starts_from: datetime, starts_before: datetime
    ) -> list[tuple[Activity, AttendanceRecord]]:
        """A person's attendance at activities (not cancelled) starting in [from, before)."""
        columns = ", ".join(f"t.{name.strip()} AS t_{name.strip()}" for name in _ATTENDANCE.split(","))
        rows = await self.db.fetch_all(
            f"SELECT {_ACTIVITY}, {columns} FROM attendance t JOIN activities a ON a.id = t.activity_id"
            " WHERE t.user_id = ? AND a.state = 'published' AND t.removed_at IS NULL AND t.no_show = 0"
            " AND t.checked_in_at IS NOT NULL AND a.starts_at >= ? AND a.starts_at < ? ORDER BY a.starts_at, a.id",
            (user_id, to_db_time(starts_from), to_db_time(starts_before)),
        )
        found = []
        for row in rows:
            record = AttendanceRecord(
                id=row["t_id"],
                activity_id=row["t_activity_id"],
                user_id=row["t_user_id"],
                checked_in_at=from_db_time(row["t_checked_in_at"]),
                checked_out_at=from_db_time(row["t_checked_out_at"]),
                walk_in=bool(row["t_walk_in"]),
                no_show=bool(row["t_no_show"]),
                method=row["t_method"],
                removed_at=from_db_time(row["t_removed_at"]),
            )
            found.append((_activity(row), record))
        return found
