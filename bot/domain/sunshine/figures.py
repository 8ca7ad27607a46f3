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


class SunshineFigureService(PairKeeping):
    def span(self, period: Period) -> Span:
        start, before = period.bounds(self.zone)
        return Span(period.start, period.end, start, before)

    async def scope(self, org_id: int | None) -> list[int] | None:
        if org_id is None:
            return None
        return [org_id] + [org.id for org in await self.orgs.list() if org.parent_id == org_id]

    async def figures(self, period: Period, org_id: int | None = None) -> SunshineFigures:
        span, org_ids = self.span(period), await self.scope(org_id)
        rows = self.figure_rows
        contacted = await rows.contacted_children(span, org_ids)
        sessions = await rows.session_rows(span, org_ids)
        volunteers = await rows.by_volunteer(span, org_ids)
        by_kind: dict[str, tuple[int, int]] = {}
        by_origin: Counter[str] = Counter()
        for kind, origin, count, minutes in volunteers:
            times, total = by_kind.get(kind, (0, 0))
            by_kind[kind] = (times + count, total + minutes)
            by_origin[origin] += count
        contacts = sum(count for count, _ in by_kind.values())
        pairs = await self.pairs.of_orgs(org_ids)
        active = [pair for pair in pairs if pair.status is PairStatus.ACTIVE]
        quiet = await self.quiet_pairs(org_ids)
        by_org, by_township = await self._areas(span, org_ids, active, quiet, sessions)
        return SunshineFigures(
            period=period,
            registered=await rows.registered(org_ids),
            children_covered=len(contacted | {child for child, _ in sessions}),
            child_person_times=contacts + len(sessions),
            contacts=contacts,
            contact_minutes=sum(minutes for _, minutes in by_kind.values()),
            by_kind=by_kind,
            by_origin=dict(by_origin),
            pairs_active=len(active),
            pairs_quiet=len(quiet),
            pairs_ended=await rows.pairs_ended(span, org_ids),
            leavers=await rows.leavers(span, org_ids),
            by_org=by_org,
            by_township=by_township,
        )

    async def _areas(
        self,
        span: Span,
        org_ids: list[int] | None,
        active: list[Pair],
        quiet: list[QuietPair],
        sessions: list[tuple[int, int]],
    ) -> tuple[list[AreaLine], list[AreaLine]]:
        orgs = {org.id: org for org in await self.orgs.list(include_archived=True)}
        contacts = await self.figure_rows.contacts_by_org(span, org_ids)
        active_by = Counter(pair.org_id for pair in active)
        quiet_by = Counter(item.pair.org_id for item in quiet)
        session_by = Counter(org for _, org in sessions)
        touched = set(contacts) | set(active_by) | set(session_by)
        by_org = [
            AreaLine(
                org_id,
                orgs[org_id].name if org_id in orgs else str(org_id),
                contacts.get(org_id, (0, 0))[1],
                contacts.get(org_id, (0, 0))[0],
                active_by[org_id],
                quiet_by[org_id],
            )
            for org_id in sorted(touched)
        ]
        return by_org, township_lines(by_org, orgs)

    async def export_data(self, period: Period, org_id: int | None = None) -> SunshineExport:
        figures = await self.figures(period, org_id)
        rows = await self.figure_rows.per_pair_month(self.span(period), await self.scope(org_id))
        names = {org.id: org.name for org in await self.orgs.list(include_archived=True)}
        return SunshineExport(figures, rows, names)

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
        org_ids = await self.scope(org_id)
        orgs = {org.id: org for org in await self.orgs.list(include_archived=True)}
        months: dict[str, dict[str, int]] = {}
        for org, month, count in await self.figure_rows.per_org_month(self.span(period), org_ids):
            township = township_of(org, orgs)
            by_month = months.setdefault(township.name if township else str(org), {})
            by_month[month] = by_month.get(month, 0) + count
        figures = await self.figures(period, org_id)
        return months, figures.by_township


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
    header = [labels(f"sunshine.col_{name}") for name in ("pair", "child", "org", "month", "contacts", "minutes")]
    with book.sheet(labels("sunshine.sheet_pair_months"), header, [10, 10, 24, 10, 10, 10]) as sheet:
        for row in data.per_pair_month:
            sheet.row(
                [
                    pair_code(row.pair_id),
                    child_code(row.child_id),
                    data.names.get(row.org_id, ""),
                    row.month,
                    row.contacts,
                    row.minutes,
                ]
            )


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
