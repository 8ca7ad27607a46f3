"""Sunshine Home's figures over a period, for /stats, /export, /report and the charts.

- children covered: distinct children with a contact in the period, or at a group session
  starting in it; child person-times: contacts plus session attendances;
- volunteer person-times: contacts (each is one volunteer's service), by the volunteer's kind
  and origin (from their profile; "" when they have none), with their minutes;
- pairs: active now, gone quiet now (no contact for longer than their rhythm), ended in the period
  (by reason); children who left in the period, by reason;
- by village or school (the child's organisation) and by township (that organisation's parent in
  the tree; an organisation without a parent stands for itself).

Scope: the county (org_ids None), or one organisation and the organisations directly under it.
The default export summarises contacts per pair and month; the contact-level list is a separate
workbook. No sheet holds a private detail, a note or a photo.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.domain.stats import Period
from bot.domain.sunshine.keeping import PairKeeping
from bot.domain.xlsx import Cell, StreamedBook, in_batches
from bot.model.organisation import Organisation
from bot.model.sunshine import child_code, pair_code
from storage.sunshine_figures import ContactLine, ContactRow, Span

Labels = Callable[..., str]


@dataclass(frozen=True)
class AreaLine:
    org_id: int
    name: str
    children: int  # distinct children contacted
    contacts: int
    active: int
    quiet: int


@dataclass(frozen=True)
class SunshineFigures:
    period: Period
    registered: int
    children_covered: int
    child_person_times: int
    contacts: int
    contact_minutes: int
    by_kind: dict[str, tuple[int, int]]  # volunteer kind → (person-times, minutes)
    by_origin: dict[str, int]  # origin ("" = mainland or unknown) → person-times
    pairs_active: int
    pairs_quiet: int
    pairs_ended: dict[str, int]
    leavers: dict[str, int]
    by_org: list[AreaLine] = field(default_factory=list)
    by_township: list[AreaLine] = field(default_factory=list)

    @property
    def ended(self) -> int:
        return sum(self.pairs_ended.values())

    @property
    def left(self) -> int:
        return sum(self.leavers.values())


@dataclass(frozen=True)
class SunshineExport:
    figures: SunshineFigures
    per_pair_month: AsyncIterator[list[ContactRow]]  # by pair, then month: streamed from the database
    names: dict[int, str]  # organisation names


class SunshineFigureService(PairKeeping):
    def span(self, period: Period) -> Span:
        start, before = period.bounds(self.zone)
        return Span(period.start, period.end, start, before)

    async def scope(self, org_id: int | None) -> list[int] | None:
        if org_id is None:
            return None
        return [org_id] + [org.id for org in await self.orgs.list() if org.parent_id == org_id]

    async def quiet_cutoffs(self, org_ids: list[int] | None) -> dict[int, date]:
        """For each rhythm the active pairs keep, the first day of a quiet spell that is not quiet
        yet today: bot/domain/sunshine/keeping.py `is_quiet` (longer than the rhythm without a
        contact) as a date the database compares with, so no pair is fetched to count them."""
        today = self.today()
        return {days: today - timedelta(days=days) for days in await self.figure_rows.active_rhythms(org_ids)}

    async def figures(self, period: Period, org_id: int | None = None) -> SunshineFigures:
        """From grouped queries (storage/sunshine_figures.py): a province-year's two million
        contacts are summed in the database, never fetched."""
        span, org_ids = self.span(period), await self.scope(org_id)
        repo = self.figure_rows
        totals = await repo.contact_totals(span, org_ids)
        by_kind: dict[str, tuple[int, int]] = {}
        by_origin: Counter[str] = Counter()
        contacts_by_org: Counter[int] = Counter()
        for line in totals:
            times, minutes = by_kind.get(line.kind, (0, 0))
            by_kind[line.kind] = (times + line.contacts, minutes + line.minutes)
            by_origin[line.origin] += line.contacts
            contacts_by_org[line.org_id] += line.contacts
        active_by = await repo.active_pairs_by_org(org_ids)
        quiet_by = Counter(await repo.quiet_by_org(await self.quiet_cutoffs(org_ids), org_ids))
        orgs = {org.id: org for org in await self.orgs.list(include_archived=True)}
        by_org = area_lines(contacts_by_org, await repo.children_by_org(span, org_ids), active_by, quiet_by, orgs)
        contacts = sum(line.contacts for line in totals)
        return SunshineFigures(
            period=period,
            registered=await repo.registered(org_ids),
            children_covered=await repo.children_covered(span, org_ids),
            child_person_times=contacts + await repo.session_count(span, org_ids),
            contacts=contacts,
            contact_minutes=sum(line.minutes for line in totals),
            by_kind=by_kind,
            by_origin=dict(by_origin),
            pairs_active=sum(active_by.values()),
            pairs_quiet=sum(quiet_by.values()),
            pairs_ended=await repo.pairs_ended(span, org_ids),
            leavers=await repo.leavers(span, org_ids),
            by_org=by_org,
            by_township=township_lines(by_org, orgs),
        )

    async def export_data(self, period: Period, org_id: int | None = None) -> SunshineExport:
        """The figures, and the contacts per pair and month to stream into the sheet."""
        figures = await self.figures(period, org_id)
        names = {org.id: org.name for org in await self.orgs.list(include_archived=True)}
        return SunshineExport(figures, self.figure_rows.pair_months(self.span(period), await self.scope(org_id)), names)

    async def contact_lines(
        self, period: Period, org_id: int | None = None
    ) -> tuple[AsyncIterator[list[ContactLine]], dict[int, str]]:
        """The period's contacts (streamed when iterated) and the organisations' names."""
        lines = self.figure_rows.contact_lines(self.span(period), await self.scope(org_id))
        names = {org.id: org.name for org in await self.orgs.list(include_archived=True)}
        return lines, names

    async def chart_data(
        self, period: Period, org_id: int | None = None
    ) -> tuple[dict[str, dict[str, int]], list[AreaLine]]:
        """Contacts per month per township (in the order of their first pairs), and the
        townships' active and quiet pairs."""
        span, org_ids = self.span(period), await self.scope(org_id)
        orgs = {org.id: org for org in await self.orgs.list(include_archived=True)}
        first_pair: dict[str, int] = {}
        months: dict[str, dict[str, int]] = {}
        for org, month, count, first in await self.figure_rows.months_by_org(span, org_ids):
            township = township_of(org, orgs)
            name = township.name if township else str(org)
            first_pair[name] = min(first, first_pair.get(name, first))
            by_month = months.setdefault(name, {})
            by_month[month] = by_month.get(month, 0) + count
        ordered = {name: months[name] for name in sorted(months, key=lambda name: first_pair[name])}
        return ordered, (await self.figures(period, org_id)).by_township


