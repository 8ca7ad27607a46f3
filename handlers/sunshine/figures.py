"""Sunshine Home in /stats, /export and /report (hooked in handlers/reports.py), the chart, and
/sunshinecontacts: the contact-level list as its own workbook. Who may see which scope is the
figures' own rule (ExportService.check); no private detail is ever in a figure or a sheet."""

from __future__ import annotations

import asyncio
from functools import partial

from telegram import Update

from bot.domain.charts import Chart
from bot.domain.export_workbook import MoreSheets
from bot.domain.exports import ExportService
from bot.domain.formatting import hours_text, period_label
from bot.domain.stats import Period
from bot.domain.sunshine import SunshineFigures
from bot.domain.sunshine.figures import SHEETS, write_contacts_workbook, write_sunshine_sheets
from bot.domain.sunshine_chart import sunshine_chart
from handlers.context import BotContext, Ui
from handlers.i18n import Raw, Translator


def _counted(t: Translator, values: dict[str, int], prefix: str) -> str:
    parts = [
        t("sunshine.count_item", name=t(f"{prefix}{name or 'none'}"), count=count)
        for name, count in sorted(values.items())
    ]
    return t("sunshine.list_separator").join(parts) or t("sunshine.none")


def stats_text(t: Translator, figures: SunshineFigures) -> str:
    kinds = {kind: times for kind, (times, _) in figures.by_kind.items()}
    areas = t("sunshine.list_separator").join(
        t("sunshine.area_item", name=line.name, children=line.children, contacts=line.contacts)
        for line in figures.by_township
    )
    return t(
        "sunshine.stats",
        registered=figures.registered,
        covered=figures.children_covered,
        child_times=figures.child_person_times,
        contacts=figures.contacts,
        hours=hours_text(figures.contact_minutes, t),
        kinds=Raw(_counted(t, kinds, "sunshine.kind_")),
        origins=Raw(_counted(t, figures.by_origin, "sunshine.origin_")),
        active=figures.pairs_active,
        quiet=figures.pairs_quiet,
        ended=figures.ended,
        left=figures.left,
        leavers=Raw(_counted(t, figures.leavers, "sunshine.leave_")),
        areas=areas or t("sunshine.none"),
    )


def report_paragraph(t: Translator, figures: SunshineFigures) -> str:
    """The year-end report's Sunshine Home paragraph, in the style of the county's summary."""
    students = figures.by_kind.get("student", (0, 0))[0]
    return t(
        "sunshine.report",
        villages=len(figures.by_org),
        volunteer_times=figures.contacts,
        students=students,
        covered=figures.children_covered,
        child_times=figures.child_person_times,
        high_school=figures.leavers.get("high_school", 0),
        active=figures.pairs_active,
    )


async def stats_section(ui: Ui, org_id: int | None, period: Period) -> str:
    return stats_text(ui.t, await ui.services.sunshine.figures(period, org_id))


async def sheets(ui: Ui, org_id: int | None, period: Period) -> MoreSheets:
    """The Sunshine Home sheets of the default export, as `write_workbook`'s `more`."""
    data = await ui.services.sunshine.export_data(period, org_id)
    return SHEETS, partial(write_sunshine_sheets, data, ui.t)


async def chart(ui: Ui, org_id: int | None, period: Period) -> Chart:
    """The Sunshine Home chart, for the figures' album (caption key reports.caption_sunshine)."""
    months, areas = await ui.services.sunshine.chart_data(period, org_id)
    return Chart("sunshine", await asyncio.to_thread(sunshine_chart, months, areas, ui.t))


async def report_section(ui: Ui, period: Period, org_id: int | None = None) -> str:
    """The year-end report's Sunshine Home paragraph, appended to the summary of its scope."""
    return "\n\n" + report_paragraph(ui.t, await ui.services.sunshine.figures(period, org_id))


async def contacts_command(update: Update, context: BotContext) -> None:
    """/sunshinecontacts [period]: every contact of the period, one row each (the county for
    county admins, else the person's one organisation)."""
    ui = Ui(update, context)
    text = " ".join(context.args or [])
    stats = ui.services.stats
    period = stats.parse_period(text) if text else Period.of_year(stats.today().year)
    exporter = ExportService.of(ui.services)
    org_id = None
    if not await exporter.sees_county(ui.user_id):
        orgs = await ui.services.orgs.visible_to(ui.user_id)
        if not orgs:
            await ui.reply("reports.stats_who")
            return
        org_id = orgs[0].id
    await exporter.check(ui.user_id, org_id)
    lines, names = await ui.services.sunshine.contact_lines(period, org_id)
    content, rows = await write_contacts_workbook(lines, names, ui.t)
    await ui.context.bot.send_document(
        ui.chat_id,
        content,
        filename=ui.t("sunshine.contacts_file_name", start=period.start.isoformat(), end=period.end.isoformat()),
        caption=ui.t("sunshine.contacts_caption", period=period_label(ui.t, period), rows=rows),
    )
