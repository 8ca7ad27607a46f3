"""Deeds (实事) and the aggregate read queries behind the statistics and star ratings: SQL only.

Every aggregate is one grouped query over a period given as UTC bounds [start, before), keyed by
organisation, so the county figures and a ranking of every organisation come from the same few
queries. Times are compared as the stored UTC text ('YYYY-MM-DDTHH:MM:SSZ' sorts correctly).
"""

from __future__ import annotations

from datetime import date, datetime

from bot.model.report import (
    ActivitySheetRow,
    AttendanceSheetRow,
    Deed,
    DeedCandidate,
    DeedSheetRow,
    PresentRow,
    WishSheetRow,
)
from storage.db import Database, Row, db_time, to_db_time, written

_DEED = "id, org_id, title, done_on, activity_id, evidence_file_id, note, created_by, created_at"
# A claim still being fulfilled (claimed or purchased): past its deadline it is overdue.
_IN_PROGRESS = "('claimed', 'purchased')"


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


def _ids(org_id: OrgScope) -> tuple[int, ...]:
    return () if org_id is None else (org_id,) if isinstance(org_id, int) else org_id


def _org_clause(column: str, org_id: OrgScope) -> tuple[str, tuple[int, ...]]:
    if org_id is None:
        return "", ()
    ids = _ids(org_id)
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
        where, params = _org_clause("org_id", org_id)
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

    async def present(self, start: datetime, before: datetime, org_id: OrgScope = None) -> list[PresentRow]:
        """Every attendance that counts, at activities not cancelled starting in the period: one query."""
        where, params = _org_clause("a.org_id", org_id)
        rows = await self.db.fetch_all(
            "SELECT a.org_id, a.id, t.user_id, a.starts_at, a.ends_at, t.checked_in_at, t.checked_out_at"
            " FROM activities a JOIN attendance t ON t.activity_id = a.id"
            " WHERE a.state = 'published' AND a.starts_at >= ? AND a.starts_at < ?"
            " AND t.checked_in_at IS NOT NULL AND t.no_show = 0 AND t.removed_at IS NULL" + where,
            (to_db_time(start), to_db_time(before), *params),
        )
        return [PresentRow(*tuple(row)) for row in rows]

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
            f" SUM(CASE WHEN status IN {_IN_PROGRESS} AND deadline IS NOT NULL AND deadline < ?"
            " THEN 1 ELSE 0 END) AS late"
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
    query per sheet or chart, rows in a stable order."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def activities(self, start: datetime, before: datetime, org_id: OrgScope = None) -> list[ActivitySheetRow]:
        """Activities starting in the period, cancelled ones too (their state says so), by start."""
        where, params = _org_clause("a.org_id", org_id)
        rows = await self.db.fetch_all(
            "SELECT a.id, a.code, a.org_id, o.name, a.title, a.category, a.starts_at, a.ends_at, a.place, a.state,"
            " a.slots, a.expected_served, a.served_confirmed, a.counts_as_deed,"
            f" (SELECT COUNT(*) FROM attendance t WHERE t.activity_id = a.id AND {_PRESENT})"
            " FROM activities a JOIN organisations o ON o.id = a.org_id"
            " WHERE a.starts_at >= ? AND a.starts_at < ?" + where + " ORDER BY a.starts_at, a.id",
            (to_db_time(start), to_db_time(before), *params),
        )
        return [
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
                counts_as_deed=bool(row[13]),
                person_times=row[14],
            )
            for row in rows
        ]

    async def attendance(self, start: datetime, before: datetime, org_id: OrgScope = None) -> list[AttendanceSheetRow]:
        """Every attendance row (no-shows and removed ones too, flagged) at activities not cancelled
        starting in the period, by activity start then check-in."""
        where, params = _org_clause("a.org_id", org_id)
        rows = await self.db.fetch_all(
            "SELECT a.id, a.code, a.title, o.name, a.starts_at, a.ends_at, t.user_id, p.display_name,"
            " t.checked_in_at, t.checked_out_at, t.walk_in, t.no_show, t.removed_at IS NOT NULL, t.method"
            " FROM activities a JOIN attendance t ON t.activity_id = a.id"
            " JOIN organisations o ON o.id = a.org_id JOIN people p ON p.user_id = t.user_id"
            " WHERE a.state = 'published' AND a.starts_at >= ? AND a.starts_at < ?"
            + where
            + " ORDER BY a.starts_at, a.id, t.checked_in_at, t.id",
            (to_db_time(start), to_db_time(before), *params),
        )
        return [
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
                walk_in=bool(row[10]),
                no_show=bool(row[11]),
                removed=bool(row[12]),
                method=row[13],
            )
            for row in rows
        ]

    async def wishes(self, start: datetime, before: datetime, org_id: OrgScope = None) -> list[WishSheetRow]:
        """Wishes collected, claimed or confirmed in the period; for an organisation, those it
        collected or claimed. Public columns only (never wish_private)."""
        ids = _ids(org_id)
        marks = ", ".join("?" for _ in ids)
        where, params = (
            ("", ())
            if org_id is None
            else (f" AND (w.collector_org_id IN ({marks}) OR w.claimed_by_org IN ({marks}))", (*ids, *ids))
        )
        bounds = (to_db_time(start), to_db_time(before))
        rows = await self.db.fetch_all(
            "SELECT w.id, w.alias, w.grade, w.text, w.category, w.value_yuan, w.status, w.consent,"
            " w.collector_org_id, c.name, w.claimed_by_org, k.name, w.claimed_by_user, w.created_at,"
            " w.claimed_at, w.deadline, w.delivered_at, w.confirmed_at"
            " FROM wishes w JOIN organisations c ON c.id = w.collector_org_id"
            " LEFT JOIN organisations k ON k.id = w.claimed_by_org"
            " WHERE ((w.created_at >= ? AND w.created_at < ?) OR (w.claimed_at >= ? AND w.claimed_at < ?)"
            " OR (w.confirmed_at >= ? AND w.confirmed_at < ?))" + where + " ORDER BY w.id",
            (*bounds, *bounds, *bounds, *params),
        )
        return [
            WishSheetRow(
                id=row[0],
                alias=row[1],
                grade=row[2],
                text=row[3],
                category=row[4],
                value_yuan=row[5],
                status=row[6],
                consent=bool(row[7]),
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

    async def deeds(self, first: date, last: date, org_id: OrgScope = None) -> list[DeedSheetRow]:
        """Deeds done in [first, last] (local dates), by date."""
        where, params = _org_clause("d.org_id", org_id)
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
        where, params = _org_clause("a.org_id", org_id)
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
        where, params = _org_clause("collector_org_id", org_id)
        rows = await self.db.fetch_all(
            "SELECT status, COUNT(*) AS n,"
            f" SUM(CASE WHEN status IN {_IN_PROGRESS} AND deadline IS NOT NULL AND deadline < ?"
            " THEN 1 ELSE 0 END) AS late"
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
