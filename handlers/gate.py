"""Gatekeepers that run before every feature handler (negative groups in handlers.register).

They record who wrote, pick the language to answer in, and follow a group's upgrade to a
supergroup. Nothing here decides permissions: that is bot/domain/permissions.py.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.domain.permissions import ANONYMOUS_ADMIN_BOT_ID
from handlers.callback_data import SEPARATOR, payload_classes
from handlers.context import BotContext, Ui


async def record_and_localise(update: Update, context: BotContext) -> None:
    services = context.services
    user = update.effective_user
    chat = update.effective_chat
    if chat is not None and chat.type in ("group", "supergroup") and update.my_chat_member is None:
        await services.groups.seen(chat.id, chat.title or str(chat.id), chat.type)
    if user is None or user.is_bot:
        context.language = services.config.language
        return
    private = chat is not None and chat.type == "private"
    await services.people.seen(user.id, user.full_name, user.username, user.language_code, private=private)
    person = await services.people.get(user.id)
    context.language = services.people.language_of(person, user.language_code)


async def follow_migration(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its stored id follows, bindings and all."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        await context.services.groups.migrated(message.chat.id, message.migrate_to_chat_id)
        raise ApplicationHandlerStop
    if message.migrate_from_chat_id:
        await context.services.groups.migrated(message.migrate_from_chat_id, message.chat.id)
        raise ApplicationHandlerStop


async def buttons_where_they_belong(update: Update, context: BotContext) -> None:
    """A tap on a private-chat button (a conversation's, a wish card's, /lang's…) that arrives
    from a group was forged: it is refused as expired before its handler could edit a group's
    message with what was meant for one person. Payload classes posted into groups say so
    (`in_groups=True`); data that matches no class goes on to the catch-all."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or chat.type == "private":
        return
    prefix = (query.data or "").split(SEPARATOR, 1)[0]
    if not any(kind.prefix == prefix and not kind.in_groups for kind in payload_classes()):
        return
    await Ui(update, context).answer("common.button_expired", alert=True)
    raise ApplicationHandlerStop


def is_anonymous_admin(update: Update) -> bool:
    """Messages an anonymous admin sends "as the group": nobody can be identified, so no rights."""
    user = update.effective_user
    return user is not None and user.id == ANONYMOUS_ADMIN_BOT_ID
