"""The ledger's reports: balances, money in and out grouped by period, donor, township, purpose or
fund, a donor's statement, the year-end figures, the XLSX workbook and the monthly chart.

Nothing here shows a child's private details: a student appears by the campaign's public alias,
a donor by their public name (or as anonymous), and the workbook never holds contact details."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.domain.errors import PermissionDenied
from bot.domain.funds.ledger import FundService
from bot.domain.funds.rules import postings_of
from bot.domain.xlsx import XlsxWriter
from bot.model.funds import (
    PAYING_OUT,
    Balance,
    Donor,
    DonorStatement,
    Entry,
    EntryKind,
    Fund,
    RecipientKind,
    StatementLine,
    Total,
    YearFunds,
)
from bot.model.organisation import Organisation, OrgKind
from storage.fund_figures import FundFigureRepository, MovedLeg

Labels = Callable[..., str]


class GroupBy(StrEnum):
    FUND = "fund"
    DONOR = "donor"
    TOWNSHIP = "township"
    PURPOSE = "purpose"


@dataclass(frozen=True, slots=True)  # slots: one per entry of a province's ledger
class Effect:
    """One counting entry's money in and out of one fund (a correction's are negative)."""

    entry: Entry
    fund_id: int
    received_fen: int
    paid_fen: int


def effects(entries: list[Entry]) -> list[Effect]:
    """What every entry moved, by fund, recomputed from the entries alone (no postings): the
    check the bench and the property test hold the stored balances against."""
    by_id = {entry.id: entry for entry in entries}
    result = []
    for entry in entries:
        if not entry.counts:
            continue
        source = by_id.get(entry.reverses_id) if entry.kind is EntryKind.CORRECTION and entry.reverses_id else entry
        if source is None or not source.counts:
            continue
        sign = -1 if entry.kind is EntryKind.CORRECTION else 1
        for fund_id, delta in postings_of(source):
            incoming = source.kind is EntryKind.RECEIPT or (
                source.kind is EntryKind.TRANSFER and fund_id == source.to_fund_id
            )
            delta *= sign
            result.append(Effect(entry, fund_id, delta if incoming else 0, 0 if incoming else -delta))
    return result


def recomputed_balances(entries: list[Entry], only: set[int] | None = None) -> dict[int, int]:
    """What the entries moved, by fund; `only`: count just these entries' moves (the rest are
    there as the entries some of them correct)."""
    balances: dict[int, int] = defaultdict(int)
    for effect in effects(entries):
        if only is None or effect.entry.id in only:
            balances[effect.fund_id] += effect.received_fen - effect.paid_fen
    return dict(balances)


class FundReports:
    def __init__(self, funds: FundService) -> None:
        self.funds = funds
        self.repo = funds.repo
        self.figures = FundFigureRepository(funds.repo.db)

    async def _require_reader(self, actor_id: int) -> list[Fund]:
        """The funds this person may report on: every fund for county admins, else those they keep."""
        kept = await self.funds.funds_for(actor_id)
        if not kept:
            raise PermissionDenied("funds.reports_not_allowed")
        return kept

    async def balances(self, actor_id: int) -> list[Balance]:
        kept = {fund.id for fund in await self._require_reader(actor_id)}
        return [item for item in await self.repo.balances() if item.fund.id in kept]

    async def _township_of(self, org_id: int | None, cache: dict[int, Organisation | None]) -> Organisation | None:
        """The township an organisation belongs to (itself, when it is one), following parents."""
        seen = 0
        current = org_id
        while current is not None and seen < 10:
            if current not in cache:
                cache[current] = await self.funds.orgs.get(current)
            org = cache[current]
            if org is None:
                return None
            if org.kind is OrgKind.TOWNSHIP:
                return org
            current = org.parent_id
            seen += 1
        return None

    async def totals(
        self, actor_id: int, by: GroupBy, start: date | None = None, end: date | None = None
    ) -> list[Total]:
        """Money in and out in [start, end), grouped; pledges are not money and are left out."""
        return (await self.totals_by(actor_id, (by,), start, end))[by]

    async def totals_by(
        self, actor_id: int, groupings: tuple[GroupBy, ...], start: date | None = None, end: date | None = None
    ) -> dict[GroupBy, list[Total]]:
        """Several groupings of the same period from the money each fund moved, summed in the
        database by donor and recipient organisation (storage/fund_figures.py)."""
        kept = {fund.id: fund for fund in await self._require_reader(actor_id)}
        donors = {donor.id: donor for donor in await self.repo.donors()}
        cache: dict[int, Organisation | None] = {}
        groups: dict[GroupBy, dict[str, list[int]]] = {by: {} for by in groupings}
        for leg in await self.figures.legs(start, end):
            fund = kept.get(leg.fund_id)
            if fund is None:
                continue
            for by in groupings:
                label = await self._label(by, fund, leg, donors, cache)
                if label is None:
                    continue
                # [in, out, where the ledger first moved it]: ties keep the ledger's order.
                found = groups[by].setdefault(label, [0, 0, leg.first])
                found[0] += leg.received_fen
                found[1] += leg.paid_fen
                found[2] = min(found[2], leg.first)
        return {
            by: [
                Total(label, found[0], found[1])
                for label, found in sorted(groups[by].items(), key=lambda item: (-item[1][0], item[1][2]))
            ]
            for by in groupings
        }

    async def _label(
        self, by: GroupBy, fund: Fund, leg: MovedLeg, donors: dict[int, Donor], cache: dict[int, Organisation | None]
    ) -> str | None:
        """The group a leg's money falls in; None: it belongs to none (money out by donor)."""
        if by is GroupBy.FUND:
            return fund.name
        if by is GroupBy.PURPOSE:
            return fund.purpose
        if by is GroupBy.DONOR:
            donor = donors.get(leg.donor_id or 0)
            return None if donor is None else _donor_label(donor)  # "" for every anonymous donor together
        org_id = leg.recipient_org_id if leg.has_recipient else fund.owner_org_id
        township = await self._township_of(org_id, cache)
        return township.name if township else ""

    async def statement(self, actor_id: int, donor_id: int) -> DonorStatement:
        """What the donor pledged and gave, and what the funds they gave to paid for (public words
        only). County admins and the keepers of the funds the donor gave to."""
        donor = await self.funds.donor(donor_id)
        kept = {fund.id: fund for fund in await self._require_reader(actor_id)}
        given = await self.repo.entries(donor_id=donor_id)
        if not await self.funds.permissions.is_county_admin(actor_id) and any(
            entry.fund_id not in kept for entry in given
        ):
            raise PermissionDenied("funds.reports_not_allowed")
        names = {fund.id: fund.name for fund in await self.repo.funds()}
        everything = await self.repo.entries()
        corrected = {entry.reverses_id for entry in everything if entry.kind is EntryKind.CORRECTION}
        standing = [entry for entry in given if entry.id not in corrected]
        gifts = [
            StatementLine(entry.occurred_on, entry.kind, names[entry.fund_id], entry.amount_fen, entry.method or "")
            for entry in standing
        ]
        funds_given = {entry.fund_id for entry in standing if entry.kind is EntryKind.RECEIPT}
        paid_for = [
            StatementLine(
                entry.occurred_on,
                entry.kind,
                names[entry.fund_id],
                entry.amount_fen,
                entry.recipient.label if entry.recipient else "",
            )
            for entry in everything
            if entry.kind in PAYING_OUT and entry.fund_id in funds_given and entry.counts and entry.id not in corrected
        ]
        return DonorStatement(
            donor=donor,
            pledged_fen=sum(entry.amount_fen for entry in standing if entry.kind is EntryKind.PLEDGE),
            received_fen=sum(entry.amount_fen for entry in standing if entry.kind is EntryKind.RECEIPT),
            gifts=gifts,
            paid_for=paid_for,
        )

    async def year(self, year: int) -> YearFunds:
        """The figures of the year-end report's paragraph ("45 家单位捐资 18 万元…"), from the money
        moved per donor and per recipient, summed in the database (storage/fund_figures.py)."""
        moved = await self.figures.moved(date(year, 1, 1), date(year + 1, 1, 1))
        # Net per donor and per recipient: a gift or a grant corrected away counts nobody.
        donors: dict[int, int] = defaultdict(int)
        students: dict[int, int] = defaultdict(int)
        villages: dict[int, int] = defaultdict(int)
        received = paid = 0
        for item in moved:
            if item.kind == EntryKind.RECEIPT.value:
                received += item.fen
                if item.donor_id is not None:
                    donors[item.donor_id] += item.fen
                continue
            paid += item.fen
            if item.recipient_id is not None and item.recipient_kind == RecipientKind.STUDENT.value:
                students[item.recipient_id] += item.fen
            if item.recipient_id is not None and item.recipient_kind == RecipientKind.VILLAGE.value:
                villages[item.recipient_id] += item.fen
        return YearFunds(
            year=year,
            donors=sum(1 for value in donors.values() if value > 0),
            received_fen=received,
            students=sum(1 for value in students.values() if value > 0),
            students_fen=sum(students.values()),
            villages=sum(1 for value in villages.values() if value > 0),
            villages_fen=sum(villages.values()),
            paid_fen=paid,
        )

    async def monthly(self, actor_id: int, start: date, end: date) -> list[tuple[int, int, int, int]]:
        """(year, month, in, out) for every month in [start, end), zero months included."""
        await self._require_reader(actor_id)
        found = {month: (money_in, money_out) for month, money_in, money_out in await self.repo.monthly(start, end)}
        months = []
        year, month = start.year, start.month
        while date(year, month, 1) < end:
            money_in, money_out = found.get(f"{year:04d}-{month:02d}", (0, 0))
            months.append((year, month, money_in, money_out))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    async def workbook(self, actor_id: int, labels: Labels) -> bytes:
        """The ledger as XLSX: every entry on the first sheet, then a sheet per fund. Entries name
        donors and students by their public names only; no contact details."""
        kept = {fund.id: fund for fund in await self._require_reader(actor_id)}
        donors = {donor.id: donor for donor in await self.repo.donors()}
        columns = (
            "id",
            "date",
            "kind",
            "fund",
            "amount",
            "donor",
            "recipient",
            "method",
            "reference",
            "note",
            "status",
        )
        header = [labels(f"funds.col_{column}") for column in columns]
        widths: list[float] = [8, 12, 10, 18, 14, 18, 18, 10, 16, 24, 10]
        names = {fund.id: fund.name for fund in await self.repo.funds()}
        # Looked up once, not once a row: 20,000 rows go through here.
        kinds = {kind: labels(f"funds.kind_{kind.value}") for kind in EntryKind}
        pending, refused = labels("funds.status_pending"), labels("funds.status_refused")
        shown = {donor.id: _donor_label(donor, labels) for donor in donors.values()}

        def row(entry: Entry) -> list[str | int | float | date | None]:
            if entry.pending:
                status = pending
            elif entry.approved is False:
                status = refused
            elif entry.corrected_by is not None:
                status = labels("funds.status_corrected", id=entry.corrected_by)
            else:
                status = ""
            note = entry.reason or entry.override_reason or ""
            if entry.kind is EntryKind.TRANSFER:
                note = f"→ {names.get(entry.to_fund_id or 0, '')} {note}".strip()
            if entry.reverses_id is not None:
                note = f"#{entry.reverses_id} {note}"
            return [
                entry.id,
                entry.occurred_on,
                kinds[entry.kind],
                names[entry.fund_id],
                entry.amount_fen / 100,
                shown.get(entry.donor_id or 0),
                entry.recipient.label if entry.recipient else None,
                entry.method,
                entry.reference,
                note,
                status,
            ]

        # A page of entries at a time, each row made as it is written (a province's ledger: 200,000
        # rows, each again on its fund's sheet): none are held.
        book = XlsxWriter()
        with book.sheet(labels("funds.sheet_ledger"), header, widths) as sheet:
            async for page in self.repo.entry_pages():
                for entry in page:
                    if entry.fund_id in kept or entry.to_fund_id in kept:
                        sheet.row(row(entry))
        for fund in kept.values():
            with book.sheet(fund.name, header, widths) as sheet:
                async for page in self.repo.entry_pages(fund_id=fund.id):
                    for entry in page:
                        sheet.row(row(entry))
        return book.close()


def _within(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day < end)


def _donor_label(donor: Donor, labels: Labels | None = None) -> str:
    shown = donor.shown_name
    if shown is not None:
        return shown
    return labels("funds.anonymous") if labels is not None else ""
