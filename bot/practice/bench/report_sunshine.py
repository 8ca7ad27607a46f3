"""The Sunshine Home part of `league-bot bench report` (bot/practice/bench/report.py): the register
at 10× the seed (storage/bulk_seed_sunshine.py: 10,000 children, 5,000 volunteers' profiles,
5,000 pairs, 200,000 contacts), timed inside the report's own three parts: its figures and
paragraph in report_s, its sheets of the default workbook in export_s, its chart in chart_s."""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

from bot.domain.charts import Chart
from bot.domain.export_workbook import MoreSheets
from bot.domain.services import Services
from bot.domain.stats import Period
from bot.domain.sunshine.figures import SHEETS, write_sunshine_sheets
from bot.domain.sunshine_chart import sunshine_chart
from handlers.i18n import Translator
from handlers.sunshine.figures import report_paragraph
from storage.bulk_seed_sunshine import seed_sunshine_year
from storage.db import Database


async def seed(db: Database, year: int, zone: ZoneInfo, scale: float) -> dict[str, int]:
    return await seed_sunshine_year(db, year, zone, scale)


async def paragraph(services: Services, t: Translator, period: Period) -> str:
    return report_paragraph(t, await services.sunshine.figures(period))


async def sheets(services: Services, t: Translator, period: Period) -> MoreSheets:
    return SHEETS, partial(write_sunshine_sheets, await services.sunshine.export_data(period), t)


async def chart(services: Services, t: Translator, period: Period) -> Chart:
    months, areas = await services.sunshine.chart_data(period)
    return Chart("sunshine", sunshine_chart(months, areas, t))
