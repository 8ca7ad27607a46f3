"""The year-end report's figures over the fixed county year of tests/test_stats_domain.py (its
docstring has the data), worked out by hand, and the summary message built from them."""

from __future__ import annotations

import pytest

from bot.domain.year_report import YearReportService
from bot.model.activity import Category
from bot.practice.bench import report as bench_report
from handlers.i18n import Translator
from handlers.reports import report_text
from tests.test_stats_domain import County, arrange_year


@pytest.fixture
async def service(harness) -> YearReportService:
    harness.admin()
    county = County(harness)
    await county.arrange_orgs()
    await arrange_year(county)
    return YearReportService(harness.services.stats, harness.services.stars)


async def test_the_2026_report_by_hand(service):
    report = await service.build(2026)
    f = report.figures
    assert (f.activities, f.activities_by_category) == (2, {Category.TUTORING: 1, Category.VISIT: 1})
    assert (f.volunteers, f.person_times, f.volunteer_minutes, f.hours, f.served) == (3, 5, 435, 7.2, 35)
    assert (f.wishes_collected, f.wishes_claimed, f.wishes_fulfilled, f.wishes_fulfilled_on_time, f.wishes_overdue) == (
        4,
        3,
        2,
        1,
        1,
    )
    assert (f.deeds_done, f.deeds_quota) == (2, 4)
    assert report.organisations == 3
    # 城关镇 30 (two stars), 教育局 25 (two stars), the school 0 (one star): see test_stats_domain.
    assert report.stars == {5: 0, 4: 0, 3: 0, 2: 2, 1: 1}
    assert [(org.name, rating.score) for org, rating in report.best] == [
        ("城关镇团委", 30),
        ("县教育局团委", 25),
        ("县第一小学", 0),
    ]
    assert (report.deeds_orgs_done, report.deeds_orgs_owing) == (1, 2)  # 城关镇 met 1/1; 教育局 1/3


async def test_the_new_year_starts_at_local_midnight(service):
    # A4 (义诊) starts at 00:30 on 1 January 2027 in Shanghai, 16:30 UTC on 31 December: it is 2027's.
    report = await service.build(2027)
    f = report.figures
    assert (f.activities_by_category, f.person_times, f.volunteer_minutes, f.served) == ({Category.CLINIC: 1}, 1, 30, 8)
    assert (f.wishes_collected, f.deeds_done) == (0, 0)


async def test_the_summary_in_the_style_of_the_work_summary(service):
    text = report_text(Translator("zh-Hans"), await service.build(2026))
    assert "<b>2026 年度工作总结 · 数据</b>" in text
    assert "全年开展活动 2 场，志愿者 5 人次，服务 35 人次，认领微心愿 3 个，完成实事 2/4 件。" in text
    assert "• 活动：学业辅导 1 场、走访 1 场" in text
    assert "• 实事：完成 2 件，指标 4 件；1/2 个组织完成全年指标" in text
    english = report_text(Translator("en"), await service.build(2026))
    assert "Over the year: 2 activities, 5 volunteer person-times, 35 person-times served" in english


def test_the_benchmark_runs_at_a_tiny_scale():
    figures = bench_report.run(scale=0.01)
    assert {"report_s", "export_s", "chart_s", "peak_rss_mb"} <= figures.keys()
    assert figures["organisations"] == 7 and figures["wishes"] == 80 and figures["attendance"] == 500
    assert figures["charts"] == 4 and figures["person_times"] > 0  # the fourth: Sunshine Home's
