"""/start: the welcome, and the deep links that open a conversation (join_, bind_) or the auction (auc_)."""

from __future__ import annotations

from telegram import Update

from handlers import auction
from handlers.commands import Audience
from handlers.common import audience_of
from handlers.context import BotContext, Ui
from handlers.flow import flow_of
from handlers.groups import BindFlow
from handlers.join import JoinFlow


async def start(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    payload = context.args[0] if context.args else ""
    if payload.startswith("join_") and payload[5:].isdigit():
        await flow_of(context, JoinFlow).start(ui, org_id=int(payload[5:]))
        return
    if payload.startswith("bind_") and payload[5:].lstrip("-").isdigit():
        await flow_of(context, BindFlow).start(ui, chat_id=int(payload[5:]))
        return
    if payload.startswith("auc_") and payload[4:].isdigit():
        await auction.start_browsing(ui, int(payload[4:]))
        return
    await ui.services.conversations.clear(ui.user_id)
    audience = await audience_of(ui)
    welcome = ui.t("start.welcome", name=ui.user.first_name)
    if audience is Audience.COUNTY_ADMIN or not await ui.services.permissions.county_admin_ids():
        # Only county admins (and, on a fresh install, whoever is about to become one) need the id.
        welcome += ui.t("start.your_id", user_id=ui.user_id)
    await ui.send_text(welcome)
    await ui.reply("start.roles_" + audience.name.lower())
