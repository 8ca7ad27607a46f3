"""`league-bot bench report` includes the funds ledger: its JSON gains donors, ledger_entries and
balances_match (every fund's balance recomputed from its entries equals the reported one)."""

from __future__ import annotations

from bot.practice.bench import report as bench_report


def test_the_report_benchmark_includes_a_ledger_whose_balances_match():
    figures = bench_report.run(scale=0.02)
    assert (figures["donors"], figures["ledger_entries"]) == (9, 400)
    assert figures["balances_match"] is True and figures["funds"] >= 3
    assert {"ledger_s", "ledger_xlsx_s"} <= figures.keys() <= figures.keys() | figures["targets"].keys()
    assert {"ledger_s", "ledger_xlsx_s"} <= figures["targets"].keys()
