"""Admins' reminders: /remind (where, when, what, confirm) and /reminders (pause, resume, delete).

Who may remind whom, and who may change a reminder, is decided in bot/domain/permissions.py and
bot/domain/reminders.py (ReminderService re-checks both on every create and every change); these
handlers offer the choices, render the schedule and keep the wake-up job in step with the
database after every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.domain import bounds
from bot.domain.errors import DomainError
from bot.domain.formatting import local_text
from bot.domain.reminders import MAX_TEXT
from bot.domain.schedule import Schedule, occurrences
from bot.domain.schedule_grammar import describe, parse_schedule
from bot.model.organisation import Binding, ChatRecord
from bot.model.reminder import ReminderRecord
from handlers.callback_data import CallbackData
from handlers.context import BotContext, Ui
from handlers.flow import Flow, flow_of, page_number
from handlers.i18n import Raw, Translator
from handlers.scheduling import schedule_wake


@dataclass(frozen=True)
class ReminderAction(CallbackData, prefix="rm"):
    reminder: int
    action: str


_ACTIONS = ("pause", "resume", "del", "delok", "keep")
UPCOMING_SHOWN = 3
LIST_SHOWN = 20  # /reminders sends one message per reminder: the soonest ones
CONFIRM_PREVIEW = 3000  # UTF-16 units of the text shown at the confirm step
LIST_PREVIEW = 300  # ... and in the list
_FIXED_TARGETS = {"hub": ("hub", None), "all": ("all_groups", None)}


# ---- small renderings ---------------------------------------------------------------------
def local_when(ui: Ui, moment: datetime) -> Raw:
    """'2026-11-30 周一 09:00' in the configured zone."""
    return when_text(ui.t, ui.services.config.zone, moment)


def when_text(t: Translator, zone: ZoneInfo, moment: datetime) -> Raw:
    """'2026-11-30 周一 09:00' in `zone`, in `t`'s language."""
    return t.raw(
        "reminders.when",
        date=local_text(moment, zone, "%Y-%m-%d"),
        time=local_text(moment, zone, "%H:%M"),
        weekday=t(f"schedule.weekday_{moment.astimezone(zone).weekday()}"),
    )


def schedule_text(ui: Ui, schedule: Schedule | dict) -> Raw:
    if isinstance(schedule, dict):
        schedule = Schedule.from_json(schedule)
    return Raw(describe(schedule, ui.services.config.zone, ui.t))


