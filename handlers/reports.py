"""/stats, /export and /report: figures, charts and spreadsheets of a period, and the year-end report.

- `/stats [period]`: county admins get the county (a button picks an organisation); an
  organisation's cadres get theirs (several organisations: a picker). Buttons under the figures:
  📊 charts (photos) and 📄 the XLSX.
- `/export [period] [含隐私]`: the XLSX; the private wish columns only for the collecting
  organisation's members (bot/domain/exports.py says who).
- `/report [year]` (county admins): the summary in the style of the county's work summary, then
  the charts, then the XLSX of the year.

Drawing charts and writing the workbook are CPU work: they run in a thread (asyncio.to_thread;
the workbook batch by batch as its rows stream from the database) so the bot keeps answering
everyone else meanwhile. A long export edits a "正在生成…" message with the rows and sheets done,
at most every 3 s (handlers/progress.py); /report says it is coming when it takes over 2 s.
Every button is re-checked on the server (bot/domain/exports.py: ExportService.check, the county
reports' check; the rules themselves are bot/domain/permissions.py's).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ChatAction

from bot.domain import bounds
from bot.domain.charts import ChartSource, render_all
from bot.domain.errors import DomainError
from bot.domain.export_workbook import write_workbook
from bot.domain.exports import ExportService
from bot.domain.formatting import hours_text, period_label
from bot.domain.stats import Figures, Period
from bot.domain.xlsx import Progress
from bot.domain.year_report import YearReport
from bot.model.organisation import OrgKind, Scope
from handlers.callback_data import CallbackData
from handlers.context import BotContext, Ui, clean
from handlers.flow import Flow, choice_id, flow_of, page_number
from handlers.funds.commands import send_year_paragraph
from handlers.i18n import Raw, Translator
from handlers.progress import DELAY, ProgressMessage
from handlers.sunshine import figures as sunshine_figures

COUNTY = 0  # the scope "county" in callback data (organisation ids start at 1)


@dataclass(frozen=True)
class ChartsButton(CallbackData, prefix="rpc"):
    org: int
    start: str
    end: str


@dataclass(frozen=True)
class ExportButton(CallbackData, prefix="rpx"):
    org: int
    start: str
    end: str


@dataclass(frozen=True)
class TownshipChartsButton(CallbackData, prefix="rpt"):
    start: str
    end: str


@dataclass(frozen=True)
class PickOrgButton(CallbackData, prefix="rpo"):
    start: str
    end: str


PRIVATE_WORDS = frozenset({"含隐私", "隐私", "私密", "含隱私", "隱私", "private"})


# ---- helpers ------------------------------------------------------------------------------------
def _token(day: date) -> str:
    return day.strftime("%Y%m%d")


def _period_of(values: ChartsButton | ExportButton | PickOrgButton | TownshipChartsButton) -> Period:
    """The period a button carries, re-checked: a forged `00010101` or `99991231` (dates
    outside bounds.MIN_DATE..MAX_DATE) is refused like an expired button."""
    start, end = bounds.compact_date_or_none(values.start), bounds.compact_date_or_none(values.end)
    if start is None or end is None or end < start:
        raise DomainError("common.button_expired")
    return Period(start, end)


def split_args(args: list[str]) -> tuple[str, bool]:
    """The period text and whether the private columns were asked for (含隐私 / private)."""
    words = clean(" ".join(args)).split()
    private = any(word.lower() in PRIVATE_WORDS for word in words)
    return " ".join(word for word in words if word.lower() not in PRIVATE_WORDS), private


def _period(ui: Ui, text: str) -> Period:
    stats = ui.services.stats
    return stats.parse_period(text) if text else Period.of_year(stats.today().year)


def categories_text(t: Translator, figures: Figures) -> str:
    if not figures.activities_by_category:
        return t("reports.no_categories")
    return t("reports.category_separator").join(
        t("reports.category_count", category=t(f"activities.category.{category.value}"), count=count)
        for category, count in figures.activities_by_category.items()
    )


def figures_text(t: Translator, figures: Figures, scope: str) -> str:
    return t(
        "reports.stats_message",
        scope=scope,
        period=period_label(t, figures.period),
        activities=figures.activities,
        categories=Raw(categories_text(t, figures)),
        volunteers=figures.volunteers,
        person_times=figures.person_times,
        hours=hours_text(figures.volunteer_minutes, t),
        served=figures.served,
        collected=figures.wishes_collected,
        claimed=figures.wishes_claimed,
        fulfilled=figures.wishes_fulfilled,
        on_time=figures.wishes_fulfilled_on_time,
        overdue=figures.wishes_overdue,
        deeds_done=figures.deeds_done,
        deeds_quota=figures.deeds_quota,
        year=figures.period.year,
    )


def report_text(t: Translator, report: YearReport) -> str:
    """The year-end summary, in the style of the county's work summary."""
    f = report.figures
    stars = report.stars
    best = t("reports.category_separator").join(
        t("reports.report_best_item", org=org.name, stars="★" * rating.stars, score=rating.score)
        for org, rating in report.best
    )
    return t(
        "reports.report_summary",
        year=report.year,
        activities=f.activities,
        categories=Raw(categories_text(t, f)),
        volunteers=f.volunteers,
        person_times=f.person_times,
        hours=hours_text(f.volunteer_minutes, t),
        served=f.served,
        collected=f.wishes_collected,
        claimed=f.wishes_claimed,
        fulfilled=f.wishes_fulfilled,
        on_time=f.wishes_fulfilled_on_time,
        overdue=f.wishes_overdue,
        deeds_done=f.deeds_done,
        deeds_quota=f.deeds_quota,
        orgs_done=report.deeds_orgs_done,
        orgs_owing=report.deeds_orgs_owing,
        orgs=report.organisations,
        s5=stars[5],
        s4=stars[4],
        s3=stars[3],
        s2=stars[2],
        s1=stars[1],
        best=Raw(best or t("reports.report_best_none")),
    )


