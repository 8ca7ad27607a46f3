"""Deeds (实事) and the aggregate read queries behind the statistics and star ratings: SQL only.

Every aggregate is one grouped query over a period given as UTC bounds [start, before), keyed by
organisation, so the county figures and a ranking of every organisation come from the same few
queries. Times are compared as the stored UTC text ('YYYY-MM-DDTHH:MM:SSZ' sorts correctly).
"""

from __future__ import annotations

from datetime import date, datetime

from bot.model.report import (
    Deed,
    DeedCandidate,
    DeedSheetRow,
    Presence,
)
from storage.credit_sql import credited_minutes_sql
from storage.db import Database, Row, db_time, to_db_time, written

_DEED = "id, org_id, title, done_on, activity_id, evidence_file_id, note, created_by, created_at"
# A claim still being fulfilled (claimed or purchased): past its deadline it is overdue.
_IN_PROGRESS = "('claimed', 'purchased')"
_LATE = f"status IN {_IN_PROGRESS} AND deadline IS NOT NULL AND deadline < ?"  # ?: now


def _deed(row: Row) -> Deed:
    return Deed(
        id=row["id"],
        org_id=row["org_id"],
        title=row["title"],
        done_on=date.fromisoformat(row["done_on"]),
        activity_id=row["activity_id"],
        evidence_file_id=row["evidence_file_id"],
        note=row["note"],
        created_by=row["created_by"],
        created_at=db_time(row["created_at"]),
    )


# Which organisations a read covers: None the county, one id, or several (a township committee
# with its village branches: bot/domain/orgs.OrganisationService.scope_ids).
OrgScope = int | tuple[int, ...] | None


def scope_ids(org_id: OrgScope) -> tuple[int, ...]:
    return () if org_id is None else (org_id,) if isinstance(org_id, int) else org_id


def org_clause(column: str, org_id: OrgScope) -> tuple[str, tuple[int, ...]]:
    if org_id is None:
        return "", ()
    ids = scope_ids(org_id)
    return f" AND {column} IN ({', '.join('?' for _ in ids)})", ids


class DeedRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        *,
        org_id: int,
        title: str,
        done_on: date,
        evidence_file_id: str | None,
        note: str | None,
        created_by: int,
        now: datetime,
    ) -> Deed:
        """A deed entered directly, of no activity."""
        deed = await self._insert(org_id, title, done_on, None, evidence_file_id, note, created_by, now)
        return written(deed, "the new deed")

    async def add_of_activity(
        self, *, org_id: int, title: str, done_on: date, activity_id: int, created_by: int, now: datetime
    ) -> tuple[Deed, bool]:
        """An activity's deed, and whether this call made it: when the activity has its deed
        already (the UNIQUE activity_id), that one, and False."""
        deed = await self._insert(org_id, title, done_on, activity_id, None, None, created_by, now)
        if deed is not None:
            return deed, True
        return written(await self.by_activity(activity_id), f"the deed of activity {activity_id}"), False

    async def _insert(
        self,
        org_id: int,
        title: str,
        done_on: date,
        activity_id: int | None,
        evidence_file_id: str | None,
        note: str | None,
        created_by: int,
        now: datetime,
    ) -> Deed | None:
        inserted = await self.db.fetch_one(
            "INSERT INTO deeds (org_id, title, done_on, activity_id, evidence_file_id, note, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (activity_id) DO NOTHING RETURNING id",
            (org_id, title, done_on.isoformat(), activity_id, evidence_file_id, note, created_by, to_db_time(now)),
        )
        if inserted is None:
            return None
        row = await self.db.fetch_one(f"SELECT {_DEED} FROM deeds WHERE id = ?", (inserted[0],))
        return _deed(written(row, "the new deed"))

    async def get(self, deed_id: int) -> Deed | None:
        row = await self.db.fetch_one(f"SELECT {_DEED} FROM deeds WHERE id = ?", (deed_id,))
        return None if row is None else _deed(row)

    async def by_activity(self, activity_id: int) -> Deed | None:
        row = await self.db.fetch_one(f"SELECT {_DEED} FROM deeds WHERE activity_id = ?", (activity_id,))
        return None if row is None else _deed(row)

    async def between(self, first: date, last: date, org_id: OrgScope = None) -> list[Deed]:
        where, params = org_clause("org_id", org_id)
        rows = await self.db.fetch_all(
            f"SELECT {_DEED} FROM deeds WHERE done_on BETWEEN ? AND ?{where} ORDER BY done_on, id",
            (first.isoformat(), last.isoformat(), *params),
        )
        return [_deed(row) for row in rows]

    async def counts(self, first: date, last: date) -> dict[int, int]:
        """Deeds done per organisation with done_on in [first, last]."""
        rows = await self.db.fetch_all(
            "SELECT org_id, COUNT(*) AS n FROM deeds WHERE done_on BETWEEN ? AND ? GROUP BY org_id",
            (first.isoformat(), last.isoformat()),
        )
        return {row["org_id"]: row["n"] for row in rows}


