"""The one error handler: a rule's refusal is explained; anything else is logged and apologised for."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError

from bot.domain.errors import AlreadyDone, DomainError, PermissionDenied
from handlers.callback_data import CallbackDataError
from handlers.context import BotContext, translator_for

log = logging.getLogger("league_bot.errors")


def describe(update: object) -> str:
    """Where it happened, without message text (it may hold personal data) or the token."""
    if not isinstance(update, Update):
        return f"non-update {type(update).__name__}"
    kind = "callback" if update.callback_query else "message" if update.effective_message else "update"
    chat = update.effective_chat.id if update.effective_chat else None
    user = update.effective_user.id if update.effective_user else None
    return f"update {update.update_id} ({kind}) chat={chat} user={user}"


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    if isinstance(error, AlreadyDone):
        log.info("%s was handled by another instance already: nothing of it committed here", describe(update))
        return
    if isinstance(error, CallbackDataError):
        log.warning("refused callback data on %s: %s", describe(update), error)
        await tell(update, context, "common.button_expired")
        return
    if isinstance(error, DomainError):
        if isinstance(error, PermissionDenied) and not error.audited:  # every refusal is audited
            user = update.effective_user.id if isinstance(update, Update) and update.effective_user else None
            await context.services.turnover.refused(user, error.key)
        await tell(update, context, error.key, **error.params)
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        # Telegram itself failed for a moment (a 5xx, a timeout): an apology would take the same
        # failing way, and in a storm of them would spend a group's message budget for minutes.
        log.warning("Telegram failed on %s: %s", describe(update), error)
        return
    log.error("unhandled error on %s", describe(update), exc_info=error)
    await tell(update, context, "common.internal_error")


async def tell(update: object, context: BotContext, key: str, **params: object) -> None:
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_user is not None and context.language is None:
        person = await context.services.people.get(update.effective_user.id)
        context.language = context.services.people.language_of(person, update.effective_user.language_code)
    text = translator_for(context)(key, **params)
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(text[:200], show_alert=True)
            return
        except BadRequest:
            log.debug("callback %s was already answered; replying in the chat instead", query.id)
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except (BadRequest, Forbidden) as error:
        log.warning("could not tell %s about an error: %s", describe(update), error)
