"""Sunshine Home's figures over a period: a few grouped queries, SQL only.

`org_ids` None means the whole county; days are local calendar dates (contacts are dated so),
`start`/`before` the period's UTC bounds (for group sessions, children leaving, pairs ending).
A province-year has two million contacts: the figures are summed in the database (per pair first,
along the index contacts_pair_on, then per organisation and volunteer kind), and the rows of the
export and the contact list are streamed in batches (`Database.stream`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
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
    """Contacts of one pair in one month ('YYYY-MM'); a tuple: a province-year makes 500,000."""

    pair_id: int
    child_id: int
    volunteer_id: int
    org_id: int
    month: str
    contacts: int
    minutes: int


class ContactTotal(NamedTuple):
    """Contacts and their minutes by the pair's organisation and the volunteer's kind and origin
    ('' when the volunteer has no profile or left it empty)."""

    org_id: int
    kind: str
    origin: str
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

    def _pair_scope(self, org_ids: Sequence[int] | None) -> tuple[str, list[object]]:
        where, params = _orgs("org_id", org_ids)
        return (f" AND c.pair_id IN (SELECT id FROM pairs WHERE 1 = 1{where})" if org_ids is not None else ""), params

    async def contact_totals(self, span: Span, org_ids: Sequence[int] | None) -> list[ContactTotal]:
        """The period's contacts summed per pair (along the index), then per organisation, kind and
        origin: every contact figure of /stats and /report comes from these few hundred rows."""
        scope, params = self._pair_scope(org_ids)
        rows = await self.db.fetch_all(
            "SELECT p.org_id, COALESCE(v.kind, ''), COALESCE(v.origin, ''), SUM(x.n), SUM(x.minutes)"
            " FROM (SELECT c.pair_id, COUNT(*) AS n, SUM(c.minutes) AS minutes FROM contacts c"
            f" WHERE c.contact_on BETWEEN ? AND ?{scope} GROUP BY c.pair_id) x"
            " JOIN pairs p ON p.id = x.pair_id LEFT JOIN volunteer_profiles v ON v.user_id = p.volunteer_id"
            " GROUP BY p.org_id, COALESCE(v.kind, ''), COALESCE(v.origin, '')"
            " ORDER BY p.org_id, COALESCE(v.kind, ''), COALESCE(v.origin, '')",
            [*self._days(span), *params],
        )
        return [ContactTotal(row[0], row[1], row[2], int(row[3]), int(row[4] or 0)) for row in rows]

    def _children_served(self, span: Span, org_ids: Sequence[int] | None) -> tuple[str, list[object]]:
        """(organisation, child) of every child with a contact in the period (by the pair's
        organisation) or at a group session starting in it (by the child's): a subquery."""
        pair_where, pair_params = _orgs("p.org_id", org_ids)
        child_where, child_params = _orgs("ch.org_id", org_ids)
        return (
            "SELECT p.org_id AS org_id, p.child_id AS child_id FROM pairs p WHERE EXISTS (SELECT 1 FROM contacts c"
            f" WHERE c.pair_id = p.id AND c.contact_on BETWEEN ? AND ?){pair_where}"
            " UNION SELECT ch.org_id, s.child_id FROM session_children s JOIN activities a ON a.id = s.activity_id"
            f" JOIN children ch ON ch.id = s.child_id WHERE a.starts_at >= ? AND a.starts_at < ?{child_where}",
            [
                *self._days(span),
                *pair_params,
                to_db_time(span.start),
                to_db_time(span.before),
                *child_params,
            ],
        )

    async def children_by_org(self, span: Span, org_ids: Sequence[int] | None) -> dict[int, int]:
        """Distinct children served per organisation."""
        served, params = self._children_served(span, org_ids)
        rows = await self.db.fetch_all(
            f"SELECT u.org_id, COUNT(DISTINCT u.child_id) FROM ({served}) u GROUP BY u.org_id", params
        )
        return {row[0]: row[1] for row in rows}

    async def children_covered(self, span: Span, org_ids: Sequence[int] | None) -> int:
        """Distinct children served in all (a child served in two places counts once)."""
        served, params = self._children_served(span, org_ids)
        return int(await self.db.fetch_value(f"SELECT COUNT(DISTINCT u.child_id) FROM ({served}) u", params) or 0)

    async def session_count(self, span: Span, org_ids: Sequence[int] | None) -> int:
        """Attendances of children at group sessions starting in the period."""
        where, params = _orgs("ch.org_id", org_ids)
        value = await self.db.fetch_value(
            "SELECT COUNT(*) FROM session_children s JOIN activities a ON a.id = s.activity_id"
            " JOIN children ch ON ch.id = s.child_id"
            f" WHERE a.starts_at >= ? AND a.starts_at < ?{where}",
            [to_db_time(span.start), to_db_time(span.before), *params],
        )
        return int(value or 0)

    async def active_rhythms(self, org_ids: Sequence[int] | None) -> list[int]:
        """The rhythms (days) active pairs keep."""
        where, params = _orgs("org_id", org_ids)
        rows = await self.db.fetch_all(
            f"SELECT DISTINCT rhythm_days FROM pairs WHERE status = 'active'{where} ORDER BY rhythm_days", params
        )
        return [row[0] for row in rows]

    async def quiet_by_org(self, cutoffs: dict[int, date], org_ids: Sequence[int] | None) -> dict[int, int]:
        """Active pairs gone quiet, per organisation: whose last contact (else their start) is
        before the cutoff of their rhythm (`cutoffs`: rhythm days → the first day not quiet)."""
        if not cutoffs:
            return {}
        where, params = _orgs("p.org_id", org_ids)
        cases = " ".join("WHEN ? THEN ?" for _ in cutoffs)
        rows = await self.db.fetch_all(
            "SELECT p.org_id, COUNT(*) FROM pairs p WHERE p.status = 'active'"
            f"{where} AND COALESCE((SELECT MAX(c.contact_on) FROM contacts c WHERE c.pair_id = p.id), p.started_on)"
            f" < CASE p.rhythm_days {cases} END GROUP BY p.org_id",
            [*params, *(value for days, day in cutoffs.items() for value in (days, day.isoformat()))],
        )
        return {row[0]: row[1] for row in rows}

    async def active_pairs_by_org(self, org_ids: Sequence[int] | None) -> dict[int, int]:
        where, params = _orgs("org_id", org_ids)
        rows = await self.db.fetch_all(
            f"SELECT org_id, COUNT(*) FROM pairs WHERE status = 'active'{where} GROUP BY org_id", params
        )
        return {row[0]: row[1] for row in rows}

    async def months_by_org(self, span: Span, org_ids: Sequence[int] | None) -> list[tuple[int, str, int, int]]:
        """(organisation, 'YYYY-MM', contacts, the first pair with one): the chart's lines, in the
        order the organisations' first pairs come."""
        scope, params = self._pair_scope(org_ids)
        rows = await self.db.fetch_all(
            "SELECT p.org_id, substr(c.contact_on, 1, 7), COUNT(*), MIN(p.id) FROM contacts c"
            f" JOIN pairs p ON p.id = c.pair_id WHERE c.contact_on BETWEEN ? AND ?{scope}"
            " GROUP BY p.org_id, substr(c.contact_on, 1, 7) ORDER BY MIN(p.id), p.org_id, substr(c.contact_on, 1, 7)",
            [*self._days(span), *params],
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def pair_months(self, span: Span, org_ids: Sequence[int] | None) -> AsyncIterator[list[ContactRow]]:
        """Contacts per pair and month, by pair then month, streamed: the export's sheet."""
        scope, params = self._pair_scope(org_ids)
        async for rows in self.db.stream(
            "SELECT c.pair_id, p.child_id, p.volunteer_id, p.org_id, substr(c.contact_on, 1, 7), COUNT(*),"
            " SUM(c.minutes) FROM contacts c JOIN pairs p ON p.id = c.pair_id"
            f" WHERE c.contact_on BETWEEN ? AND ?{scope}"
            " GROUP BY c.pair_id, p.child_id, p.volunteer_id, p.org_id, substr(c.contact_on, 1, 7)"
            " ORDER BY c.pair_id, substr(c.contact_on, 1, 7)",
            [*self._days(span), *params],
        ):
            yield [ContactRow(*row) for row in rows]

    async def contact_lines(self, span: Span, org_ids: Sequence[int] | None) -> AsyncIterator[list[ContactLine]]:
        """Every contact of the period, by day, streamed (a province-year: two million)."""
        where, params = _orgs("p.org_id", org_ids)
        async for rows in self.db.stream(
            "SELECT p.id, p.child_id, p.volunteer_id, p.org_id, c.contact_on, c.kind, c.minutes"
            f" FROM contacts c JOIN pairs p ON p.id = c.pair_id WHERE c.contact_on BETWEEN ? AND ?{where}"
            " ORDER BY c.contact_on, c.id",
            [*self._days(span), *params],
        ):
            yield [ContactLine(*row) for row in rows]

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
