"""/cancelactivity A12: confirmed, announced where it was posted, the posts lose their buttons."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.domain.errors import DomainError
from handlers.activities.post import announce, refresh_posts
from handlers.activities.render import when_text
from handlers.activities.steps import activity_for_organiser
from handlers.context import BotContext, Ui, group_t
from handlers.flow import Flow, flow_of
from handlers.i18n import Raw


class CancelActivityFlow(Flow):
    name = "ca"

    async def start(self, ui: Ui, activity_id: int | None = None, code: str | None = None, **kwargs: object) -> None:
        activity = await activity_for_organiser(ui, activity_id if activity_id is not None else code or "")
        if activity.cancelled:
            raise DomainError("activities.err_cancelled", title=activity.title, code=activity.code)
        roster = await ui.services.activities.roster(activity.id)
        await self.go(ui, "confirm", {"activity_id": activity.id})
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "yes", "activities.button_cancel_activity")], self.cancel_row(ui)]
        )
        await ui.send_text(
            ui.t(
                "activities.cancel_ask",
                title=activity.title,
                code=activity.code,
                when=Raw(when_text(ui.t, ui.services.config.zone, activity.starts_at, activity.ends_at)),
                signed=len(roster.signed),
            ),
            markup,
        )

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        await self.finish(ui)
        activity = await ui.services.activities.cancel(ui.user_id, data["activity_id"])
        await ui.edit("activities.cancelled", title=activity.title, code=activity.code)
        g = group_t(ui.services)
        application = ui.context.application
        await announce(
            application,
            activity.id,
            g(
                "activities.cancelled_notice",
                title=activity.title,
                code=activity.code,
                when=Raw(when_text(g, ui.services.config.zone, activity.starts_at, activity.ends_at)),
            ),
        )
        await refresh_posts(application, activity.id)


async def cancelactivity_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    if not context.args:
        await ui.reply("activities.cancel_usage")
        return
    await flow_of(context, CancelActivityFlow).start(ui, code=context.args[0])