def scope_buttons(
    ui: Ui, org_id: int | None, period: Period, with_villages: bool = False
) -> list[list[InlineKeyboardButton]]:
    # The scope's token: 0 the county, an organisation's id, minus a township's id with its villages.
    org, start, end = Scope(org_id, with_villages).token, _token(period.start), _token(period.end)
    return [
        [
            InlineKeyboardButton(
                ui.t("reports.button_charts"), callback_data=ChartsButton(org=org, start=start, end=end).pack()
            ),
            InlineKeyboardButton(
                ui.t("reports.button_export"), callback_data=ExportButton(org=org, start=start, end=end).pack()
            ),
        ]
    ]


async def scope_label(ui: Ui, org_id: int | None, with_villages: bool = False) -> str:
    if org_id is None:
        return ui.t("reports.scope_county")
    name = (await ui.services.orgs.get(org_id)).name
    return ui.t("turnover.scope_villages", org=name) if with_villages else name


async def show_figures(
    ui: Ui, org_id: int | None, period: Period, *, edit: bool = False, with_villages: bool = False
) -> None:
    await ExportService.of(ui.services).check(ui.user_id, org_id)
    figures = await ui.services.stats.figures(period, org_id, with_villages=with_villages)
    scope = await scope_label(ui, org_id, with_villages)
    rows = scope_buttons(ui, org_id, period, with_villages)
    if org_id is None:
        if await ui.services.orgs.township_names():  # some village branch belongs to a township
            rows.append([by_township_button(ui, period)])
        rows.append([flow_button(ui, period)])
    text = figures_text(ui.t, figures, scope) + await sunshine_figures.stats_section(ui, org_id, period)
    tenure = await tenure_text(ui, org_id, with_villages)
    if tenure:
        text = f"{text}\n\n{tenure}"
    if edit:
        await ui.edit_text(text, InlineKeyboardMarkup(rows))
    else:
        await ui.send_text(text, InlineKeyboardMarkup(rows))


