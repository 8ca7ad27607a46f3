"""Micro-wishes and their private details: SQL only.

The wish records (`Wish`, `WishStatus`, `WishCategory`, `PrivateDetails`, `WishFilter`) live
here, like `Organisation` lives in bot.model.organisation, and bot/domain/wishes/ re-exports them.

Two tables, kept apart on purpose: `wishes` (public: alias, grade, wish text, status, claim)
and `wish_private` (the child's real name, guardian's phone, address, notes). Only the
`*_private` methods below read or write `wish_private`; every other query is public.

Every state change is one conditional UPDATE whose WHERE names the state it expects, and
reports whether it changed the row, so two concurrent callers can never both apply it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.model.wish import (
    HELD,
    IN_PROGRESS,
    PrivateDetails,
    Wish,
    WishCategory,
    WishFilter,
    WishStatus,
)
from storage.db import Database, Row, db_time, from_db_time, int_value, time_value, to_db_time, written

_HELD_SQL = ", ".join(f"'{status.value}'" for status in HELD)
# The claims a cap counts: held in one session by one organisation / by one person. Fill
# {session} and {org} / {user} with SQL expressions.
HELD_BY_ORG = (
    f"(SELECT COUNT(*) FROM wishes h WHERE h.status IN ({_HELD_SQL})"
    " AND h.session_id IS NOT DISTINCT FROM {session} AND h.claimed_by_org = {org})"
)
HELD_BY_USER = (
    f"(SELECT COUNT(*) FROM wishes h WHERE h.status IN ({_HELD_SQL})"
    " AND h.session_id IS NOT DISTINCT FROM {session} AND h.claimed_by_user = {user})"
)
# Open → claimed, in one statement, if the caps allow. THE claim rule, caps included: a cap
# (NULL = none) is kept while the claims it counts (HELD_BY_ORG / HELD_BY_USER) are fewer. Used
# as is by `WishRepository.claim` and by the auction's batch trigger (storage/auction.py); the
# auction's in-memory ledger and its explanation of a refusal only foresee or explain this
# answer, with the same comparison (bot/model/auction.py, `Caps.refusal`). Fill every {name}
# with an SQL expression.
CLAIM_UPDATE = (
    "UPDATE wishes SET status = 'claimed', claimed_by_user = {user}, claimed_by_org = {org}, claimed_at = {at},"
    " session_id = {session}, deadline = {deadline}, updated_at = {at}"
    " WHERE id = {wish} AND status = 'open'"
    f" AND ({{max_per_org}} IS NULL OR {HELD_BY_ORG} < {{max_per_org}})"
    f" AND ({{max_per_user}} IS NULL OR {HELD_BY_USER} < {{max_per_user}})"
)
# The audit entry of a won claim, written only here: after CLAIM_UPDATE, by the same two callers,
# in the claim's own transaction. {won}: an SQL condition that holds when the claim was won.
CLAIM_AUDIT = (
    "INSERT INTO audit_log (at, actor_id, action, subject, details)"
    " SELECT {at}, {user}, 'wish.claim', 'wish:' || {wish}, json_object('org', {org}, 'session', {session})"
    " WHERE {won}"
)
# `WishRepository.claim`'s numbered parameters, in the order of its values.
CLAIM_PARAMS = {
    "wish": "?1",
    "user": "?2",
    "org": "?3",
    "at": "?4",
    "session": "?5",
    "deadline": "?6",
    "max_per_org": "?7",
    "max_per_user": "?8",
}

_COLUMNS = (
    "w.id, w.collector_org_id, w.alias, w.grade, w.text, w.category, w.value_yuan, w.photo_file_id,"
    " w.status, w.consent, w.consent_recorded_at, w.consent_recorded_by, w.private_purged_at,"
    " w.claimed_by_user, w.claimed_by_org, w.claimed_at, w.session_id, w.deadline, w.purchased_at,"
    " w.delivered_at, w.delivery_proof_file_id, w.confirmed_at, w.confirmed_by, w.cancelled_at,"
    " w.cancel_reason, w.created_by, w.created_at"
)
# Columns a state change may set, with how a value is stored.
_SETTABLE: dict[str, Callable[[object], object]] = {
    "alias": str,
    "grade": str,
    "text": str,
    "category": str,
    "value_yuan": int_value,
    "photo_file_id": str,
    "status": str,
    "claimed_by_user": int_value,
    "claimed_by_org": int_value,
    "claimed_at": time_value,
    "session_id": int_value,
    "deadline": time_value,
    "purchased_at": time_value,
    "purchased_by": int_value,
    "delivered_at": time_value,
    "delivered_by": int_value,
    "delivery_proof_file_id": str,
    "confirmed_at": time_value,
    "confirmed_by": int_value,
    "cancelled_at": time_value,
    "cancelled_by": int_value,
    "cancel_reason": str,
    "private_purged_at": time_value,
    "collector_org_id": int_value,
}
# Columns a guard may compare, beside the status.
_GUARDABLE = {"claimed_by_user", "claimed_by_org", "collector_org_id"}


def _wish(row: Row) -> Wish:
    return Wish(
        id=row["id"],
        collector_org_id=row["collector_org_id"],
        alias=row["alias"],
        grade=row["grade"],
        text=row["text"],
        category=WishCategory(row["category"]),
        value_yuan=row["value_yuan"],
        photo_file_id=row["photo_file_id"],
        status=WishStatus(row["status"]),
        consent=bool(row["consent"]),
        consent_recorded_at=db_time(row["consent_recorded_at"]),
        consent_recorded_by=row["consent_recorded_by"],
        private_purged_at=from_db_time(row["private_purged_at"]),
        claimed_by_user=row["claimed_by_user"],
        claimed_by_org=row["claimed_by_org"],
        claimed_at=from_db_time(row["claimed_at"]),
        session_id=row["session_id"],
        deadline=from_db_time(row["deadline"]),
        purchased_at=from_db_time(row["purchased_at"]),
        delivered_at=from_db_time(row["delivered_at"]),
        delivery_proof_file_id=row["delivery_proof_file_id"],
        confirmed_at=from_db_time(row["confirmed_at"]),
        confirmed_by=row["confirmed_by"],
        cancelled_at=from_db_time(row["cancelled_at"]),
        cancel_reason=row["cancel_reason"],
        created_by=row["created_by"],
        created_at=db_time(row["created_at"]),
    )


def _marks(values: Sequence) -> str:
    return ", ".join("?" for _ in values)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class WishRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- public records -----------------------------------------------------------------
    async def add(
        self,
        *,
        collector_org_id: int,
        alias: str,
        grade: str,
        text: str,
        category: WishCategory,
        value_yuan: int,
        photo_file_id: str | None,
        consent: bool,
        created_by: int,
        now: datetime,
    ) -> Wish:
        moment = to_db_time(now)
        new_id = await self.db.execute(
            "INSERT INTO wishes (collector_org_id, alias, grade, text, category, value_yuan, photo_file_id,"
            " status, consent, consent_recorded_at, consent_recorded_by, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?)",
            (
                collector_org_id,
                alias,
                grade,
                text,
                category.value,
                value_yuan,
                photo_file_id,
                int(consent),
                moment,
                created_by,
                created_by,
                moment,
                moment,
            ),
        )
        return written(await self.get(new_id), f"wish {new_id}")

    async def get(self, wish_id: int) -> Wish | None:
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM wishes w WHERE w.id = ?", (wish_id,))
        return None if row is None else _wish(row)

    async def many(self, wish_ids: Sequence[int]) -> list[Wish]:
        if not wish_ids:
            return []
        rows = await self.db.fetch_all(
            f"SELECT {_COLUMNS} FROM wishes w WHERE w.id IN ({_marks(wish_ids)}) ORDER BY w.id", list(wish_ids)
        )
        return [_wish(row) for row in rows]

    async def open_keys(self) -> list[tuple[int, str, str]]:
        """(collector, alias, text) of every open wish: what a new wish must not repeat."""
        rows = await self.db.fetch_all("SELECT collector_org_id, alias, text FROM wishes WHERE status = 'open'")
        return [(row[0], row[1], row[2]) for row in rows]

    async def count(self, wish_filter: WishFilter) -> int:
        where, params = self._where(wish_filter)
        return int(
            await self.db.fetch_value(
                f"SELECT COUNT(*) FROM wishes w JOIN organisations o ON o.id = w.collector_org_id{where}", params
            )
        )

    async def find(
        self, wish_filter: WishFilter, *, limit: int, offset: int, overdue_first_at: datetime | None = None
    ) -> list[Wish]:
        """One page of matching wishes.

        Ordered by id; with `overdue_first_at`, the claims overdue at that moment come first
        (earliest deadline first), then everything else by status along the path, then id."""
        where, params = self._where(wish_filter)
        order = "w.id"
        order_params: list = []
        if overdue_first_at is not None:
            in_progress = ", ".join(f"'{status.value}'" for status in IN_PROGRESS)
            path = " ".join(f"WHEN '{status.value}' THEN {index}" for index, status in enumerate(WishStatus))
            overdue = f"(w.status IN ({in_progress}) AND w.deadline IS NOT NULL AND w.deadline < ?)"
            order = f"{overdue} DESC, CASE WHEN {overdue} THEN w.deadline END, CASE w.status {path} END, w.id"
            order_params = [to_db_time(overdue_first_at)] * 2
        rows = await self.db.fetch_all(
            f"SELECT {_COLUMNS} FROM wishes w JOIN organisations o ON o.id = w.collector_org_id{where}"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            (*params, *order_params, limit, offset),
        )
        return [_wish(row) for row in rows]

    @staticmethod
    def _where(wish_filter: WishFilter) -> tuple[str, list]:
        clauses: list[str] = []
        params: list = []
        statuses = wish_filter.statuses()
        if statuses:
            clauses.append(f"w.status IN ({_marks(statuses)})")
            params.extend(status.value for status in statuses)
        simple = (
            ("w.collector_org_id = ?", wish_filter.collector_org_id),
            ("w.category = ?", None if wish_filter.category is None else wish_filter.category.value),
            ("w.grade = ?", wish_filter.grade),
            ("w.value_yuan >= ?", wish_filter.min_value),
            ("w.value_yuan <= ?", wish_filter.max_value),
            ("w.session_id = ?", wish_filter.session_id),
            ("w.claimed_by_org = ?", wish_filter.claimed_by_org),
            ("w.claimed_by_user = ?", wish_filter.claimed_by_user),
        )
        for clause, value in simple:
            if value is not None:
                clauses.append(clause)
                params.append(value)
        if wish_filter.codes:
            ids = wish_filter.ids or (0,)  # codes given but none readable: match nothing
            clauses.append(f"w.id IN ({_marks(ids)})")
            params.extend(ids)
        if wish_filter.text:
            pattern = _like(wish_filter.text)
            search = ["w.text LIKE ? ESCAPE '\\'", "w.alias LIKE ? ESCAPE '\\'", "o.name LIKE ? ESCAPE '\\'"]
            search_params: list = [pattern, pattern, pattern]
            if wish_filter.ids and not wish_filter.codes:  # the search text is itself a code
                search.append(f"w.id IN ({_marks(wish_filter.ids)})")
                search_params.extend(wish_filter.ids)
            clauses.append(f"({' OR '.join(search)})")
            params.extend(search_params)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    async def overdue(self, now: datetime) -> list[Wish]:
        """Claimed or purchased wishes past their deadline, the longest overdue first."""
        rows = await self.db.fetch_all(
            f"SELECT {_COLUMNS} FROM wishes w WHERE w.status IN ({_marks(IN_PROGRESS)})"
            " AND w.deadline IS NOT NULL AND w.deadline < ? ORDER BY w.deadline, w.id",
            (*(status.value for status in IN_PROGRESS), to_db_time(now)),
        )
        return [_wish(row) for row in rows]

    # ---- state changes --------------------------------------------------------------------
    async def change(
        self,
        wish_id: int,
        *,
        expect: Sequence[WishStatus],
        now: datetime,
        guard: dict[str, object] | None = None,
        **values: object,
    ) -> bool:
        """Set `values` where the wish is in one of `expect` (and matches `guard`); True if it did.

        Values of None are stored as NULL."""
        unknown = (values.keys() - _SETTABLE.keys()) | ((guard or {}).keys() - _GUARDABLE)
        if unknown:
            raise ValueError(f"not settable or guardable: {sorted(unknown)}")
        assignments = [f"{name} = ?" for name in values] + ["updated_at = ?"]
        stored = [None if value is None else _SETTABLE[name](value) for name, value in values.items()]
        conditions = [f"status IN ({_marks(expect)})"]
        guard_values: list = []
        for name, value in (guard or {}).items():
            conditions.append(f"{name} IS NOT DISTINCT FROM ?")
            guard_values.append(value)
        changed = await self.db.changes(
            f"UPDATE wishes SET {', '.join(assignments)} WHERE id = ? AND {' AND '.join(conditions)}",
            (*stored, to_db_time(now), wish_id, *(status.value for status in expect), *guard_values),
        )
        return changed == 1

    async def claim(
        self,
        wish_id: int,
        *,
        user_id: int,
        org_id: int,
        now: datetime,
        session_id: int | None,
        deadline: datetime | None,
        max_per_org: int | None = None,
        max_per_user: int | None = None,
    ) -> bool:
        """Open → claimed in one statement (CLAIM_UPDATE), with its audit entry when won; the caps
        count the claims held in the same session. Call it inside a transaction, so that the
        claim and its audit entry are committed together."""
        values = (
            wish_id,
            user_id,
            org_id,
            to_db_time(now),
            session_id,
            to_db_time(deadline),
            max_per_org,
            max_per_user,
        )
        won = await self.db.changes(CLAIM_UPDATE.format(**CLAIM_PARAMS), values) == 1
        if won:
            await self.db.execute(CLAIM_AUDIT.format(**CLAIM_PARAMS, won="1 = 1"), values[:5])
        return won

    async def set_consent(self, wish_id: int, consent: bool, actor_id: int, now: datetime) -> bool:
        changed = await self.db.changes(
            "UPDATE wishes SET consent = ?, consent_recorded_at = ?, consent_recorded_by = ?, updated_at = ?"
            " WHERE id = ? AND consent <> ?",
            (int(consent), to_db_time(now), actor_id, to_db_time(now), wish_id, int(consent)),
        )
        return changed == 1

    # ---- private details (the only reads and writes of wish_private) -----------------------
    async def get_private(self, wish_id: int) -> PrivateDetails | None:
        row = await self.db.fetch_one(
            "SELECT real_name, guardian_phone, address, notes FROM wish_private WHERE wish_id = ?", (wish_id,)
        )
        if row is None:
            return None
        return PrivateDetails(row["real_name"], row["guardian_phone"], row["address"], row["notes"])

    async def put_private(self, wish_id: int, details: PrivateDetails, actor_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO wish_private (wish_id, real_name, guardian_phone, address, notes, updated_at, updated_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (wish_id) DO UPDATE SET real_name = excluded.real_name,"
            " guardian_phone = excluded.guardian_phone, address = excluded.address, notes = excluded.notes,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (
                wish_id,
                details.real_name,
                details.guardian_phone,
                details.address,
                details.notes,
                to_db_time(now),
                actor_id,
            ),
        )

    async def delete_private(self, wish_id: int) -> bool:
        return await self.db.changes("DELETE FROM wish_private WHERE wish_id = ?", (wish_id,)) == 1

    async def purge_private(self, confirmed_before: datetime, now: datetime) -> list[int]:
        """Delete the details of wishes confirmed before the cut-off; mark them; their ids."""
        rows = await self.db.fetch_all(
            "SELECT id FROM wishes WHERE status = 'confirmed' AND private_purged_at IS NULL AND confirmed_at < ?"
            " ORDER BY id",
            (to_db_time(confirmed_before),),
        )
        ids = [row["id"] for row in rows]
        if not ids:
            return []
        await self.db.execute(f"DELETE FROM wish_private WHERE wish_id IN ({_marks(ids)})", ids)
        await self.db.execute(
            f"UPDATE wishes SET private_purged_at = ?, updated_at = ? WHERE id IN ({_marks(ids)})",
            (to_db_time(now), to_db_time(now), *ids),
        )
        return ids
