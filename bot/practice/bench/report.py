"""`league-bot bench report [--scale N] [--db URL]`: the year-end report over a seeded county-year,
timed in three parts:

- report_s: the year-report figures (StatsService.figures over the year), the star rating of
  every organisation, and the summary message text with its Sunshine Home paragraph;
- export_s: the county XLSX of the year (the small parts gathered, the big sheets streamed from
  the database into the workbook, written);
- chart_s: the four charts (data gathered, PNGs drawn);
- peak_rss_mb: the process's peak resident memory (ru_maxrss) at the end, seeding included.

`--scale N` is the county's size in times the source document (storage/bulk_seed*.py): 10 (the
default) is 440 organisations, 5,000 volunteers, 3,000 activities, 50,000 attendance rows, 8,000
wishes, Sunshine Home's 10,000 children with 200,000 contacts and the funds ledger's 20,000
entries; 100 is about a province (~100 counties: 4,400 organisations, 50,000 volunteers, 500,000
attendance rows, 80,000 wishes, 100,000 children with 2,000,000 contacts). Every part of the seed
scales linearly: at 100 each is what a province really has (no part is absurd: two million
pairing contacts are a hundred counties' 20,000 each). The JSON's `scale` is N. `run(scale)`
takes the bench's own unit (1.0 = 10 times the source document: the tests' tiny counties).

`--db URL`: `postgresql://…` (the bench makes and drops its own database on that server) or
`sqlite:///path` (an empty file to fill); by default a temporary SQLite file.

Targets: at --scale 10 report_s ≤ 2, export_s ≤ 5; at --scale 100 (the issue's province)
report_s ≤ 5, export_s ≤ 60; peak_rss_mb ≤ 300 at both (the JSON's `targets`).
`run` prints nothing; bot/cli.py prints the dict as one JSON line.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime

YEAR = 2026
COUNTY_TARGETS = {"report_s": 2, "export_s": 5, "peak_rss_mb": 300}  # --scale 10
PROVINCE_TARGETS = {"report_s": 5, "export_s": 60, "peak_rss_mb": 300}  # --scale 100


class _FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.moment.timestamp()


async def _bench(scale: float, db_url: str | None = None) -> dict:
    from bot.domain.charts import ChartSource, render_all
    from bot.domain.config import Config
    from bot.domain.export_workbook import write_workbook
    from bot.domain.exports import ExportService
    from bot.domain.services import Services
    from bot.domain.stats import Period
    from bot.domain.year_report import YearReportService
    from bot.practice.bench import report_sunshine as sunshine
    from bot.practice.bench.database import bench_storage
    from bot.practice.bench.report_funds import TARGETS as LEDGER_TARGETS
    from bot.practice.bench.report_funds import bench_ledger
    from handlers.i18n import Translator, plain_text_renderer
    from handlers.reports import report_text
    from storage.bulk_seed import ADMIN, seed_county_year
    from storage.engines import database_at
    from storage.reports import DetailRepository

    t = Translator("zh-Hans")
    with tempfile.TemporaryDirectory() as folder, bench_storage(folder, db_url) as storage:
        db = database_at(storage.database_url)
        config = replace(Config(), storage=storage, county_admins=(ADMIN,))
        await db.open()
        try:
            if await db.fetch_value("SELECT COUNT(*) FROM organisations"):
                raise ValueError(f"--db {db_url}: the database is not empty; the bench fills an empty one")
            counts = await seed_county_year(db, YEAR, config.zone, scale)
            counts.update(await sunshine.seed(db, YEAR, config.zone, scale))
            # Early in the next year: the whole year is past, its late claims are overdue.
            clock = _FixedClock(datetime(YEAR + 1, 1, 10, 2, tzinfo=UTC))
            services = Services.build(config, db, clock, render=plain_text_renderer(config.language))
            period = Period.of_year(YEAR)

            started = time.perf_counter()
            report = await YearReportService(services.stats, services.stars).build(YEAR)
            text = report_text(t, report) + await sunshine.paragraph(services, t, period)
            report_s = time.perf_counter() - started

            started = time.perf_counter()
            data = await ExportService.of(services).gather(ADMIN, period)
            workbook = (await write_workbook(data, t, await sunshine.sheets(services, t, period))).content
            export_s = time.perf_counter() - started

            started = time.perf_counter()
            source = ChartSource(DetailRepository(db), services.deeds, clock, config.zone)
            charts = render_all(await source.data(period), t)
            charts.append(await sunshine.chart(services, t, period))
            chart_s = time.perf_counter() - started
            ledger = await bench_ledger(db, services, YEAR, scale, t)
        finally:
            await db.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere
    return {
        "bench": "report",
        "scale": round(scale * 10, 3),  # times the source document
        **counts,
        "person_times": report.figures.person_times,
        "message_chars": len(text),
        "xlsx_kb": round(len(workbook) / 1024),
        "charts": len(charts),
        "report_s": round(report_s, 3),
        "export_s": round(export_s, 3),
        "chart_s": round(chart_s, 3),
        "peak_rss_mb": round(peak_mb, 1),
        **ledger,
        "targets": {**(PROVINCE_TARGETS if scale >= 10 else COUNTY_TARGETS), **LEDGER_TARGETS},
    }


def run(scale: float = 1.0, db_url: str | None = None) -> dict:
    return asyncio.run(_bench(scale, db_url))