def flow_button(ui: Ui, period: Period) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        ui.t("reports.button_pick_org"),
        callback_data=PickOrgButton(start=_token(period.start), end=_token(period.end)).pack(),
    )


def by_township_button(ui: Ui, period: Period) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        ui.t("turnover.button_charts_by_township"),
        callback_data=TownshipChartsButton(start=_token(period.start), end=_token(period.end)).pack(),
    )


async def tenure_text(ui: Ui, org_id: int | None, with_villages: bool) -> str:
    """The share of cadres under one year in post, by organisation kind (the seed's 70%)."""
    shares = await ui.services.tenure.shares(await ui.services.orgs.scope_ids(org_id, with_villages))
    if not shares:
        return ""
    lines = [ui.t("turnover.tenure_title")]
    for share in shares:
        lines.append(
            ui.t(
                "turnover.tenure_line",
                kind=ui.t(f"orgs.kind.{share.kind.value}"),
                under=share.under_one_year,
                total=share.total,
                percent=share.percent,
            )
        )
    return "\n".join(lines)


async def send_charts(
    ui: Ui, org_id: int | None, period: Period, *, with_villages: bool = False, by_township: bool = False
) -> None:
    services = ui.services
    await ExportService.of(services).check(ui.user_id, org_id)
    source = ChartSource.of(services)
    data = await source.data(period, org_id, with_villages=with_villages, by_township=by_township)
    await ui.context.bot.send_chat_action(ui.chat_id, ChatAction.UPLOAD_PHOTO)
    charts = await asyncio.to_thread(render_all, data, ui.t)
    charts.append(await sunshine_figures.chart(ui, org_id, period))
    label = period_label(ui.t, period)
    # One album: one message in the chat's list instead of three.
    await ui.context.bot.send_media_group(
        ui.chat_id,
        [InputMediaPhoto(chart.png, caption=ui.t(f"reports.caption_{chart.name}", period=label)) for chart in charts],
    )


async def send_export(
    ui: Ui,
    org_id: int | None,
    period: Period,
    include_private: bool = False,
    *,
    with_villages: bool = False,
    progress: ProgressMessage | None = None,
) -> None:
    """Gather, write (streamed, in a worker thread) and send the workbook; `progress` is the
    "正在生成…" message to edit as rows are written (none: one appears if the work takes long)."""
    exporter = ExportService.of(ui.services)
    data = await exporter.gather(ui.user_id, period, org_id, include_private, with_villages=with_villages)
    scope = await scope_label(ui, org_id, with_villages)
    status = progress or ProgressMessage.of(ui)

    async def on_progress(step: Progress) -> None:
        key = "export_progress.closing" if step.sheets_done >= step.sheets else "export_progress.rows"
        await status.show(ui.t(key, scope=scope, rows=step.rows, sheets_done=step.sheets_done, sheets=step.sheets))

    await ui.context.bot.send_chat_action(ui.chat_id, ChatAction.UPLOAD_DOCUMENT)
    sunshine = await sunshine_figures.sheets(ui, org_id, period)
    file = await write_workbook(data, ui.t, sunshine, on_progress)
    name = ui.t("reports.export_file_name", start=_token(period.start), end=_token(period.end))
    caption = "reports.export_caption_private" if include_private else "reports.export_caption"
    await ui.context.bot.send_document(
        ui.chat_id,
        file.content,
        filename=name,
        caption=ui.t(
            caption,
            scope=scope,
            period=period_label(ui.t, period),
            activities=file.activities,
            attendance=file.attendance,
            wishes=file.wishes,
            deeds=file.deeds,
            private=len(data.private),
        ),
    )