def preview(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units (what Telegram counts), with an ellipsis when cut."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    cut = text.encode("utf-16-le")[: 2 * (limit - 1)].decode("utf-16-le", errors="ignore")
    return cut + "…"


def kind_text(ui: Ui, urgent: bool) -> Raw:
    if urgent:
        return ui.t.raw("reminders.kind_urgent")
    settings = ui.services.config.reminders
    if ui.services.reminders.quiet is None:
        return ui.t.raw("reminders.kind_normal")
    return ui.t.raw("reminders.kind_normal_quiet", start=settings.quiet_start, end=settings.quiet_end)


async def chat_label(ui: Ui, chat: ChatRecord | None) -> Raw:
    if chat is None:
        return ui.t.raw("reminders.target_chat_missing")
    if not chat.active:
        return ui.t.raw("reminders.target_chat_gone", title=chat.title)
    if chat.binding is Binding.HUB:
        return ui.t.raw("reminders.target_hub", title=chat.title)
    if chat.binding is Binding.ORG and chat.org_id is not None:
        org = await ui.services.orgs.get(chat.org_id)
        return ui.t.raw("reminders.target_chat", org=org.name, title=chat.title)
    return ui.t.raw("reminders.target_chat_plain", title=chat.title)


async def target_label(ui: Ui, kind: str, target_id: int | None) -> Raw:
    services = ui.services
    if kind == "hub":
        hub = await services.groups.hub()
        if hub is None or not hub.active:
            return ui.t.raw("reminders.target_hub_missing")
        return ui.t.raw("reminders.target_hub", title=hub.title)
    if kind == "all_groups":
        count = sum(1 for chat in await services.groups.bound_groups() if chat.active)
        return ui.t.raw("reminders.target_all", count=count)
    if kind == "person":
        if target_id == ui.user_id:
            return ui.t.raw("reminders.target_me")
        person = None if target_id is None else await services.people.get(target_id)
        return ui.t.raw("reminders.target_person", name=person.display_name if person else str(target_id))
    return await chat_label(ui, await services.reminders.target_chat(target_id))


def next_text(ui: Ui, reminder: ReminderRecord) -> Raw:
    if reminder.state == "paused":
        return ui.t.raw("reminders.next_paused")
    if reminder.state != "active" or reminder.next_due_at is None:
        return ui.t.raw("reminders.next_finished")
    due = reminder.next_due_at
    send = ui.services.reminders.send_time(reminder)
    if send != due:
        return ui.t.raw("reminders.next_deferred", when=local_when(ui, send), due=local_when(ui, due))
    return local_when(ui, due)


# ---- /remind --------------------------------------------------------------------------------
class ReminderFlow(Flow):
    """Where (buttons), when (typed, parsed by the schedule grammar), what (typed), confirm."""

    name = "rd"

    async def _targets(self, ui: Ui) -> tuple[list[tuple[object, str]], Raw]:
        """The targets this person may pick (besides themselves), and a note on what is missing.

        Refuses anyone who is neither a county admin nor an organisation admin.
        """
        targets = await ui.services.reminders.targets_for(ui.user_id)
        note = Raw("")
        items: list[tuple[object, str]] = []
        if targets.hub is not None:
            items.append(("hub", ui.t("reminders.button_hub")))
        if targets.county:
            if targets.any_group:
                items.append(("all", ui.t("reminders.button_all_groups")))
            else:
                note = ui.t.raw("reminders.note_no_groups_county")
        for org, group in targets.org_groups:
            items.append((group.id, ui.t("reminders.button_chat", org=org.name, title=group.title)))
        if targets.without_group:
            names = ui.t("reminders.name_separator").join(org.name for org in targets.without_group)
            note = ui.t.raw("reminders.note_no_group_org", orgs=names)
        return items, note

    def _target_markup(self, ui: Ui, items: list[tuple[object, str]], page: int) -> InlineKeyboardMarkup:
        me = [[self.choice(ui, "target", "me", "reminders.button_me")]]
        return self.paged(ui, "target", items, page, me)

    def _cancel_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([self.cancel_row(ui)])

    async def start(self, ui: Ui, **kwargs: object) -> None:
        items, note = await self._targets(ui)
        await self.go(ui, "target", {})
        await ui.reply("reminders.pick_target", self._target_markup(ui, items, 0), note=note)

    async def choice_target(self, ui: Ui, data: dict, value: str) -> None:
        items, note = await self._targets(ui)  # re-checks the role on every tap
        page = page_number(value)
        if page is not None:
            await ui.edit("reminders.pick_target", self._target_markup(ui, items, page), note=note)
            return
        target: int | None
        if value == "me":
            kind, target = "person", ui.user_id
        elif value not in {str(item) for item, _ in items}:
            raise DomainError("reminders.target_denied")
        elif value in _FIXED_TARGETS:
            kind, target = _FIXED_TARGETS[value]
        else:
            kind, target = "chat", bounds.parse_id(value)  # one of the listed chats' record ids
        data = {"kind": kind, "target": target}
        await self.go(ui, "when", data)
        await ui.edit(
            "reminders.ask_when",
            self._cancel_markup(ui),
            target=await target_label(ui, kind, target),
        )

    async def text_when(self, ui: Ui, data: dict, text: str) -> None:
        now = ui.services.clock.now()
        schedule = parse_schedule(text, now=now, zone=ui.services.config.zone)
        if not occurrences(schedule, after=now, zone=ui.services.config.zone, count=1):
            raise DomainError("reminders.no_future_occurrence")
        data = {**data, "schedule": schedule.to_json()}
        await self.go(ui, "text", data)
        await ui.reply(
            "reminders.ask_text",
            self._cancel_markup(ui),
            target=await target_label(ui, data["kind"], data["target"]),
            schedule=schedule_text(ui, schedule),
            max=MAX_TEXT,
        )

    async def text_text(self, ui: Ui, data: dict, text: str) -> None:
        if not text:
            raise DomainError("reminders.text_empty")
        if len(text) > MAX_TEXT:
            raise DomainError("reminders.text_too_long", length=len(text), max=MAX_TEXT)
        zone = ui.services.config.zone
        schedule = Schedule.from_json(data["schedule"])
        upcoming = occurrences(schedule, after=ui.services.clock.now(), zone=zone, count=UPCOMING_SHOWN)
        if not upcoming:  # a one-off time passed while they were typing
            await self.go(ui, "when", {"kind": data["kind"], "target": data["target"]})
            raise DomainError("reminders.time_passed")
        data = {**data, "text": text}
        await self.go(ui, "confirm", data)
        lines, quiet = [], False
        for due in upcoming:
            release = ui.services.reminders.release_time(due)
            if release != due:
                quiet = True
                lines.append(
                    ui.t("reminders.occurrence_quiet", when=local_when(ui, due), release=local_when(ui, release))
                )
            else:
                lines.append(ui.t("reminders.occurrence", when=local_when(ui, due)))
        settings = ui.services.config.reminders
        note = (
            ui.t.raw("reminders.quiet_note", start=settings.quiet_start, end=settings.quiet_end) if quiet else Raw("")
        )
        markup = InlineKeyboardMarkup(
            [
                [self.choice(ui, "confirm", "save", "reminders.button_save")],
                [self.choice(ui, "confirm", "urgent", "reminders.button_save_urgent")],
                self.cancel_row(ui),
            ]
        )
        await ui.reply(
            "reminders.confirm",
            markup,
            target=await target_label(ui, data["kind"], data["target"]),
            schedule=schedule_text(ui, schedule),
            upcoming=Raw("\n".join(lines)),
            quiet=note,
            text=preview(text, CONFIRM_PREVIEW),
        )

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value not in ("save", "urgent"):
            raise DomainError("common.button_expired")
        try:
            reminder = await ui.services.reminders.create(
                ui.user_id,
                data["kind"],
                data["target"],
                data["text"],
                Schedule.from_json(data["schedule"]),
                urgent=value == "urgent",
            )
        except DomainError as error:
            if error.key == "reminders.no_future_occurrence":
                await self.go(ui, "when", {"kind": data["kind"], "target": data["target"]})
                raise DomainError("reminders.time_passed") from None
            await self.finish(ui)
            raise
        await self.finish(ui)
        await schedule_wake(ui.context.application)
        await ui.edit(
            "reminders.saved",
            id=reminder.id,
            target=await target_label(ui, reminder.target_kind, reminder.target_id),
            schedule=schedule_text(ui, reminder.schedule),
            kind=kind_text(ui, reminder.urgent),
            next=next_text(ui, reminder),
        )


async def remind_command(update: Update, context: BotContext) -> None:
    await flow_of(context, ReminderFlow).start(Ui(update, context))


# ---- /reminders -----------------------------------------------------------------------------
async def item_text(ui: Ui, reminder: ReminderRecord) -> str:
    creator = Raw("")
    if reminder.created_by is not None and reminder.created_by != ui.user_id:
        person = await ui.services.people.get(reminder.created_by)
        creator = ui.t.raw("reminders.item_creator", name=person.display_name if person else str(reminder.created_by))
    return ui.t(
        "reminders.item",
        id=reminder.id,
        target=await target_label(ui, reminder.target_kind, reminder.target_id),
        schedule=schedule_text(ui, reminder.schedule),
        next=next_text(ui, reminder),
        kind=kind_text(ui, reminder.urgent),
        creator=creator,
        text=preview(reminder.text, LIST_PREVIEW),
    )


def _action_button(ui: Ui, reminder_id: int, action: str, key: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(ui.t(key), callback_data=ReminderAction(reminder=reminder_id, action=action).pack())


def item_markup(ui: Ui, reminder: ReminderRecord) -> InlineKeyboardMarkup:
    row = []
    if reminder.state == "active":
        row.append(_action_button(ui, reminder.id, "pause", "reminders.button_pause"))
    elif reminder.state == "paused":
        row.append(_action_button(ui, reminder.id, "resume", "reminders.button_resume"))
    row.append(_action_button(ui, reminder.id, "del", "reminders.button_delete"))
    return InlineKeyboardMarkup([row])


def delete_markup(ui: Ui, reminder_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _action_button(ui, reminder_id, "delok", "reminders.button_delete_confirm"),
                _action_button(ui, reminder_id, "keep", "reminders.button_keep"),
            ]
        ]
    )