def area_lines(
    contacts: Counter[int],
    children: dict[int, int],
    active_by: dict[int, int],
    quiet_by: Counter[int],
    orgs: dict[int, Organisation],
) -> list[AreaLine]:
    """Each village's or school's children served, contacts, active and quiet pairs."""
    touched = {org for org, count in contacts.items() if count} | set(active_by) | set(children)
    return [
        AreaLine(
            org_id,
            orgs[org_id].name if org_id in orgs else str(org_id),
            children.get(org_id, 0),
            contacts[org_id],
            active_by.get(org_id, 0),
            quiet_by[org_id],
        )
        for org_id in sorted(touched)
    ]


def township_of(org_id: int, orgs: dict[int, Organisation]) -> Organisation | None:
    org = orgs.get(org_id)
    if org is None:
        return None
    return orgs.get(org.parent_id, org) if org.parent_id is not None else org


def township_lines(by_org: list[AreaLine], orgs: dict[int, Organisation]) -> list[AreaLine]:
    totals: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for line in by_org:
        township = township_of(line.org_id, orgs)
        key = township.id if township else line.org_id
        names[key] = township.name if township else line.name
        total = totals.setdefault(key, [0, 0, 0, 0])
        for index, value in enumerate((line.children, line.contacts, line.active, line.quiet)):
            total[index] += value
    return [AreaLine(key, names[key], *totals[key]) for key in sorted(totals)]


# ---- the workbooks ------------------------------------------------------------------------------
SHEETS = 4  # the default export's Sunshine Home sheets


