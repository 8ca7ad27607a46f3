"""The organiser's buttons (under /activities, the sheet and the summary): each re-checked by the domain."""

from __future__ import annotations

from telegram import Update

from bot.domain.errors import DomainError
from handlers.activities.buttons import OrganiserAction, OrganiserChoice, tapped_choice
from handlers.activities.cancel import CancelActivityFlow
from handlers.activities.edit import EditActivityFlow
from handlers.activities.post import publish, publish_report
from handlers.activities.sheet import AttendanceFlow, Correction, sheet_view
from handlers.activities.steps import activity_for_organiser
from handlers.context import BotContext, Ui
from handlers.flow import flow_of


async def organiser_action(update: Update, context: BotContext) -> None:
    """Buttons on /activities and the sheet (its pages too); the domain re-checks that the tapper
    organises it."""
    ui = Ui(update, context)
    values = OrganiserAction.unpack(ui.callback_data)
    action = await tapped_choice(ui, OrganiserChoice, values.action)
    if action is None:
        return
    try:
        activity = await activity_for_organiser(ui, values.activity)
        if action is OrganiserChoice.NO_SHOW:
            await ui.services.attendance.mark_no_show(
                ui.user_id, activity.id, values.value, ui.t("activities.no_show_reason")
            )
    except DomainError as error:
        await ui.answer(error.key, alert=True, **error.params)
        return
    if action is OrganiserChoice.NO_SHOW:
        await ui.answer("activities.toast_no_show")
        text, markup = await sheet_view(ui, activity)
        await ui.edit_text(text, markup)
        return
    if action is OrganiserChoice.PAGE:
        await ui.answer()
        text, markup = await sheet_view(ui, activity, page=values.value)
        await ui.edit_text(text, markup)
        return
    await ui.answer()
    if action is OrganiserChoice.SHEET:
        text, markup = await sheet_view(ui, activity)
        await ui.send_text(text, markup)
    elif action in (OrganiserChoice.FIX, OrganiserChoice.REMOVE):
        mode = Correction.FIX if action is OrganiserChoice.FIX else Correction.REMOVE
        await flow_of(context, AttendanceFlow).start(ui, activity_id=activity.id, mode=mode)
    elif action is OrganiserChoice.EDIT:
        await flow_of(context, EditActivityFlow).start(ui, activity_id=activity.id)
    elif action is OrganiserChoice.CANCEL:
        await flow_of(context, CancelActivityFlow).start(ui, activity_id=activity.id)
    elif action is OrganiserChoice.POST:
        org = await ui.services.orgs.get(activity.org_id)
        published = await publish(context.application, activity)
        await ui.send_text(publish_report(ui, published, org.name, activity.code))
