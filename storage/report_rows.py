"""The row-level reads behind the XLSX export, streamed: SQL only.

A province-year is half a million attendance rows: each read here is an async generator of row
batches (`Database.stream`: its own read-only connection, one consistent snapshot), so the export
writes them as they come and never holds a sheet in memory. Rows come in a stable order (every
column that decides it in ORDER BY), over a period [start, before) in UTC, optionally of some
organisations (storage/reports.py `OrgScope`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from bot.model.report import ActivitySheetRow, AttendanceSheetRow, WishSheetRow
from storage.credit_sql import credited_minutes_sql
from storage.db import Database, to_db_time
from storage.reports import OrgScope, org_clause, scope_ids

_PRESENT = "t.checked_in_at IS NOT NULL AND t.no_show = 0 AND t.removed_at IS NULL"
BATCH = 2000  # rows a batch: ~1 MB of row objects, ~50 ms of writing


class SheetRowRepository:
    def __init__(self, db: Database, *, batch: int | None = None) -> None:
        self.db = db
        self.batch = batch or BATCH  # read when built, so a test may make the batches small

    async def activities(
        self, start: datetime, before: datetime, org_id: OrgScope = None
    ) -> AsyncIterator[list[ActivitySheetRow]]:
        """Activities starting in the period, cancelled ones too (their state says so), by start."""
        where, params = org_clause("a.org_id", org_id)
        async for rows in self.db.stream(
            "SELECT a.id, a.code, a.org_id, o.name, a.title, a.category, a.starts_at, a.ends_at, a.place, a.state,"
            " a.slots, a.expected_served, a.served_confirmed, a.counts_as_deed,"
            f" (SELECT COUNT(*) FROM attendance t WHERE t.activity_id = a.id AND {_PRESENT})"
            " FROM activities a JOIN organisations o ON o.id = a.org_id"
            " WHERE a.starts_at >= ? AND a.starts_at < ?" + where + " ORDER BY a.starts_at, a.id",
            (to_db_time(start), to_db_time(before), *params),
            batch=self.batch,
        ):
            yield [
                ActivitySheetRow(
                    id=row[0],
                    code=row[1],
                    org_id=row[2],
                    org_name=row[3],
                    title=row[4],
                    category=row[5],
                    starts_at=row[6],
                    ends_at=row[7],
                    place=row[8],
                    state=row[9],
                    slots=row[10],
                    expected_served=row[11],
                    served_confirmed=row[12],
                    counts_as_deed=row[13] == 1,
                    person_times=row[14],
                )
                for row in rows
            ]

    async def attendance(
        self,
        start: datetime,
        before: datetime,
        org_id: OrgScope,
        *,
        rounding_minutes: int,
        credit_missing_checkout: bool,
    ) -> AsyncIterator[list[AttendanceSheetRow]]:
        """Every attendance row (no-shows and removed ones too, flagged) at activities not cancelled
        starting in the period, by activity start then check-in (none first, as SQLite sorts
        NULL), with the minutes the credit rule gives the rows that count (storage/credit_sql.py)."""
        where, params = org_clause("a.org_id", org_id)
        credited = credited_minutes_sql(rounding_minutes, credit_missing_checkout)
        async for rows in self.db.stream(
            "SELECT a.id, a.code, a.title, o.name, a.starts_at, a.ends_at, t.user_id, p.display_name,"
            " t.checked_in_at, t.checked_out_at, t.walk_in, t.no_show,"
            " CASE WHEN t.removed_at IS NULL THEN 0 ELSE 1 END, t.method,"
            f" CASE WHEN {_PRESENT} THEN {credited} ELSE 0 END"
            " FROM activities a JOIN attendance t ON t.activity_id = a.id"
            " JOIN organisations o ON o.id = a.org_id JOIN people p ON p.user_id = t.user_id"
            " WHERE a.state = 'published' AND a.starts_at >= ? AND a.starts_at < ?"
            + where
            + " ORDER BY a.starts_at, a.id, CASE WHEN t.checked_in_at IS NULL THEN 0 ELSE 1 END, t.checked_in_at, t.id",
            (to_db_time(start), to_db_time(before), *params),
            batch=self.batch,
        ):
            yield [
                AttendanceSheetRow(
                    activity_id=row[0],
                    code=row[1],
                    title=row[2],
                    org_name=row[3],
                    starts_at=row[4],
                    ends_at=row[5],
                    user_id=row[6],
                    display_name=row[7],
                    checked_in_at=row[8],
                    checked_out_at=row[9],
                    walk_in=row[10] == 1,
                    no_show=row[11] == 1,
                    removed=row[12] == 1,
                    method=row[13],
                    credited_minutes=row[14],
                )
                for row in rows
            ]

    async def wishes(
        self, start: datetime, before: datetime, org_id: OrgScope = None
    ) -> AsyncIterator[list[WishSheetRow]]:
        """Wishes collected, claimed or confirmed in the period; for an organisation, those it
        collected or claimed. Public columns only (never wish_private)."""
        where, params = _wish_scope(org_id)
        bounds = (to_db_time(start), to_db_time(before))
        async for rows in self.db.stream(
            "SELECT w.id, w.alias, w.grade, w.text, w.category, w.value_yuan, w.status, w.consent,"
            " w.collector_org_id, c.name, w.claimed_by_org, k.name, w.claimed_by_user, w.created_at,"
            " w.claimed_at, w.deadline, w.delivered_at, w.confirmed_at"
            " FROM wishes w JOIN organisations c ON c.id = w.collector_org_id"
            " LEFT JOIN organisations k ON k.id = w.claimed_by_org"
            f" WHERE {_IN_PERIOD}" + where + " ORDER BY w.id",
            (*bounds, *bounds, *bounds, *params),
            batch=self.batch,
        ):
            yield [
                WishSheetRow(
                    id=row[0],
                    alias=row[1],
                    grade=row[2],
                    text=row[3],
                    category=row[4],
                    value_yuan=row[5],
                    status=row[6],
                    consent=row[7] == 1,
                    collector_org_id=row[8],
                    collector_name=row[9],
                    claimed_by_org=row[10],
                    claimer_name=row[11],
                    claimed_by_user=row[12],
                    created_at=row[13],
                    claimed_at=row[14],
                    deadline=row[15],
                    delivered_at=row[16],
                    confirmed_at=row[17],
                )
                for row in rows
            ]

    async def consented_collected(self, start: datetime, before: datetime, org_id: int) -> list[int]:
        """The wishes of `wishes(start, before, org_id)` that `org_id` collected with the guardian's
        consent, by id: the only ones whose private details an export may hold."""
        bounds = (to_db_time(start), to_db_time(before))
        rows = await self.db.fetch_all(
            f"SELECT w.id FROM wishes w WHERE {_IN_PERIOD} AND w.collector_org_id = ? AND w.consent = 1 ORDER BY w.id",
            (*bounds, *bounds, *bounds, org_id),
        )
        return [row[0] for row in rows]


_IN_PERIOD = (
    "((w.created_at >= ? AND w.created_at < ?) OR (w.claimed_at >= ? AND w.claimed_at < ?)"
    " OR (w.confirmed_at >= ? AND w.confirmed_at < ?))"
)


def _wish_scope(org_id: OrgScope) -> tuple[str, tuple[int, ...]]:
    if org_id is None:
        return "", ()
    ids = scope_ids(org_id)
    marks = ", ".join("?" for _ in ids)
    return f" AND (w.collector_org_id IN ({marks}) OR w.claimed_by_org IN ({marks}))", (*ids, *ids)