async def write_sunshine_sheets(data: SunshineExport, labels: Labels, book: StreamedBook) -> None:
    """The default export's Sunshine Home sheets: the figures, the areas, and contacts per pair
    and month (written after the export's own sheets, bot/domain/export_workbook.py), the last
    streamed from the database batch by batch."""
    figures = data.figures
    summary: list[list[Cell]] = [
        [labels(f"sunshine.fig_{key}"), value]
        for key, value in (
            ("registered", figures.registered),
            ("children_covered", figures.children_covered),
            ("child_person_times", figures.child_person_times),
            ("contacts", figures.contacts),
            ("hours", round(figures.contact_minutes / 60, 1)),
            ("pairs_active", figures.pairs_active),
            ("pairs_quiet", figures.pairs_quiet),
            ("pairs_ended", figures.ended),
            ("left", figures.left),
        )
    ]
    for kind, (times, _minutes) in sorted(figures.by_kind.items()):
        summary.append([labels("sunshine.fig_kind", kind=labels(f"sunshine.kind_{kind or 'none'}")), times])
    for origin, times in sorted(figures.by_origin.items()):
        summary.append([labels("sunshine.fig_origin", origin=labels(f"sunshine.origin_{origin or 'none'}")), times])
    for reason, count in sorted(figures.leavers.items()):
        summary.append([labels("sunshine.fig_leaver", reason=labels(f"sunshine.leave_{reason}")), count])
    header = [labels("sunshine.col_figure"), labels("sunshine.col_value")]
    await book.sheet(labels("sunshine.sheet_summary"), header, [30, 14], in_batches(summary), list)
    area_header = [labels(f"sunshine.col_{name}") for name in ("area", "children", "contacts", "active", "quiet")]
    for title, lines in (("sheet_orgs", figures.by_org), ("sheet_townships", figures.by_township)):
        await book.sheet(labels(f"sunshine.{title}"), area_header, [24, 12, 12, 12, 12], in_batches(lines), _area_cells)
    # One row per pair, one column per month of the period: a county-year's 5,000 pairs are
    # 5,000 rows (a row per pair and month would be ten times the cells to write).
    months = period_months(figures.period)
    column = {month: index for index, month in enumerate(months)}

    def pair_cells(rows: list[ContactRow]) -> list[Cell]:
        counts: list[Cell] = [None] * len(months)
        for row in rows:
            counts[column[row.month]] = row.contacts
        first = rows[0]
        return [
            pair_code(first.pair_id),
            child_code(first.child_id),
            data.names.get(first.org_id, ""),
            sum(row.contacts for row in rows),
            sum(row.minutes for row in rows),
            *counts,
        ]

    header = [labels(f"sunshine.col_{name}") for name in ("pair", "child", "org", "contacts", "minutes")] + months
    widths = [10.0, 10.0, 24.0, 10.0, 10.0] + [9.0] * len(months)
    await book.sheet(labels("sunshine.sheet_pair_months"), header, widths, by_pair(data.per_pair_month), pair_cells)


def _area_cells(line: AreaLine) -> list[Cell]:
    return [line.name, line.children, line.contacts, line.active, line.quiet]


async def by_pair(batches: AsyncIterator[list[ContactRow]]) -> AsyncIterator[list[list[ContactRow]]]:
    """Batches of (pair, month) rows, in pair order, regrouped into whole pairs: a pair cut by a
    batch's end waits for the next batch."""
    pending: list[ContactRow] = []
    try:
        async for batch in batches:
            pairs: list[list[ContactRow]] = []
            for row in batch:
                if pending and pending[0].pair_id != row.pair_id:
                    pairs.append(pending)
                    pending = []
                pending.append(row)
            if pairs:
                yield pairs
        if pending:
            yield [pending]
    finally:
        close = getattr(batches, "aclose", None)
        if close is not None:
            await close()


def period_months(period: Period) -> list[str]:
    """'YYYY-MM' of every month the period touches."""
    months, year, month = [], period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


async def write_contacts_workbook(
    lines: AsyncIterator[list[ContactLine]], names: dict[int, str], labels: Labels
) -> tuple[bytes, int]:
    """The contact-level list: one row per contact (no note, no photo), streamed in; the bytes
    and how many rows."""
    book = StreamedBook(1)
    header = [labels(f"sunshine.col_{name}") for name in ("date", "pair", "child", "org", "kind_contact", "minutes")]
    words = {kind: labels(f"sunshine.contact_{kind}") for kind in ("visit", "call", "online", "group")}

    def cells(line: ContactLine) -> list[Cell]:
        return [
            line.contact_on,
            pair_code(line.pair_id),
            child_code(line.child_id),
            names.get(line.org_id, ""),
            words[line.kind],
            line.minutes,
        ]

    rows = await book.sheet(labels("sunshine.sheet_contacts"), header, [12, 10, 10, 24, 12, 10], lines, cells)
    return await book.close(), rows