# ---- the organisation picker ----------------------------------------------------------------------
class ScopeFlow(Flow):
    """Pick the organisation whose figures (or export) to show: county admins any, cadres theirs."""

    name = "rs"

    async def _choices(self, ui: Ui, search: str | None = None) -> list[tuple[object, str]]:
        """Each organisation the person may see; a township committee with village branches also
        as a whole ("t<id>": the township with its villages added up)."""
        choices: list[tuple[object, str]] = []
        for org in await ui.services.orgs.visible_to(ui.user_id, search):
            if org.kind is OrgKind.TOWNSHIP and await ui.services.orgs.villages_of(org.id):
                choices.append((f"t{org.id}", ui.t("turnover.scope_villages", org=org.name)))
            choices.append((org.id, org.name))
        return choices

    async def start(
        self, ui: Ui, period: Period, purpose: str = "stats", private: bool = False, edit: bool = False
    ) -> None:
        data = {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "purpose": purpose,
            "private": private,
        }
        choices = await self._choices(ui)
        await self.go(ui, "org", data)
        markup = self.paged(ui, "org", choices, 0)
        if edit:
            await ui.edit("reports.pick_org", markup, period=period_label(ui.t, period))
        else:
            await ui.reply("reports.pick_org", markup, period=period_label(ui.t, period))

    async def text_org(self, ui: Ui, data: dict, text: str) -> None:
        choices = await self._choices(ui, text)
        if not choices:
            raise DomainError("reports.search_nothing", text=text[:30])
        period = Period(date.fromisoformat(data["start"]), date.fromisoformat(data["end"]))
        await ui.reply("reports.pick_org", self.paged(ui, "org", choices, 0), period=period_label(ui.t, period))

    async def choice_org(self, ui: Ui, data: dict, value: str) -> None:
        period = Period(date.fromisoformat(data["start"]), date.fromisoformat(data["end"]))
        page = page_number(value)
        if page is not None:
            await ui.edit(
                "reports.pick_org",
                self.paged(ui, "org", await self._choices(ui), page),
                period=period_label(ui.t, period),
            )
            return
        with_villages = value.startswith("t")
        org_id = choice_id(value[1:] if with_villages else value)
        await ui.services.orgs.get(org_id)
        await ExportService.of(ui.services).check(ui.user_id, org_id, data["private"])
        await self.finish(ui)
        if data["purpose"] == "export":
            await ui.edit("reports.export_preparing", org=await scope_label(ui, org_id, with_villages))
            status = ProgressMessage.of(ui, ui.query.message)
            await send_export(ui, org_id, period, data["private"], with_villages=with_villages, progress=status)
        else:
            await show_figures(ui, org_id, period, edit=True, with_villages=with_villages)


# ---- commands and buttons -----------------------------------------------------------------------
async def stats_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    text, _ = split_args(context.args or [])
    period = _period(ui, text)
    if await ExportService.of(ui.services).sees_county(ui.user_id):
        await show_figures(ui, None, period)
        return
    orgs = await ui.services.orgs.visible_to(ui.user_id)
    if not orgs:
        await ui.reply("reports.stats_who")
    elif len(orgs) == 1:
        await show_figures(ui, orgs[0].id, period)
    else:
        await flow_of(context, ScopeFlow).start(ui, period)


async def export_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    text, private = split_args(context.args or [])
    period = _period(ui, text)
    exporter = ExportService.of(ui.services)
    if not private and await exporter.sees_county(ui.user_id):
        status = ProgressMessage.of(ui, await ui.reply("reports.export_preparing", org=ui.t("reports.scope_county")))
        await send_export(ui, None, period, progress=status)
        return
    orgs = await exporter.export_orgs(ui.user_id, private)
    if not orgs:
        await ui.reply("reports.stats_who")
        return
    if len(orgs) == 1:
        await exporter.check(ui.user_id, orgs[0].id, private)
        status = ProgressMessage.of(ui, await ui.reply("reports.export_preparing", org=orgs[0].name))
        await send_export(ui, orgs[0].id, period, private, progress=status)
        return
    await flow_of(context, ScopeFlow).start(ui, period, "export", private)


