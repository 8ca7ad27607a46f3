"""/attendance A12: the organiser's sheet, and one correction (or removal) typed at a time."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from bot.domain.formatting import hours_text, local_text
from bot.model.activity import Activity
from handlers.activities.buttons import OrganiserChoice, organiser_button
from handlers.activities.render import (
    NAMES_SHOWN,
    SHEET_BUDGET,
    name_of,
    names,
    pages_of,
    when_text,
)
from handlers.activities.steps import activity_for_organiser, parse_clock_on
from handlers.context import BotContext, Ui, clean
from handlers.flow import Flow
from handlers.i18n import Raw

NO_SHOW_BUTTONS = 40  # volunteers who signed up and never checked in, one button each
_NO_CHECKOUT = ("-", "无", "none")  # typed instead of a check-out time


class Correction(StrEnum):
    """What the organiser types in AttendanceFlow; also the step's name (`activities.ask_<value>`)."""

    FIX = "fix"  # `@username 14:05 16:30 reason`
    REMOVE = "remove"  # `@username reason`


async def sheet_view(ui: Ui, activity: Activity, note: str = "", page: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    """The sheet's `page` (0-based): as many lines as fit in a message; when there are more, the
    page says so and how to see them (◀ ▶ under it, or /export for a spreadsheet of them all)."""
    services = ui.services
    zone = services.config.zone
    lines_data = await services.attendance.sheet(activity.id)
    roster = await services.activities.roster(activity.id)
    present_ids = {line.user_id for line in lines_data}
    missing = [user_id for user_id in roster.signed if user_id not in present_ids]
    people = await services.people.many(sorted(present_ids | set(missing)))
    t = ui.t
    body = []
    total = 0
    for index, line in enumerate(lines_data, start=1):
        name = name_of(people, line.user_id)
        if line.no_show:
            body.append(t("activities.sheet_line_no_show", index=index, name=name))
            continue
        total += line.credited_minutes
        flags = t.raw("activities.sheet_flag_walk_in") if line.walk_in else Raw("")
        out = (
            t("activities.sheet_checkout", time=local_text(line.checked_out_at, zone, "%H:%M"))
            if line.checked_out_at
            else t("activities.sheet_no_checkout")
        )
        checked_in = (
            t("activities.sheet_checkin", time=local_text(line.checked_in_at, zone, "%H:%M"))
            if line.checked_in_at
            else t("activities.sheet_no_checkin")
        )
        body.append(
            t(
                "activities.sheet_line",
                index=index,
                name=name,
                checked_in=checked_in,
                checked_out=out,
                credited=hours_text(line.credited_minutes, t),
                flags=flags,
            )
        )
    pages = pages_of(body, SHEET_BUDGET)
    page = min(max(page, 0), len(pages) - 1)
    after = sum(len(lines) for lines in pages[page + 1 :])
    body = list(pages[page])
    if after:
        body.append(
            t("activities.sheet_more", count=after, page=page + 1, pages=len(pages), next=t("common.button_next"))
        )
    elif len(pages) > 1:
        body.append(t("activities.sheet_last_page", page=page + 1, pages=len(pages)))
    if not body:
        body.append(t("activities.sheet_empty"))
    if missing:
        shown = names(t, people, missing[:NAMES_SHOWN])
        if len(missing) > NAMES_SHOWN:
            shown += t("activities.names_more", count=len(missing) - NAMES_SHOWN)
        body.append(t("activities.sheet_missing", names=Raw(shown)))
    credited = [line for line in lines_data if not line.no_show]
    text = t(
        "activities.sheet",
        title=activity.title,
        code=activity.code,
        when=Raw(when_text(t, zone, activity.starts_at, activity.ends_at)),
        signed=len(roster.signed),
        slots=activity.slots,
        present=len(credited),
        total=hours_text(total, t),
        lines=Raw("\n".join(body)),
        note=Raw(note),
    )
    rows = [
        [organiser_button(ui, activity, OrganiserChoice.NO_SHOW, user_id, name=name_of(people, user_id))]
        for user_id in missing[:NO_SHOW_BUTTONS]
    ]
    turns = []
    if page > 0:
        turns.append(organiser_button(ui, activity, OrganiserChoice.PAGE, page - 1, label=t("common.button_previous")))
    if after:
        turns.append(organiser_button(ui, activity, OrganiserChoice.PAGE, page + 1, label=t("common.button_next")))
    if turns:
        rows.append(turns)
    rows.append(
        [organiser_button(ui, activity, OrganiserChoice.FIX), organiser_button(ui, activity, OrganiserChoice.REMOVE)]
    )
    return text, InlineKeyboardMarkup(rows)


async def attendance_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    if not context.args:
        await ui.reply("activities.attendance_usage")
        return
    activity = await activity_for_organiser(ui, context.args[0])
    text, markup = await sheet_view(ui, activity)
    await ui.send_text(text, markup)


class AttendanceFlow(Flow):
    """The organiser types one correction (`@username 14:05 16:30 原因`) or removal (`@username 原因`)."""

    name = "at"

    async def start(self, ui: Ui, activity_id: int = 0, mode: Correction = Correction.FIX, **kwargs: object) -> None:
        activity = await activity_for_organiser(ui, activity_id)
        await self.go(ui, mode, {"activity_id": activity.id})
        zone = ui.services.config.zone
        await ui.reply(
            f"activities.ask_{mode}",
            InlineKeyboardMarkup([self.cancel_row(ui)]),
            title=activity.title,
            code=activity.code,
            date=local_text(activity.starts_at, zone, "%Y-%m-%d"),
            example_in=local_text(activity.starts_at, zone, "%H:%M"),
            example_out=local_text(activity.ends_at, zone, "%H:%M"),
        )

    async def text_fix(self, ui: Ui, data: dict, text: str) -> None:
        activity = await activity_for_organiser(ui, data["activity_id"])
        zone = ui.services.config.zone
        parts = clean(text).split(" ", 3)
        if len(parts) < 4:
            raise DomainError("activities.fix_format", text=text[:40])
        who, start_text, end_text, reason = parts
        checked_in = parse_clock_on(zone, activity.starts_at, start_text)
        if checked_in is None:
            raise DomainError("activities.fix_bad_time", text=start_text[:10])
        if end_text in _NO_CHECKOUT:
            checked_out = None
        else:
            checked_out = parse_clock_on(zone, activity.starts_at, end_text)
            if checked_out is None:
                raise DomainError("activities.fix_bad_time", text=end_text[:10])
            if checked_out <= checked_in:
                checked_out += timedelta(days=1)
        person = await ui.services.people.find(who)
        await ui.services.attendance.add_or_correct(
            ui.user_id, activity.id, person.user_id, checked_in, checked_out, reason
        )
        await self.finish(ui)
        text, markup = await sheet_view(ui, activity, ui.t("activities.fix_done", name=person.display_name))
        await ui.send_text(text, markup)

    async def text_remove(self, ui: Ui, data: dict, text: str) -> None:
        activity = await activity_for_organiser(ui, data["activity_id"])
        parts = clean(text).split(" ", 1)
        if len(parts) < 2:
            raise DomainError("activities.remove_format", text=text[:40])
        person = await ui.services.people.find(parts[0])
        await ui.services.attendance.remove(ui.user_id, activity.id, person.user_id, parts[1])
        await self.finish(ui)
        text, markup = await sheet_view(ui, activity, ui.t("activities.remove_done", name=person.display_name))
        await ui.send_text(text, markup)
