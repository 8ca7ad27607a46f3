"""Sunshine Home's figures over a period: a few grouped queries, SQL only.

`org_ids` None means the whole county; days are local calendar dates (contacts are dated so),
`start`/`before` the period's UTC bounds (for group sessions, children leaving, pairs ending).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from storage.db import Database, to_db_time


@dataclass(frozen=True)
class Span:
    first_day: date
    last_day: date
    start: datetime  # UTC
    before: datetime  # UTC


@dataclass(frozen=True)
class ContactRow:
    """Contacts of one pair in one month ('YYYY-MM')."""

    pair_id: int
    child_id: int
    volunteer_id: int
    org_id: int
    month: str
    contacts: int
    minutes: int


@dataclass(frozen=True)
class ContactLine:
    """One contact, for the contact-level export (no note, no photo: they may name the child)."""

    pair_id: int
    child_id: int
    volunteer_id: int
    org_id: int
    contact_on: str
    kind: str
    minutes: int


def _orgs(column: str, org_ids: Sequence[int] | None) -> tuple[str, list[object]]:
    if org_ids is None:
        return "", []
    return f" AND {column} IN ({', '.join('?' for _ in org_ids) or 'NULL'})", list(org_ids)


class SunshineFigureRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _days(self, span: Span) -> list[object]:
        return [span.first_day.isoformat(), span.last_day.isoformat()]

    async def contacted_children(self, span: Span, org_ids: Sequence[int] | None) -> set[int]:
        where, params = _orgs("p.org_id", org_ids)
        rows = await self.db.fetch_all(
            "SELECT DISTINCT p.child_id FROM contacts c JOIN pairs p ON p.id = c.pair_id"
            f" WHERE c.contact_on BETWEEN ? AND ?{where}",
            [*self._days(span), *params],
        )
        return {row[0] for row in rows}

    async def session_rows(self, span: Span, org_ids: Sequence[int] | None) -> list[tuple[int, int]]:
        """(child, organisation) of every attendance at a group session starting in the period."""
        where, params = _orgs("ch.org_id", org_ids)
        rows = await self.db.fetch_all(
            "SELECT s.child_id, ch.org_id FROM session_children s JOIN activities a ON a.id = s.activity_id"
            " JOIN children ch ON ch.id = s.child_id"
            f" WHERE a.starts_at >= ? AND a.starts_at < ?{where}",
            [to_db_time(span.start), to_db_time(span.before), *params],
        )
        return [(row[0], row[1]) for row in rows]

    async def contacts_by_org(self, span: Span, org_ids: Sequence[int] | None) -> dict[int, tuple[int, int]]:
        """Organisation → (contacts, distinct children contacted)."""
        where, params = _orgs("p.org_id", org_ids)
        rows = await self.db.fetch_all(
            "SELECT p.org_id, COUNT(*), COUNT(DISTINCT p.child_id) FROM contacts c JOIN pairs p ON p.id = c.pair_id"
            f" WHERE c.contact_on BETWEEN ? AND ?{where} GROUP BY p.org_id",
            [*self._days(span), *params],
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    async def by_volunteer(self, span: Span, org_ids: Sequence[int] | None) -> list[tuple[str, str, int, int]]:
        """(volunteer kind or '', origin or '', contacts, minutes), grouped."""
        where, params = _orgs("p.org_id", org_ids)
        rows = await self.db.fetch_all(
            "SELECT COALESCE(v.kind, '') AS kind, COALESCE(v.origin, '') AS origin, COUNT(*), SUM(c.minutes)"
            " FROM contacts c JOIN pairs p ON p.id = c.pair_id LEFT JOIN volunteer_profiles v"
            f" ON v.user_id = p.volunteer_id WHERE c.contact_on BETWEEN ? AND ?{where}"
            " GROUP BY COALESCE(v.kind, ''), COALESCE(v.origin, '')",
            [*self._days(span), *params],
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def per_pair_month(self, span: Span, org_ids: Sequence[int] | None) -> list[ContactRow]:
        where, params = _orgs("p.org_id", org_ids)
        rows = await self.db.fetch_all(
            "SELECT p.id, p.child_id, p.volunteer_id, p.org_id, substr(c.contact_on, 1, 7) AS month,"
            " COUNT(*), SUM(c.minutes) FROM contacts c JOIN pairs p ON p.id = c.pair_id"
            f" WHERE c.contact_on BETWEEN ? AND ?{where}"
            " GROUP BY p.id, p.child_id, p.volunteer_id, p.org_id, substr(c.contact_on, 1, 7) ORDER BY p.id, month",
            [*self._days(span), *params],
        )
        return [ContactRow(*row) for row in rows]

    async def contact_lines(self, span: Span, org_ids: Sequence[int] | None) -> list[ContactLine]:
        where, params = _orgs("p.org_id", org_ids)
        rows = await self.db.fetch_all(
            "SELECT p.id, p.child_id, p.volunteer_id, p.org_id, c.contact_on, c.kind, c.minutes"
            f" FROM contacts c JOIN pairs p ON p.id = c.pair_id WHERE c.contact_on BETWEEN ? AND ?{where}"
            " ORDER BY c.contact_on, c.id",
            [*self._days(span), *params],
        )
        return [ContactLine(*row) for row in rows]

    async def per_org_month(self, span: Span, org_ids: Sequence[int] | None) -> list[tuple[int, str, int]]:
        """(organisation, month, contacts): the chart's bars."""
        where, params = _orgs("p.org_id", org_ids)
        rows = await self.db.fetch_all(
            "SELECT p.org_id, substr(c.contact_on, 1, 7) AS month, COUNT(*) FROM contacts c"
            f" JOIN pairs p ON p.id = c.pair_id WHERE c.contact_on BETWEEN ? AND ?{where}"
            " GROUP BY p.org_id, substr(c.contact_on, 1, 7)",
            [*self._days(span), *params],
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def pairs_ended(self, span: Span, org_ids: Sequence[int] | None) -> dict[str, int]:
        where, params = _orgs("org_id", org_ids)
        rows = await self.db.fetch_all(
            "SELECT end_reason, COUNT(*) FROM pairs WHERE status = 'ended' AND ended_at >= ? AND ended_at < ?"
            f"{where} GROUP BY end_reason",
            [to_db_time(span.start), to_db_time(span.before), *params],
        )
        return {row[0]: row[1] for row in rows}

    async def leavers(self, span: Span, org_ids: Sequence[int] | None) -> dict[str, int]:
        where, params = _orgs("org_id", org_ids)
        rows = await self.db.fetch_all(
            "SELECT left_reason, COUNT(*) FROM children WHERE status = 'left' AND left_at >= ? AND left_at < ?"
            f"{where} GROUP BY left_reason",
            [to_db_time(span.start), to_db_time(span.before), *params],
        )
        return {row[0]: row[1] for row in rows}

    async def registered(self, org_ids: Sequence[int] | None) -> int:
        where, params = _orgs("org_id", org_ids)
        return int(await self.db.fetch_value(f"SELECT COUNT(*) FROM children WHERE status = 'active'{where}", params))
