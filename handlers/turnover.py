"""Cadre turnover as people see it: the receiver's one message listing what was handed over (each
with a button to open it), the county admins' one-line note, those buttons, and /leave.

What moves and who may open what is bot/domain/turnover.py's and the owning domains'; every
button re-checks the tapper's rights (a departed cadre's old buttons are refused there)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application

from bot.domain.duty_kinds import ACTIVITY, CLAIM, JOIN_REQUEST, REMINDER, SESSION
from bot.domain.errors import DomainError
from bot.domain.services import Services
from bot.domain.visits.duty import VISIT
from bot.model.outbox import OutboxMessage
from handlers.activities.sheet import sheet_view
from handlers.activities.steps import activity_for_organiser
from handlers.callback_data import CallbackData
from handlers.context import BotContext, Ui, reader_translator, services_of
from handlers.flow import Flow, choice_id, flow_of, page_number
from handlers.i18n import Translator
from handlers.join import decision_markup
from handlers.members import name_of
from handlers.outbox import Rendered
from handlers.reminders import item_markup, item_text
from handlers.visits.mine import send_household
from handlers.wishes.card import send_card

# How many handed-over items get a button (the rest are listed): a message keeps to a screen.
BUTTONS_SHOWN = 12
KINDS = (CLAIM, ACTIVITY, REMINDER, SESSION, JOIN_REQUEST, VISIT)


@dataclass(frozen=True)
class OpenDuty(CallbackData, prefix="tov"):
    kind: str
    subject: int


def _day(services: Services, moment: datetime) -> str:
    return moment.astimezone(services.config.zone).strftime("%Y-%m-%d")


async def render_received(application: Application, message: OutboxMessage) -> Rendered:
    """To the receiver: from whom, for which organisation, and each duty with a button."""
    services = services_of(application)
    record = await services.turnover.departure(message.param("departure"))
    t = reader_translator(services, await services.people.get(message.chat_id))
    org = await services.orgs.get(record.org_id)
    predecessor = await services.people.get(record.user_id)
    transfers = await services.turnover.transfers(record.id)
    lines = [t("turnover.received_title", name=name_of(predecessor, record.user_id), org=org.name)]
    buttons: list[list[InlineKeyboardButton]] = []
    for kind in KINDS:
        items = [item for item in transfers if item.kind == kind]
        if not items:
            continue
        lines.append("")
        lines.append(t(f"turnover.kind_{kind}", count=len(items)))
        for item in items:
            due = t("turnover.due", day=_day(services, item.due_at)) if item.due_at is not None else ""
            lines.append(t("turnover.item_line", label=item.label, due=due))
            if len(buttons) < BUTTONS_SHOWN:
                label = t(f"turnover.button_{kind}", label=item.label[:30])
                buttons.append(
                    [InlineKeyboardButton(label, callback_data=OpenDuty(kind=kind, subject=item.subject_id).pack())]
                )
    lines.append("")
    lines.append(t("turnover.received_hint"))
    return Rendered("\n".join(lines), InlineKeyboardMarkup(buttons) if buttons else None)


async def render_county_note(application: Application, message: OutboxMessage) -> Rendered:
    """To each county admin: one line."""
    services = services_of(application)
    record = await services.turnover.departure(message.param("departure"))
    t: Translator = reader_translator(services, await services.people.get(message.chat_id))
    org = await services.orgs.get(record.org_id)
    person = await services.people.get(record.user_id)
    receiver = await services.people.get(record.receiver_id) if record.receiver_id is not None else None
    count = len(await services.turnover.transfers(record.id))
    return Rendered(
        t(
            f"turnover.county_note_{record.reason}",
            name=name_of(person, record.user_id),
            org=org.name,
            receiver=name_of(receiver, record.receiver_id or 0),
            count=count,
        )
    )


async def open_duty(update: Update, context: BotContext) -> None:
    """A button of the receiver's message: the duty as its own feature shows it, if still theirs."""
    ui = Ui(update, context)
    values = OpenDuty.unpack(ui.callback_data)
    if values.kind not in KINDS:
        await ui.answer("common.button_expired", alert=True)
        return
    try:
        await _open(ui, values.kind, values.subject)
    except DomainError as error:
        await ui.answer(error.key, alert=True, **error.params)
        return
    await ui.answer()


