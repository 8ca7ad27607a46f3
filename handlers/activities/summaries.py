"""After the end: each activity's summary (to its group, once) and the organiser's "people served?"."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application

from bot.domain.errors import DomainError
from bot.domain.formatting import hours_text
from bot.model.activity import Activity
from bot.model.outbox import OutboxMessage
from handlers.activities.buttons import OrganiserAction, OrganiserChoice, ServedAnswer, ServedChoice, tapped_choice
from handlers.activities.post import refresh_posts
from handlers.activities.steps import activity_for_organiser
from handlers.context import BotContext, MarkupFor, Ui, group_t, reader_translator, services_of
from handlers.flow import Flow, flow_of
from handlers.i18n import Translator
from handlers.outbox import Rendered, drain_outbox


def served_markup(activity: Activity) -> MarkupFor:
    def build(t: Translator) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t("activities.button_served_ok", count=activity.expected_served),
                        callback_data=ServedAnswer(activity=activity.id, action=ServedChoice.OK).pack(),
                    )
                ],
                [
                    InlineKeyboardButton(
                        t("activities.button_served_other"),
                        callback_data=ServedAnswer(activity=activity.id, action=ServedChoice.OTHER).pack(),
                    )
                ],
                [
                    InlineKeyboardButton(
                        t("activities.button_sheet", code=activity.code),
                        callback_data=OrganiserAction(
                            activity=activity.id, action=OrganiserChoice.SHEET, value=0
                        ).pack(),
                    )
                ],
            ]
        )

    return build


async def send_due_summaries(application: Application) -> int:
    """Each ended activity's summary, once: queued (bot/domain/activities.py: to its group(s),
    and the organiser asked privately), then sent by the outbox. Returns how many were queued."""
    services = services_of(application)
    window = timedelta(minutes=services.config.activities.checkin_closes_after_minutes)
    # Due once check-out has closed, so the figures are final; after downtime, grouped per chat
    # and bounded in time (bot/domain/catch_up.py).
    due = await services.activities.due_summaries(services.clock.now() - window)
    caught_up = await services.catch_up.queue(due, services.clock.now())
    for activity in [*caught_up.summaries, *caught_up.stale]:  # every post shows it has ended
        await refresh_posts(application, activity.id)
    if caught_up.messages:
        await drain_outbox(application)
    return len(caught_up.summaries)


async def render_group_summary(application: Application, message: OutboxMessage) -> Rendered:
    services = services_of(application)
    t = group_t(services)
    activity = await services.activities.get(message.param("activity"))
    summary = await services.attendance.summary(activity.id)
    return Rendered(
        t(
            "activities.summary_group",
            title=activity.title,
            code=activity.code,
            volunteers=summary.volunteers,
            hours=hours_text(summary.volunteer_minutes, t),
            served=summary.served,
        )
    )


async def render_organiser_summary(application: Application, message: OutboxMessage) -> Rendered:
    """The organiser's figures, and the question how many people were served."""
    services = services_of(application)
    activity = await services.activities.get(message.param("activity"))
    summary = await services.attendance.summary(activity.id)
    t = reader_translator(services, await services.people.get(message.chat_id))
    key = "activities.summary_organiser_deed" if activity.counts_as_deed else "activities.summary_organiser"
    text = t(
        key,
        title=activity.title,
        code=activity.code,
        volunteers=summary.volunteers,
        no_shows=summary.no_shows,
        walk_ins=summary.walk_ins,
        expected=activity.expected_served,
    )
    return Rendered(text, served_markup(activity)(t))


class ServedFlow(Flow):
    """The organiser types the number of people served when it differs from the expected one."""

    name = "sd"

    async def start(self, ui: Ui, activity_id: int = 0, **kwargs: object) -> None:
        activity = await activity_for_organiser(ui, activity_id)
        await self.go(ui, "number", {"activity_id": activity.id})
        await ui.reply(
            "activities.ask_served",
            InlineKeyboardMarkup([self.cancel_row(ui)]),
            title=activity.title,
            code=activity.code,
            expected=activity.expected_served,
        )

    async def text_number(self, ui: Ui, data: dict, text: str) -> None:
        number = ui.services.activities.check_served(text)
        activity = await activity_for_organiser(ui, data["activity_id"])
        await ui.services.activities.confirm_served(ui.user_id, activity.id, number)
        await self.finish(ui)
        await ui.reply("activities.served_confirmed", title=activity.title, code=activity.code, count=number)


async def served_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    values = ServedAnswer.unpack(ui.callback_data)
    choice = await tapped_choice(ui, ServedChoice, values.action)
    if choice is None:
        return
    try:
        activity = await activity_for_organiser(ui, values.activity)
        if choice is ServedChoice.OK:
            await ui.services.activities.confirm_served(ui.user_id, activity.id, activity.expected_served)
    except DomainError as error:
        await ui.answer(error.key, alert=True, **error.params)
        return
    await ui.answer()
    if choice is ServedChoice.OTHER:
        await flow_of(context, ServedFlow).start(ui, activity_id=activity.id)
        return
    await ui.edit(
        "activities.served_confirmed", title=activity.title, code=activity.code, count=activity.expected_served
    )
