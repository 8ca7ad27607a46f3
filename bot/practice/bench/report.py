"""`league-bot bench report`: the year-end report over a seeded county-year at 10× the source
document's scale (storage/bulk_seed.py: 440 organisations, 8,000 wishes, 3,000 activities,
50,000 attendances, deeds), timed in three parts:

- report_s: the year-report figures (StatsService.figures over the year), the star rating of
  every organisation, and the summary message text;
- export_s: the county XLSX of the year (rows gathered, workbook written);
- chart_s: the three charts (data gathered, PNGs drawn);
- peak_rss_mb: the process's peak resident memory (ru_maxrss) at the end.

Sunshine Home's register at 10× (bot/practice/bench/report_sunshine.py) is seeded beside it and
timed within the same three parts; the JSON line gains `children`, `pairs`, `contacts`.

Targets: report_s ≤ 2, export_s ≤ 5, peak_rss_mb ≤ 300. `run` prints nothing; bot/practice/bench/common.py
prints the dict as one JSON line.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

YEAR = 2026


class _FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.moment.timestamp()


async def _bench(scale: float) -> dict:
    from bot.domain.charts import ChartSource, render_all
    from bot.domain.config import Config, StorageConfig
    from bot.domain.export_workbook import write_workbook
    from bot.domain.exports import ExportService
    from bot.domain.services import Services
    from bot.domain.stats import Period
    from bot.domain.year_report import YearReportService
    from bot.practice.bench import report_sunshine as sunshine
    from bot.practice.bench.report_funds import TARGETS as LEDGER_TARGETS
    from bot.practice.bench.report_funds import bench_ledger
    from handlers.i18n import Translator, plain_text_renderer
    from handlers.reports import report_text
    from storage.bulk_seed import ADMIN, seed_county_year
    from storage.db import Database
    from storage.reports import DetailRepository

    t = Translator("zh-Hans")
    with tempfile.TemporaryDirectory() as folder:
        config = replace(Config(), storage=StorageConfig(path=str(Path(folder) / "bench.db")), county_admins=(ADMIN,))
        db = Database(config.storage.path)
        await db.open()
        try:
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
        "scale": scale,
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
        "targets": {"report_s": 2, "export_s": 5, "peak_rss_mb": 300, **LEDGER_TARGETS},
    }


def run(scale: float = 1.0) -> dict:
    return asyncio.run(_bench(scale))