async def _open(ui: Ui, kind: str, subject: int) -> None:
    services = ui.services
    if kind == CLAIM:
        await send_card(ui, await services.wishes.get_for(ui.user_id, subject))
    elif kind == ACTIVITY:
        text, markup = await sheet_view(ui, await activity_for_organiser(ui, subject))
        await ui.send_text(text, markup)
    elif kind == REMINDER:
        reminder = await services.reminders.owned(ui.user_id, subject)
        await ui.send_text(await item_text(ui, reminder), item_markup(ui, reminder))
    elif kind == SESSION:
        await services.auction.require_creator(ui.user_id)
        await ui.reply("turnover.session_hint")
    elif kind == VISIT:
        await send_household(ui, subject)
    else:
        request = await services.membership.pending_request(subject)
        await services.membership.pending_requests(ui.user_id, request.org_id)  # re-checks the manager
        if request.status != "pending":
            raise DomainError("join.already_decided", status=request.status)
        org = await services.orgs.get(request.org_id)
        person = await services.people.get(request.user_id)
        await ui.reply(
            "join.approval_request",
            decision_markup(request.id)(ui.t),
            name=name_of(person, request.user_id),
            username=f"@{person.username}" if person is not None and person.username else "",
            org=org.name,
        )


# ---- /leave -----------------------------------------------------------------------------------------
class LeaveFlow(Flow):
    """A member leaves an organisation by themselves; their duties go to its admins. The last
    admin is sent to /handover instead (bot/domain/membership.py decides)."""

    name = "lv"

    async def start(self, ui: Ui, **kwargs: object) -> None:
        memberships = await ui.services.membership.memberships_of(ui.user_id)
        if not memberships:
            await self.finish(ui)
            await ui.reply("turnover.leave_none")
            return
        if len(memberships) == 1:
            await self._confirm(ui, memberships[0].org_id, edit=False)
            return
        await self.go(ui, "org", {})
        await ui.reply("turnover.leave_pick", await self._orgs(ui, 0))

    async def _orgs(self, ui: Ui, page: int) -> InlineKeyboardMarkup:
        memberships = await ui.services.membership.memberships_of(ui.user_id)
        items = [(m.org_id, (await ui.services.orgs.get(m.org_id)).name) for m in memberships]
        return self.paged(ui, "org", items, page)

    async def choice_org(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            await ui.edit("turnover.leave_pick", await self._orgs(ui, page))
            return
        await self._confirm(ui, choice_id(value), edit=True)

    async def _confirm(self, ui: Ui, org_id: int, *, edit: bool) -> None:
        try:
            await ui.services.membership.check_leaving(ui.user_id, org_id)
        except DomainError:
            await self.finish(ui)
            raise
        org = await ui.services.orgs.get(org_id)
        held = await ui.services.turnover.held(ui.user_id, org_id)
        count = sum(len(duties) for duties in held.values())
        await self.go(ui, "confirm", {"org_id": org_id})
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "yes", "turnover.button_leave")], self.cancel_row(ui)]
        )
        text = ui.t("turnover.leave_confirm", org=org.name, count=count)
        await (ui.edit_text(text, markup) if edit else ui.send_text(text, markup))

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        departure = await ui.services.membership.leave(ui.user_id, data["org_id"])
        await self.finish(ui)
        org = await ui.services.orgs.get(departure.record.org_id)
        receiver_id = departure.record.receiver_id
        receiver = await ui.services.people.get(receiver_id) if receiver_id is not None else None
        await ui.edit(
            "turnover.left", org=org.name, count=departure.count, receiver=name_of(receiver, receiver_id or 0)
        )


async def leave_command(update: Update, context: BotContext) -> None:
    await flow_of(context, LeaveFlow).start(Ui(update, context))
