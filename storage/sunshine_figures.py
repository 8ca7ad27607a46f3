"""Sunshine Home's figures over a period: a few grouped queries, SQL only.

`org_ids` None means the whole county; days are local calendar dates (contacts are dated so),
`start`/`before` the period's UTC bounds (for group sessions, children leaving, pairs ending).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from storage.db import Database, to_db_time


@dataclass(frozen=True)
class Span:
    first_day: date
    last_day: date
    start: datetime  # UTC
    before: datetime  # UTC


class ContactRow(NamedTuple):
    """Contacts of one pair in one month ('YYYY-MM'); a tuple: a county-year makes 50,000."""

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

    async def pair_months(self, span: Span, org_ids: Sequence[int] | None) -> list[tuple[int, str, int, int]]:
        """(pair, 'YYYY-MM', contacts, minutes) of the period: the one pass over the contacts
        every contact figure is derived from (the index contacts_pair_on covers it)."""
        where, params = _orgs("org_id", org_ids)
        scope = f" AND c.pair_id IN (SELECT id FROM pairs WHERE 1 = 1{where})" if org_ids is not None else ""
        rows = await self.db.fetch_all(
            "SELECT c.pair_id, substr(c.contact_on, 1, 7), COUNT(*), SUM(c.minutes) FROM contacts c"
            f" WHERE c.contact_on BETWEEN ? AND ?{scope} GROUP BY c.pair_id, substr(c.contact_on, 1, 7)",
            [*self._days(span), *params],
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def volunteer_kinds(self) -> dict[int, tuple[str, str]]:
        """Volunteer → (kind or '', origin or '')."""
        rows = await self.db.fetch_all(
            "SELECT user_id, COALESCE(kind, ''), COALESCE(origin, '') FROM volunteer_profiles"
        )
        return {row[0]: (row[1], row[2]) for row in rows}

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

    async def contact_lines(self, span: Span, org_ids: Sequence[int] | None) -> list[ContactLine]:
        where, params = _orgs("p.org_id", org_ids)
        rows = await self.db.fetch_all(
            "SELECT p.id, p.child_id, p.volunteer_id, p.org_id, c.contact_on, c.kind, c.minutes"
            f" FROM contacts c JOIN pairs p ON p.id = c.pair_id WHERE c.contact_on BETWEEN ? AND ?{where}"
            " ORDER BY c.contact_on, c.id",
            [*self._days(span), *params],
        )
        return [ContactLine(*row) for row in rows]

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