class ReportRepository:
    """Grouped counts over a period; `start`/`before` are aware datetimes (stored as UTC text)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def activities_by_org_category(self, start: datetime, before: datetime) -> dict[tuple[int, str], int]:
        """Activities not cancelled that start in the period, per (organisation, category)."""
        rows = await self.db.fetch_all(
            "SELECT org_id, category, COUNT(*) AS n FROM activities WHERE state = 'published'"
            " AND starts_at >= ? AND starts_at < ? GROUP BY org_id, category",
            (to_db_time(start), to_db_time(before)),
        )
        return {(row["org_id"], row["category"]): row["n"] for row in rows}

    async def served_by_org(self, start: datetime, before: datetime, now: datetime) -> dict[int, int]:
        """People served (confirmed, else expected) by the ended, not cancelled activities starting in the period."""
        rows = await self.db.fetch_all(
            "SELECT org_id, SUM(COALESCE(served_confirmed, expected_served)) AS n FROM activities"
            " WHERE state = 'published' AND starts_at >= ? AND starts_at < ? AND ends_at <= ? GROUP BY org_id",
            (to_db_time(start), to_db_time(before), to_db_time(now)),
        )
        return {row["org_id"]: row["n"] or 0 for row in rows}

    async def presence(
        self,
        start: datetime,
        before: datetime,
        org_id: OrgScope,
        *,
        rounding_minutes: int,
        credit_missing_checkout: bool,
    ) -> Presence:
        """The attendances that count at activities not cancelled starting in the period: their
        number, distinct people and credited minutes (storage/credit_sql.py), in one query."""
        where, params = org_clause("a.org_id", org_id)
        credited = credited_minutes_sql(rounding_minutes, credit_missing_checkout)
        row = await self.db.fetch_one(
            f"SELECT COUNT(*), COUNT(DISTINCT t.user_id), COALESCE(SUM({credited}), 0)"
            " FROM activities a JOIN attendance t ON t.activity_id = a.id"
            " WHERE a.state = 'published' AND a.starts_at >= ? AND a.starts_at < ?"
            " AND t.checked_in_at IS NOT NULL AND t.no_show = 0 AND t.removed_at IS NULL" + where,
            (to_db_time(start), to_db_time(before), *params),
        )
        count, people, minutes = written(row, "an aggregate's row")
        return Presence(int(count), int(people), int(minutes))

    async def person_times_by_org(self, start: datetime, before: datetime) -> dict[int, int]:
        """The count of `present` rows per organisation, without fetching them."""
        rows = await self.db.fetch_all(
            "SELECT a.org_id, COUNT(*) AS n FROM activities a JOIN attendance t ON t.activity_id = a.id"
            " WHERE a.state = 'published' AND a.starts_at >= ? AND a.starts_at < ?"
            " AND t.checked_in_at IS NOT NULL AND t.no_show = 0 AND t.removed_at IS NULL GROUP BY a.org_id",
            (to_db_time(start), to_db_time(before)),
        )
        return {row["org_id"]: row["n"] for row in rows}

    async def wishes_collected(self, start: datetime, before: datetime) -> dict[int, int]:
        """Wishes created in the period, per collecting organisation (cancelled ones too: they were collected)."""
        rows = await self.db.fetch_all(
            "SELECT collector_org_id AS org, COUNT(*) AS n FROM wishes WHERE created_at >= ? AND created_at < ?"
            " GROUP BY collector_org_id",
            (to_db_time(start), to_db_time(before)),
        )
        return {row["org"]: row["n"] for row in rows}

    async def claims(self, start: datetime, before: datetime, now: datetime) -> dict[int, tuple[int, int]]:
        """Per claiming organisation: (claims made in the period and still held, of those overdue now).

        Overdue: claimed or purchased (not delivered, confirmed or cancelled) and past the deadline."""
        rows = await self.db.fetch_all(
            "SELECT claimed_by_org AS org, COUNT(*) AS n,"
            f" SUM(CASE WHEN {_LATE} THEN 1 ELSE 0 END) AS late"
            " FROM wishes WHERE claimed_at >= ? AND claimed_at < ? AND claimed_by_org IS NOT NULL"
            " AND status <> 'cancelled'"
            " GROUP BY claimed_by_org",
            (to_db_time(now), to_db_time(start), to_db_time(before)),
        )
        return {row["org"]: (row["n"], row["late"] or 0) for row in rows}

    async def fulfilled(self, start: datetime, before: datetime) -> dict[int, tuple[int, int]]:
        """Per claiming organisation: (wishes confirmed received in the period, of those delivered on time).

        On time: delivered no later than the deadline (or there was no deadline)."""
        rows = await self.db.fetch_all(
            "SELECT claimed_by_org AS org, COUNT(*) AS n,"
            " SUM(CASE WHEN deadline IS NULL OR (delivered_at IS NOT NULL AND delivered_at <= deadline)"
            " THEN 1 ELSE 0 END) AS on_time"
            " FROM wishes WHERE status = 'confirmed' AND confirmed_at >= ? AND confirmed_at < ?"
            " GROUP BY claimed_by_org",
            (to_db_time(start), to_db_time(before)),
        )
        return {row["org"]: (row["n"], row["on_time"] or 0) for row in rows}


_PRESENT = "t.checked_in_at IS NOT NULL AND t.no_show = 0 AND t.removed_at IS NULL"


class DetailRepository:
    """Row-level reads over a period [start, before) (UTC), optionally of one organisation: one
    query per small sheet or chart, rows in a stable order (the big sheets are streamed:
    storage/report_rows.py)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def deeds(self, first: date, last: date, org_id: OrgScope = None) -> list[DeedSheetRow]:
        """Deeds done in [first, last] (local dates), by date."""
        where, params = org_clause("d.org_id", org_id)
        rows = await self.db.fetch_all(
            "SELECT d.id, o.name, d.title, d.done_on, a.code, d.evidence_file_id IS NOT NULL, d.note"
            " FROM deeds d JOIN organisations o ON o.id = d.org_id LEFT JOIN activities a ON a.id = d.activity_id"
            " WHERE d.done_on BETWEEN ? AND ?" + where + " ORDER BY d.done_on, d.id",
            (first.isoformat(), last.isoformat(), *params),
        )
        return [
            DeedSheetRow(
                id=row[0],
                org_name=row[1],
                title=row[2],
                done_on=row[3],
                activity_code=row[4],
                has_evidence=bool(row[5]),
                note=row[6],
            )
            for row in rows
        ]

    async def person_times_by_activity(
        self, start: datetime, before: datetime, org_id: OrgScope = None
    ) -> list[tuple[str, int]]:
        """(start as stored UTC text, person-times) per activity not cancelled starting in the
        period that has any: the caller buckets them by local month."""
        where, params = org_clause("a.org_id", org_id)
        rows = await self.db.fetch_all(
            "SELECT a.starts_at, COUNT(*) FROM activities a JOIN attendance t ON t.activity_id = a.id"
            f" WHERE a.state = 'published' AND a.starts_at >= ? AND a.starts_at < ? AND {_PRESENT}"
            + where
            + " GROUP BY a.id",
            (to_db_time(start), to_db_time(before), *params),
        )
        return [(row[0], row[1]) for row in rows]

    async def wishes_by_status(
        self, start: datetime, before: datetime, now: datetime, org_id: OrgScope = None
    ) -> tuple[dict[str, int], int]:
        """Wishes collected in the period by their status now, and how many of them are overdue now
        (claimed or purchased, past the deadline); for an organisation, those it collected."""
        where, params = org_clause("collector_org_id", org_id)
        rows = await self.db.fetch_all(
            "SELECT status, COUNT(*) AS n,"
            f" SUM(CASE WHEN {_LATE} THEN 1 ELSE 0 END) AS late"
            " FROM wishes WHERE created_at >= ? AND created_at < ?" + where + " GROUP BY status",
            (to_db_time(now), to_db_time(start), to_db_time(before), *params),
        )
        return {row["status"]: row["n"] for row in rows}, sum(row["late"] or 0 for row in rows)


class DeedCandidateRepository:
    """The activities /deed offers to record as deeds (part T)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def unrecorded(self, org_id: int, ended_by: datetime) -> list[DeedCandidate]:
        """Newest first."""
        rows = await self.db.fetch_all(
            "SELECT a.id, a.code, a.title, a.starts_at FROM activities a"
            " LEFT JOIN deeds d ON d.activity_id = a.id"
            " WHERE a.org_id = ? AND a.state = 'published' AND a.counts_as_deed = 1 AND a.ends_at <= ?"
            " AND d.id IS NULL ORDER BY a.starts_at DESC, a.id DESC",
            (org_id, to_db_time(ended_by)),
        )
        return [DeedCandidate(row["id"], row["code"], row["title"], db_time(row["starts_at"])) for row in rows]
