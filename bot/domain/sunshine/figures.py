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
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.domain.stats import Period
from bot.domain.sunshine.keeping import PairKeeping
from bot.domain.xlsx import XlsxWriter
from bot.model.organisation import Organisation
from bot.model.sunshine import Pair, PairStatus, QuietPair, child_code, pair_code
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
    per_pair_month: list[ContactRow]
    names: dict[int, str]  # organisation names


@dataclass(frozen=True)
class _Gathered:
    """One period's figures, the contacts per pair and month they come from, and the months of
    contacts per organisation (the chart's lines): from one pass over the contacts."""

    figures: SunshineFigures
    rows: list[ContactRow]
    orgs: dict[int, Organisation]


class SunshineFigureService(PairKeeping):
    def span(self, period: Period) -> Span:
        start, before = period.bounds(self.zone)
        return Span(period.start, period.end, start, before)

    async def scope(self, org_id: int | None) -> list[int] | None:
        if org_id is None:
            return None
        return [org_id] + [org.id for org in await self.orgs.list() if org.parent_id == org_id]

    async def figures(self, period: Period, org_id: int | None = None) -> SunshineFigures:
        return (await self._gather(period, org_id)).figures

    async def _gather(self, period: Period, org_id: int | None) -> _Gathered:
        span, org_ids = self.span(period), await self.scope(org_id)
        repo = self.figure_rows
        pairs = await self.pairs.of_orgs(org_ids)
        who = {pair.id: (pair.child_id, pair.volunteer_id, pair.org_id) for pair in pairs}
        rows = [
            ContactRow(pair_id, *who[pair_id], month, count, minutes)
            for pair_id, month, count, minutes in await repo.pair_months(span, org_ids)
            if pair_id in who
        ]
        sessions = await repo.session_rows(span, org_ids)
        kinds = await repo.volunteer_kinds()
        by_kind: dict[str, tuple[int, int]] = {}
        by_origin: Counter[str] = Counter()
        for row in rows:
            kind, origin = kinds.get(row.volunteer_id, ("", ""))
            times, total = by_kind.get(kind, (0, 0))
            by_kind[kind] = (times + row.contacts, total + row.minutes)
            by_origin[origin] += row.contacts
        active = [pair for pair in pairs if pair.status is PairStatus.ACTIVE]
        quiet = await self.quiet_pairs(org_ids)
        orgs = {org.id: org for org in await self.orgs.list(include_archived=True)}
        by_org = area_lines(rows, active, quiet, sessions, orgs)
        contacts = sum(row.contacts for row in rows)
        figures = SunshineFigures(
            period=period,
            registered=await repo.registered(org_ids),
            children_covered=len({row.child_id for row in rows} | {child for child, _ in sessions}),
            child_person_times=contacts + len(sessions),
            contacts=contacts,
            contact_minutes=sum(row.minutes for row in rows),
            by_kind=by_kind,
            by_origin=dict(by_origin),
            pairs_active=len(active),
            pairs_quiet=len(quiet),
            pairs_ended=await repo.pairs_ended(span, org_ids),
            leavers=await repo.leavers(span, org_ids),
            by_org=by_org,
            by_township=township_lines(by_org, orgs),
        )
        return _Gathered(figures, rows, orgs)

    async def export_data(self, period: Period, org_id: int | None = None) -> SunshineExport:
        gathered = await self._gather(period, org_id)
        names = {org.id: org.name for org in gathered.orgs.values()}
        return SunshineExport(gathered.figures, gathered.rows, names)

    async def contact_lines(
        self, period: Period, org_id: int | None = None
    ) -> tuple[list[ContactLine], dict[int, str]]:
        lines = await self.figure_rows.contact_lines(self.span(period), await self.scope(org_id))
        names = {org.id: org.name for org in await self.orgs.list(include_archived=True)}
        return lines, names

    async def chart_data(
        self, period: Period, org_id: int | None = None
    ) -> tuple[dict[str, dict[str, int]], list[AreaLine]]:
        """Contacts per month per township, and the townships' active and quiet pairs."""
        gathered = await self._gather(period, org_id)
        months: dict[str, dict[str, int]] = {}
        for row in gathered.rows:
            township = township_of(row.org_id, gathered.orgs)
            by_month = months.setdefault(township.name if township else str(row.org_id), {})
            by_month[row.month] = by_month.get(row.month, 0) + row.contacts
        return months, gathered.figures.by_township