async def report_command(update: Update, context: BotContext) -> None:
    """/report 2026: the county's (county admins); /report 2026 城关镇团委: one organisation's, a
    township committee's with its villages added up (whoever may see its figures)."""
    ui = Ui(update, context)
    exporter = ExportService.of(ui.services)
    text, _ = split_args(context.args or [])
    year_text, _, org_text = text.partition(" ")
    if not org_text:
        await exporter.check_county_reports(ui.user_id)
    period = _period(ui, year_text)
    if period != Period.of_year(period.start.year):
        raise DomainError("reports.report_needs_year", text=text[:40])
    org_id, with_villages = await report_scope(ui, org_text.strip())
    await ui.context.bot.send_chat_action(ui.chat_id, ChatAction.TYPING)
    status = ProgressMessage.of(ui)
    building = asyncio.ensure_future(exporter.year_report(ui.user_id, period.year, org_id, with_villages=with_villages))
    try:
        # A province's report takes a few seconds: past DELAY, say it is coming.
        if not (await asyncio.wait({building}, timeout=DELAY))[0]:
            await status.send_now(ui.t("export_progress.report", year=period.year))
        report = await building
    finally:
        building.cancel()  # only if this handler itself was cancelled meanwhile
    summary = report_text(ui.t, report)
    if org_id is not None:
        summary = f"<b>{await scope_label(ui, org_id, with_villages)}</b>\n{summary}"
    await ui.send_text(summary + await sunshine_figures.report_section(ui, period, org_id))
    if org_id is None:
        await send_year_paragraph(ui, period.year)  # the funds ledger's, when the year had any giving
    await send_charts(ui, org_id, period, with_villages=with_villages)
    await send_export(ui, org_id, period, with_villages=with_villages, progress=status)


async def report_scope(ui: Ui, org_text: str) -> tuple[int | None, bool]:
    """The organisation named after the year (exactly, else the one whose name contains it), a
    township committee with its villages; None for the county."""
    if not org_text:
        return None, False
    found = await ui.services.orgs.visible_to(ui.user_id, org_text)
    exact = [org for org in found if org.name == org_text]
    if len(exact) != 1 and len(found) != 1:
        raise DomainError("turnover.report_org_unknown", text=org_text[:30])
    org = (exact or found)[0]
    return org.id, org.kind is OrgKind.TOWNSHIP and bool(await ui.services.orgs.villages_of(org.id))


async def charts_button(update: Update, context: BotContext) -> None:
    await _under_figures(update, context, ChartsButton, "reports.charts_drawing", send_charts)


async def export_button(update: Update, context: BotContext) -> None:
    await _under_figures(update, context, ExportButton, "reports.export_writing", send_export)


async def _under_figures(
    update: Update, context: BotContext, spec: type[ChartsButton] | type[ExportButton], answer_key: str, send
) -> None:
    """A button under the figures: the scope and period it carries are re-checked (callback data
    can be forged), the tap is answered, then the work is sent."""
    ui = Ui(update, context)
    values = spec.unpack(ui.callback_data)
    scope = Scope.from_token(values.org)
    period = _period_of(values)  # before answering: a forged one gets the expired-button alert
    await ExportService.of(ui.services).check(ui.user_id, scope.org_id)
    await ui.answer(answer_key)
    await send(ui, scope.org_id, period, with_villages=scope.with_villages)


async def township_charts_button(update: Update, context: BotContext) -> None:
    """Under the county's figures: the charts with each township's villages added to it."""
    ui = Ui(update, context)
    period = _period_of(TownshipChartsButton.unpack(ui.callback_data))
    await ExportService.of(ui.services).check(ui.user_id, None)
    await ui.answer("reports.charts_drawing")
    await send_charts(ui, None, period, by_township=True)


async def pick_org_button(update: Update, context: BotContext) -> None:
    """The county figures' "by organisation" button: county admins pick any organisation."""
    ui = Ui(update, context)
    period = _period_of(PickOrgButton.unpack(ui.callback_data))
    await ExportService.of(ui.services).check_county_reports(ui.user_id)
    await ui.answer()
    await flow_of(context, ScopeFlow).start(ui, period)