async def reminders_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    reminders = await ui.services.reminders.visible_to(ui.user_id)
    if not reminders:
        await ui.reply("reminders.list_empty")
        return
    shown = reminders[:LIST_SHOWN]
    if len(shown) < len(reminders):
        await ui.reply("reminders.list_title_truncated", count=len(reminders), shown=len(shown))
    else:
        await ui.reply("reminders.list_title", count=len(reminders))
    for reminder in shown:
        await ui.send_text(await item_text(ui, reminder), item_markup(ui, reminder))


async def reminder_action(update: Update, context: BotContext) -> None:
    """Pause / resume / delete (asked twice) one reminder; the service re-checks who may."""
    ui = Ui(update, context)
    values = ReminderAction.unpack(ui.callback_data)
    action, reminder_id = values.action, values.reminder
    if action not in _ACTIONS:
        await ui.answer("common.button_expired", alert=True)
        return
    service = ui.services.reminders
    try:
        reminder = await service.owned(ui.user_id, reminder_id)
        if action == "del":
            await ui.answer()
            await ui.edit_text(
                ui.t("reminders.delete_ask", item=Raw(await item_text(ui, reminder))), delete_markup(ui, reminder.id)
            )
            return
        if action == "keep":
            await ui.answer()
            await ui.edit_text(await item_text(ui, reminder), item_markup(ui, reminder))
            return
        if action == "delok":
            await service.delete(ui.user_id, reminder.id)
            toast = "reminders.deleted_toast"
        elif action == "pause" and reminder.state != "active":
            toast = "reminders.already_paused"
        elif action == "pause":
            reminder = await service.pause(ui.user_id, reminder.id)
            toast = "reminders.paused_toast"
        elif reminder.state != "paused":
            toast = "reminders.already_active"
        else:
            reminder = await service.resume(ui.user_id, reminder.id)
            toast = "reminders.resumed_toast"
    except DomainError as error:
        await ui.answer(error.key, alert=True, **error.params)
        return
    await ui.answer(toast)
    await schedule_wake(context.application)
    if action == "delok":
        await ui.edit(
            "reminders.deleted",
            id=reminder.id,
            schedule=schedule_text(ui, reminder.schedule),
            target=await target_label(ui, reminder.target_kind, reminder.target_id),
        )
        return
    await ui.edit_text(await item_text(ui, reminder), item_markup(ui, reminder))
