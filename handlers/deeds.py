"""Practical deeds (实事): /deed records one, /deeds shows the year's progress against the quotas,
and the behind-pace reminder's words (sent by the reminder scheduler, see bot/domain/deeds.py).

/deed: organisation (skipped when there is one) → an ended activity marked as a deed (one tap
records it) or a deed entered directly: title → date → evidence (a photo, or a note) → done, with
the organisation's new progress.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from telegram import Document, InlineKeyboardMarkup, Update

from bot.domain import bounds
from bot.domain.deeds import DeedProgress, PaceNotice, due_by, expected_by
from bot.domain.errors import DomainError
from bot.domain.services import Services
from bot.model.organisation import Organisation
from bot.model.reminder import ReminderRecord
from handlers.callback_data import CallbackData
from handlers.context import BotContext, Ui, group_t, reader_translator
from handlers.flow import Flow, choice_id, flow_of, page_number
from handlers.i18n import Translator


@dataclass(frozen=True)
class DeedsPage(CallbackData, prefix="dpg"):
    year: int
    page: int


LIST_PAGE_SIZE = 15
_TODAY = {"今天", "今日", "today"}
_YESTERDAY = {"昨天", "昨日", "yesterday"}
# [0-9], not \d: \d also matches other scripts' digits (NFKC has folded the full-width ones).
_DATE = re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?")
_MONTH_DAY = re.compile(r"([0-9]{1,2})[-/.月]([0-9]{1,2})日?")


def parse_done_on(text: str, today: date) -> date:
    """今天 / 昨天 / 2026-11-20 (also 2026/11/20, 2026年11月20日) / 11-20 (this year)."""
    cleaned = "".join(unicodedata.normalize("NFKC", text).lower().split())
    if cleaned in _TODAY:
        return today
    if cleaned in _YESTERDAY:
        return today - timedelta(days=1)
    try:
        if match := _DATE.fullmatch(cleaned):
            return bounds.check_date(date(*(int(part) for part in match.groups())))
        if match := _MONTH_DAY.fullmatch(cleaned):
            return date(today.year, int(match.group(1)), int(match.group(2)))
    except ValueError:  # 2026-02-30
        pass
    raise DomainError("deeds.bad_date", text=text[:30], today=today.isoformat())


def progress_line(t: Translator, progress: DeedProgress, year: int, today: date) -> str:
    """'本年度实事 2/3', and whether that is on pace."""
    if progress.quota == 0:
        return t("deeds.progress_no_quota", org=progress.org.name, year=year, done=progress.done)
    if progress.behind:
        expected = expected_by(progress.quota, progress.done, year, today)
        return t(
            "deeds.progress_behind",
            org=progress.org.name,
            year=year,
            done=progress.done,
            quota=progress.quota,
            expected=expected,
            owed=expected - progress.done,
        )
    if progress.done >= progress.quota:
        return t("deeds.progress_complete", org=progress.org.name, year=year, done=progress.done, quota=progress.quota)
    return t(
        "deeds.progress_on_pace",
        org=progress.org.name,
        year=year,
        done=progress.done,
        quota=progress.quota,
        due=due_by(progress.quota, year, today),
    )


class DeedFlow(Flow):
    name = "dd"

    async def start(self, ui: Ui, **kwargs: object) -> None:
        orgs = await ui.services.deeds.orgs_for(ui.user_id)
        if not orgs:
            await ui.reply("deeds.not_a_cadre")
            return
        if len(orgs) == 1:
            await self._org_chosen(ui, orgs[0].id)
            return
        await self.go(ui, "org", {})
        await ui.reply("deeds.pick_org", self.paged(ui, "org", _choices(orgs), 0), count=len(orgs))

    async def choice_org(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            orgs = await ui.services.deeds.orgs_for(ui.user_id)
            await ui.edit("deeds.pick_org", self.paged(ui, "org", _choices(orgs), page), count=len(orgs))
            return
        await self._org_chosen(ui, choice_id(value))

    async def text_org(self, ui: Ui, data: dict, text: str) -> None:
        """A county admin with hundreds to page through may type part of a name instead."""
        allowed = {org.id for org in await ui.services.deeds.orgs_for(ui.user_id)}
        found = [org for org in await ui.services.orgs.search(text, limit=40) if org.id in allowed]
        if not found:
            raise DomainError("deeds.search_nothing", text=text[:30])
        await ui.reply("deeds.pick_org", self.paged(ui, "org", _choices(found), 0), count=len(found))

    async def _org_chosen(self, ui: Ui, org_id: int) -> None:
        services = ui.services
        org = await services.orgs.get_active(org_id)
        candidates = await services.deeds.unrecorded_activities(ui.user_id, org.id)
        if not candidates:
            await self.go(ui, "title", {"org": org.id})
            await ui.reply("deeds.ask_title_no_activity", self._cancel_markup(ui), org=org.name)
            return
        await self.go(ui, "source", {"org": org.id})
        await ui.reply(
            "deeds.pick_source", await self._source_markup(ui, org.id, 0), org=org.name, count=len(candidates)
        )

    async def _source_markup(self, ui: Ui, org_id: int, page: int) -> InlineKeyboardMarkup:
        zone = ui.services.config.zone
        items = [
            (
                c.activity_id,
                ui.t(
                    "deeds.activity_button",
                    code=c.code,
                    title=c.title[:30],
                    date=c.starts_at.astimezone(zone).strftime("%Y-%m-%d"),
                ),
            )
            for c in await ui.services.deeds.unrecorded_activities(ui.user_id, org_id)
        ]
        return self.paged(
            ui, "source", items, page, [[self.choice(ui, "source", "new", "deeds.button_enter_directly")]]
        )

    async def choice_source(self, ui: Ui, data: dict, value: str) -> None:
        org = await ui.services.orgs.get(data["org"])
        page = page_number(value)
        if page is not None:
            count = len(await ui.services.deeds.unrecorded_activities(ui.user_id, org.id))
            await ui.edit("deeds.pick_source", await self._source_markup(ui, org.id, page), org=org.name, count=count)
            return
        if value == "new":
            await self.go(ui, "title", data)
            await ui.edit("deeds.ask_title", self._cancel_markup(ui), org=org.name)
            return
        activity_id = choice_id(value)
        offered = {c.activity_id for c in await ui.services.deeds.unrecorded_activities(ui.user_id, org.id)}
        if activity_id not in offered:  # forged, or recorded meanwhile
            raise DomainError("common.button_expired")
        deed = await ui.services.deeds.record_from_activity(ui.user_id, activity_id)
        await self.finish(ui)
        await self._done(ui, deed.org_id, deed.title, deed.done_on, edit=True)

    async def text_source(self, ui: Ui, data: dict, text: str) -> None:
        raise DomainError("deeds.use_buttons_for_source")

    async def text_title(self, ui: Ui, data: dict, text: str) -> None:
        title = ui.services.deeds.check_title(text)
        await self.go(ui, "date", {**data, "title": title})
        markup = InlineKeyboardMarkup([[self.choice(ui, "date", "today", "deeds.button_today")], self.cancel_row(ui)])
        await ui.reply("deeds.ask_date", markup, title=title, today=ui.services.deeds.today().isoformat())

    async def choice_date(self, ui: Ui, data: dict, value: str) -> None:
        if value != "today":
            raise DomainError("common.button_expired")
        await self._date_chosen(ui, data, ui.services.deeds.today())

    async def text_date(self, ui: Ui, data: dict, text: str) -> None:
        await self._date_chosen(ui, data, parse_done_on(text, ui.services.deeds.today()))

    async def _date_chosen(self, ui: Ui, data: dict, done_on: date) -> None:
        done_on = ui.services.deeds.check_date(done_on)
        await self.go(ui, "evidence", {**data, "date": done_on.isoformat()})
        await ui.reply("deeds.ask_evidence", self._cancel_markup(ui), date=done_on.isoformat())

    async def photo_evidence(self, ui: Ui, data: dict, file_id: str) -> None:
        await self._record(ui, data, evidence_file_id=file_id, note=None)

    async def document_evidence(self, ui: Ui, data: dict, document: Document) -> None:
        from handlers.wishes import photo_from_document

        await self._record(ui, data, evidence_file_id=await photo_from_document(ui, document), note=None)

    async def text_evidence(self, ui: Ui, data: dict, text: str) -> None:
        note = ui.services.deeds.check_note(text)
        if note is None:
            raise DomainError("deeds.evidence_missing")
        await self._record(ui, data, evidence_file_id=None, note=note)

    async def _record(self, ui: Ui, data: dict, *, evidence_file_id: str | None, note: str | None) -> None:
        deed = await ui.services.deeds.record(
            ui.user_id,
            data["org"],
            data["title"],
            date.fromisoformat(data["date"]),
            evidence_file_id=evidence_file_id,
            note=note,
        )
        await self.finish(ui)
        await self._done(ui, deed.org_id, deed.title, deed.done_on, edit=False)

    async def _done(self, ui: Ui, org_id: int, title: str, done_on: date, *, edit: bool) -> None:
        deeds = ui.services.deeds
        today = deeds.today()
        progress = await deeds.org_progress(org_id, done_on.year, today)
        text = ui.t(
            "deeds.recorded",
            title=title,
            date=done_on.isoformat(),
            org=progress.org.name,
            progress=ui.t.raw(
                "deeds.recorded_progress",
                label=_year_label(ui.t, done_on.year, today),
                done=progress.done,
                quota=progress.quota,
            )
            if progress.quota
            else ui.t.raw("deeds.recorded_no_quota", done=progress.done, label=_year_label(ui.t, done_on.year, today)),
        )
        if edit:
            await ui.edit_text(text)
        else:
            await ui.send_text(text)

    def _cancel_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([self.cancel_row(ui)])


def _choices(orgs: list[Organisation]) -> list[tuple[int, str]]:
    return [(org.id, org.name) for org in orgs]


def _year_label(t: Translator, year: int, today: date) -> str:
    return t("deeds.this_year") if year == today.year else t("deeds.that_year", year=year)


async def deed_command(update: Update, context: BotContext) -> None:
    await flow_of(context, DeedFlow).start(Ui(update, context))


# ---- /deeds ----------------------------------------------------------------------------------------
def _parse_year(text: str, today: date) -> int:
    cleaned = unicodedata.normalize("NFKC", text).strip().rstrip("年")
    if not cleaned:
        return today.year
    if bounds.ascii_digits(cleaned):
        return bounds.parse_year(cleaned)  # a number: says the range if it is outside it
    raise DomainError("deeds.bad_year", text=text[:20], year=today.year)


async def deeds_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    services = ui.services
    today = services.deeds.today()
    year = _parse_year(" ".join(context.args or ()), today)
    if await services.deeds.oversees_county(ui.user_id):
        text, markup = await county_page(ui, year, 0)
        await ui.send_text(text, markup)
        return
    org_ids = await services.deeds.own_org_ids(ui.user_id)
    if not org_ids:
        await ui.reply("deeds.not_a_cadre")
        return
    for org_id in org_ids:
        await ui.send_text(await org_deeds_text(ui, org_id, year, today))


async def org_deeds_text(ui: Ui, org_id: int, year: int, today: date) -> str:
    deeds = ui.services.deeds
    progress = await deeds.org_progress(org_id, year, today)
    lines = [progress_line(ui.t, progress, year, today)]
    recorded = await deeds.of_org(org_id, year)
    activities = ui.services.activities
    for number, deed in enumerate(recorded, 1):
        if deed.activity_id is not None:
            source = ui.t.raw("deeds.source_activity", code=(await activities.get(deed.activity_id)).code)
        elif deed.evidence_file_id:
            source = ui.t.raw("deeds.source_photo")
        else:
            source = ui.t.raw("deeds.source_note")
        lines.append(
            ui.t("deeds.deed_line", number=number, date=deed.done_on.strftime("%m-%d"), title=deed.title, source=source)
        )
    if not recorded:
        lines.append(ui.t("deeds.none_yet"))
    lines.append(ui.t("deeds.how_to_record"))
    return "\n".join(lines)


async def county_page(ui: Ui, year: int, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The county's totals, the pace rule, and every organisation owing deeds: behind first."""
    deeds = ui.services.deeds
    today = deeds.today()
    progress = await deeds.county_progress(ui.user_id, year, today)
    behind = [item for item in progress if item.behind]
    rest = [item for item in progress if not item.behind]
    ordered = sorted(behind, key=lambda i: (i.done - i.quota, i.org.name)) + sorted(rest, key=lambda i: i.org.name)
    pages = max(1, -(-len(ordered) // LIST_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    lines = [
        ui.t(
            "deeds.county_title",
            year=year,
            done=sum(i.done for i in progress),
            quota=sum(i.quota for i in progress),
            orgs=sum(1 for i in progress if i.quota),
            behind=len(behind),
        ),
        ui.t("deeds.pace_rule"),
    ]
    for item in ordered[page * LIST_PAGE_SIZE : (page + 1) * LIST_PAGE_SIZE]:
        if item.behind:
            expected = expected_by(item.quota, item.done, year, today)
            lines.append(
                ui.t(
                    "deeds.county_line_behind",
                    org=item.org.name,
                    done=item.done,
                    quota=item.quota,
                    expected=expected,
                )
            )
        else:
            lines.append(ui.t("deeds.county_line_ok", org=item.org.name, done=item.done, quota=item.quota))
    if not ordered:
        lines.append(ui.t("deeds.county_none"))
    if pages > 1:
        lines.append(ui.t("deeds.page", page=page + 1, pages=pages))
    buttons = []
    if page > 0:
        buttons.append(_page_button(ui, year, page - 1, "common.button_previous"))
    if page < pages - 1:
        buttons.append(_page_button(ui, year, page + 1, "common.button_next"))
    return "\n".join(lines), InlineKeyboardMarkup([buttons]) if buttons else None


def _page_button(ui: Ui, year: int, page: int, key: str):
    from telegram import InlineKeyboardButton

    return InlineKeyboardButton(ui.t(key), callback_data=DeedsPage(year=year, page=page).pack())


async def deeds_page(update: Update, context: BotContext) -> None:
    """◀ ▶ on the county list: re-checked, county admins only."""
    ui = Ui(update, context)
    values = DeedsPage.unpack(ui.callback_data)
    if not await ui.services.deeds.oversees_county(ui.user_id) or not (
        bounds.MIN_YEAR <= values.year <= bounds.MAX_YEAR
    ):
        await ui.answer("errors.county_admin_only", alert=True)
        return
    await ui.answer()
    text, markup = await county_page(ui, values.year, max(0, values.page))
    await ui.edit_text(text, markup)


# ---- the behind-pace reminder's words --------------------------------------------------------------
async def render_pace_notice(services: Services, chat_id: int, reminder: ReminderRecord) -> str | None:
    """The text one chat gets on a behind-pace day, or None when it has nothing to hear."""
    day = services.pace.day_of(reminder)
    notice = await services.pace.notice_for(chat_id, day)
    if notice.empty:
        return None
    if chat_id < 0:
        t = group_t(services)  # groups are read by many: the configured language
    else:
        person = await services.people.get(chat_id)
        t = reader_translator(services, person)
    return pace_text(t, notice)


def pace_text(t: Translator, notice: PaceNotice) -> str:
    year, day = notice.day.year, notice.day
    parts = []
    for item in notice.own:
        expected = expected_by(item.quota, item.done, year, day)
        parts.append(
            t(
                "deeds.remind_org",
                org=item.org.name,
                year=year,
                date=day.isoformat(),
                done=item.done,
                quota=item.quota,
                expected=expected,
                owed=expected - item.done,
            )
        )
    if notice.county:
        lines = [t("deeds.remind_county_title", date=day.isoformat(), count=len(notice.county))]
        for item in sorted(notice.county, key=lambda i: (i.done - i.quota, i.org.name))[:50]:
            expected = expected_by(item.quota, item.done, year, day)
            lines.append(
                t(
                    "deeds.county_line_behind",
                    org=item.org.name,
                    done=item.done,
                    quota=item.quota,
                    expected=expected,
                )
            )
        if len(notice.county) > 50:
            lines.append(t("deeds.remind_county_more", count=len(notice.county) - 50))
        lines.append(t("deeds.remind_county_footer"))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
