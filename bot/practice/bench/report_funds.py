"""The funds ledger's part of `league-bot bench report`: a ledger at 10× the source document's
giving (storage/bulk_seed_funds.py: 450 donors, 20,000 entries) on the benchmark's county, timed:

- ledger_s: every fund's balance (the SQL sums of the postings), the year-end figures, and the
  totals by donor, township and purpose;
- ledger_xlsx_s: the XLSX of the ledger: every entry, then a sheet per fund (each entry again):
  about 440,000 cells, so the county export's budget;
- balances_match: every fund's balance recomputed from its entries alone (bot/domain/funds/
  reports.py `recomputed_balances`) equals the reported one, and none is below zero.

Targets: ledger_s ≤ 2, ledger_xlsx_s ≤ 5.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date

from bot.domain.funds import GroupBy, recomputed_balances
from bot.domain.services import Services
from storage.bulk_seed import ADMIN
from storage.bulk_seed_funds import seed_ledger
from storage.db import Database
from storage.funds import FundRepository

TARGETS = {"ledger_s": 2, "ledger_xlsx_s": 5}


async def _recomputed(repo: FundRepository) -> dict[int, int]:
    """Every fund's balance from its entries alone (bot/domain/funds/reports.py
    `recomputed_balances`), a page of entries at a time: a correction's reversed entry is read
    beside its page, and only the page's own entries are counted."""
    balances: dict[int, int] = defaultdict(int)
    async for page in repo.entry_pages():
        own = {entry.id for entry in page}
        reversed_ids = {entry.reverses_id for entry in page if entry.reverses_id is not None} - own
        sources = [found for found in [await repo.entry(entry_id) for entry_id in reversed_ids] if found is not None]
        for fund_id, fen in recomputed_balances(page + sources, only=own).items():
            balances[fund_id] += fen
    return dict(balances)


async def bench_ledger(db: Database, services: Services, year: int, scale: float, labels: Callable[..., str]) -> dict:
    counts = await seed_ledger(db, year, scale)
    reports = services.fund_reports
    started = time.perf_counter()
    balances = await reports.balances(ADMIN)
    await reports.year(year)
    await reports.totals_by(
        ADMIN, (GroupBy.DONOR, GroupBy.TOWNSHIP, GroupBy.PURPOSE), date(year, 1, 1), date(year + 1, 1, 1)
    )
    ledger_s = time.perf_counter() - started
    started = time.perf_counter()
    workbook = await reports.workbook(ADMIN, labels)
    ledger_xlsx_s = time.perf_counter() - started
    recomputed = await _recomputed(services.funds.repo)
    matches = all(item.balance_fen == recomputed.get(item.fund.id, 0) and item.balance_fen >= 0 for item in balances)
    return {
        **counts,
        "funds": len(balances),
        "balances_match": matches,
        "ledger_xlsx_kb": round(len(workbook) / 1024),
        "ledger_s": round(ledger_s, 3),
        "ledger_xlsx_s": round(ledger_xlsx_s, 3),
    }