def area_lines(
    rows: list[ContactRow],
    active: list[Pair],
    quiet: list[QuietPair],
    sessions: list[tuple[int, int]],
    orgs: dict[int, Organisation],
) -> list[AreaLine]:
    """Each village's or school's children served, contacts, active and quiet pairs."""
    contacts: Counter[int] = Counter()
    children: dict[int, set[int]] = {}
    for row in rows:
        contacts[row.org_id] += row.contacts
        children.setdefault(row.org_id, set()).add(row.child_id)
    for child, org in sessions:
        children.setdefault(org, set()).add(child)
    active_by = Counter(pair.org_id for pair in active)
    quiet_by = Counter(item.pair.org_id for item in quiet)
    touched = set(contacts) | set(active_by) | set(children)
    return [
        AreaLine(
            org_id,
            orgs[org_id].name if org_id in orgs else str(org_id),
            len(children.get(org_id, ())),
            contacts[org_id],
            active_by[org_id],
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


# ---- the workbooks (CPU: run through asyncio.to_thread) -------------------------------------------
def write_sunshine_sheets(data: SunshineExport, labels: Labels, book: XlsxWriter) -> None:
    """The default export's Sunshine Home sheets: the figures, the areas, and contacts per pair
    and month (written after the export's own sheets, bot/domain/exports.py `build_workbook`)."""
    figures = data.figures
    with book.sheet(
        labels("sunshine.sheet_summary"), [labels("sunshine.col_figure"), labels("sunshine.col_value")], [30, 14]
    ) as sheet:
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
        ):
            sheet.row([labels(f"sunshine.fig_{key}"), value])
        for kind, (times, _minutes) in sorted(figures.by_kind.items()):
            sheet.row([labels("sunshine.fig_kind", kind=labels(f"sunshine.kind_{kind or 'none'}")), times])
        for origin, times in sorted(figures.by_origin.items()):
            sheet.row([labels("sunshine.fig_origin", origin=labels(f"sunshine.origin_{origin or 'none'}")), times])
        for reason, count in sorted(figures.leavers.items()):
            sheet.row([labels("sunshine.fig_leaver", reason=labels(f"sunshine.leave_{reason}")), count])
    area_header = [labels(f"sunshine.col_{name}") for name in ("area", "children", "contacts", "active", "quiet")]
    for title, lines in (("sheet_orgs", figures.by_org), ("sheet_townships", figures.by_township)):
        with book.sheet(labels(f"sunshine.{title}"), area_header, [24, 12, 12, 12, 12]) as sheet:
            for line in lines:
                sheet.row([line.name, line.children, line.contacts, line.active, line.quiet])
    # One row per pair, one column per month of the period: a county-year's 5,000 pairs are
    # 5,000 rows (a row per pair and month would be ten times the cells to write).
    months = period_months(figures.period)
    header = [labels(f"sunshine.col_{name}") for name in ("pair", "child", "org", "contacts", "minutes")] + months
    by_pair: dict[int, list[ContactRow]] = {}
    for row in data.per_pair_month:
        by_pair.setdefault(row.pair_id, []).append(row)
    column = {month: index for index, month in enumerate(months)}
    with book.sheet(
        labels("sunshine.sheet_pair_months"), header, [10.0, 10.0, 24.0, 10.0, 10.0] + [9.0] * len(months)
    ) as sheet:
        for pair_id, rows in by_pair.items():
            counts: list[int | None] = [None] * len(months)
            for row in rows:
                counts[column[row.month]] = row.contacts
            first = rows[0]
            sheet.row(
                [
                    pair_code(pair_id),
                    child_code(first.child_id),
                    data.names.get(first.org_id, ""),
                    sum(row.contacts for row in rows),
                    sum(row.minutes for row in rows),
                    *counts,
                ]
            )


def period_months(period: Period) -> list[str]:
    """'YYYY-MM' of every month the period touches."""
    months, year, month = [], period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def build_contacts_workbook(lines: list[ContactLine], names: dict[int, str], labels: Labels) -> bytes:
    """The contact-level list: one row per contact (no note, no photo)."""
    book = XlsxWriter()
    header = [labels(f"sunshine.col_{name}") for name in ("date", "pair", "child", "org", "kind_contact", "minutes")]
    words = {kind: labels(f"sunshine.contact_{kind}") for kind in ("visit", "call", "online", "group")}
    with book.sheet(labels("sunshine.sheet_contacts"), header, [12, 10, 10, 24, 12, 10]) as sheet:
        for line in lines:
            sheet.row(
                [
                    line.contact_on,
                    pair_code(line.pair_id),
                    child_code(line.child_id),
                    names.get(line.org_id, ""),
                    words[line.kind],
                    line.minutes,
                ]
            )
    return book.close()
