"""/start: the welcome, and the deep links that open a conversation (join_, bind_) or the auction (auc_).

A deep link's number is bounded like any other input (bot/domain/bounds.py): a forged or mangled
link gets a clear answer, not an OverflowError. `bind_<chat>` shows nothing about the group
(not even whether the bot knows it) to someone who may not bind groups.
"""

from __future__ import annotations

from telegram import Update

from bot.domain import bounds
from bot.domain.errors import DomainError
from handlers import auction, records
from handlers.common import audience_of
from handlers.context import BotContext, Ui, best_effort
from handlers.flow import flow_of
from handlers.groups import BindFlow, is_chat_admin
from handlers.join import JoinFlow


async def start(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    payload = context.args[0] if context.args else ""
    if payload.startswith("join_"):
        await flow_of(context, JoinFlow).start(ui, org_id=_linked(bounds.id_or_none(payload[5:])))
        return
    if payload.startswith("bind_"):
        await _bind(ui, context, _linked(bounds.chat_id_or_none(payload[5:])))
        return
    if payload.startswith("q_"):  # an activity's check-in QR code (handlers/records/qr.py)
        await records.scanned(ui, context, payload)
        return
    if payload.startswith("v_"):  # a certificate's QR code: verify it
        await records.answer_verification(ui, payload[2:])
        return
    if payload.startswith("auc_"):
        await auction.start_browsing(ui, _linked(bounds.id_or_none(payload[4:])))
        return
    await ui.services.conversations.clear(ui.user_id)
    audience = await audience_of(ui)
    welcome = ui.t("start.welcome", name=ui.user.first_name)
    if await ui.services.membership.needs_user_id(ui.user_id):
        welcome += ui.t("start.your_id", user_id=ui.user_id)
    await ui.send_text(welcome)
    await ui.reply("start.roles_" + audience.name.lower())


def _linked(number: int | None) -> int:
    if number is None:
        raise DomainError("bounds.bad_link", max=bounds.MAX_ID)
    return number


async def _bind(ui: Ui, context: BotContext, chat_id: int) -> None:
    async def admin_there() -> bool:
        # Telegram is asked only for someone who is not a county admin; a group the bot is not
        # in (or that does not exist) answers with an error, which means "no".
        found = await best_effort(is_chat_admin(context, chat_id, ui.user_id), "admin check in chat %s", chat_id)
        return bool(found)

    if not await ui.services.groups.may_bind_some_group(ui.user_id, is_chat_admin=admin_there):
        await ui.reply("hardening.bind_not_allowed")
        return
    await flow_of(context, BindFlow).start(ui, chat_id=chat_id)
