"""`league-bot bench report` includes the Sunshine Home register (timings printed, never asserted)."""

from __future__ import annotations

from bot.practice.bench import report


def test_the_report_bench_seeds_the_register_and_reports_its_counts():
    result = report.run(scale=0.02)
    assert (result["children"], result["pairs"], result["contacts"]) == (200, 100, 4000)
    assert result["charts"] == 4 and result["xlsx_kb"] > 0
    assert {"report_s", "export_s", "chart_s", "peak_rss_mb"} <= result.keys()
