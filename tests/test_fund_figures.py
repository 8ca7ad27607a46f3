"""The funds ledger's year-end figures and totals summed in the database (storage/fund_figures.py)
equal the figures worked out from the entries alone (bot/domain/funds/reports.py `effects`, the
ledger's reference), over the benchmark's seeded ledger: receipts, grants to students and
villages, transfers, pledges and corrections of both receipts and grants."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from bot.domain.funds.reports import GroupBy, effects
from bot.model.funds import EntryKind, RecipientKind, Total, YearFunds
from storage.bulk_seed import seed_county_year
from storage.bulk_seed_funds import seed_ledger
from tests.harness import COUNTY_ADMIN_ID


def _from_entries(entries, year: int) -> YearFunds:
    by_id = {entry.id: entry for entry in entries}
    donors: dict[int, int] = defaultdict(int)
    students: dict[int, int] = defaultdict(int)
    villages: dict[int, int] = defaultdict(int)
    received = paid = 0
    for effect in effects(entries):
        if effect.entry.occurred_on.year != year:
            continue
        source = by_id.get(effect.entry.reverses_id or 0, effect.entry)
        if source.kind is EntryKind.TRANSFER:
            continue
        received += effect.received_fen
        paid += effect.paid_fen
        if source.kind is EntryKind.RECEIPT and source.donor_id is not None:
            donors[source.donor_id] += effect.received_fen
        recipient = source.recipient
        if recipient is not None and recipient.id is not None and recipient.kind is RecipientKind.STUDENT:
            students[recipient.id] += effect.paid_fen
        if recipient is not None and recipient.id is not None and recipient.kind is RecipientKind.VILLAGE:
            villages[recipient.id] += effect.paid_fen
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


async def test_the_year_figures_from_sql_equal_those_from_the_entries(harness):
    services = harness.services
    await seed_county_year(services.db, 2026, harness.config.zone, scale=0.1)
    await seed_ledger(services.db, 2026, scale=0.1)
    entries = await services.funds.repo.entries()
    assert {entry.kind for entry in entries} >= {EntryKind.RECEIPT, EntryKind.GRANT, EntryKind.CORRECTION}
    figures = await services.fund_reports.year(2026)
    assert figures == _from_entries(entries, 2026)
    assert figures.donors > 0 and figures.students > 0 and figures.villages > 0
    assert await services.fund_reports.year(2025) == _from_entries(entries, 2025)  # nothing that year


async def _totals_from_entries(reports, entries, groupings, start, end):
    """The groupings as they were worked out from the entries in Python (the reference)."""
    kept = {fund.id: fund for fund in await reports.repo.funds()}
    full = {entry.id: entry for entry in entries}
    donors = {donor.id: donor for donor in await reports.repo.donors()}
    cache: dict = {}
    groups: dict = {by: {} for by in groupings}
    for effect in effects(list(full.values())):
        if effect.fund_id not in kept or not (start <= effect.entry.occurred_on < end):
            continue
        source = full.get(effect.entry.reverses_id or 0, effect.entry)
        fund = kept[effect.fund_id]
        for by in groupings:
            if by is GroupBy.FUND:
                label = fund.name
            elif by is GroupBy.PURPOSE:
                label = fund.purpose
            elif by is GroupBy.DONOR:
                donor = donors.get(source.donor_id or 0)
                label = None if donor is None else (donor.shown_name or "")
            else:
                org_id = source.recipient.org_id if source.recipient else fund.owner_org_id
                township = await reports._township_of(org_id, cache)
                label = township.name if township else ""
            if label is None:
                continue
            pair = groups[by].setdefault(label, [0, 0])
            pair[0] += effect.received_fen
            pair[1] += effect.paid_fen
    return {
        by: [Total(label, pair[0], pair[1]) for label, pair in sorted(found.items(), key=lambda item: -item[1][0])]
        for by, found in groups.items()
    }


async def test_the_totals_from_sql_equal_those_from_the_entries_in_the_same_order(harness):
    services = harness.services
    await seed_county_year(services.db, 2026, harness.config.zone, scale=0.1)
    await seed_ledger(services.db, 2026, scale=0.1)
    entries = await services.funds.repo.entries()
    groupings = tuple(GroupBy)
    for start, end in ((date(2026, 1, 1), date(2027, 1, 1)), (date(2026, 3, 1), date(2026, 7, 1))):
        got = await services.fund_reports.totals_by(COUNTY_ADMIN_ID, groupings, start, end)
        assert got == await _totals_from_entries(services.fund_reports, entries, groupings, start, end)
        assert all(got[by] for by in groupings)
