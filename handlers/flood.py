"""The flood gatekeeper: a person's repeated or rapid commands are held back before any feature
handler runs (the rule is bot/domain/flood.py). Registered in a negative group in
handlers.register; a held-back update stops there (`ApplicationHandlerStop`).

Only commands addressed to this bot are looked at: check-ins, button taps and conversation input
pass untouched.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.domain.flood import FloodControl, Verdict
from handlers.context import BotContext, Ui, best_effort

FLOOD = "flood_control"  # its key in bot_data


def control_of(context: BotContext) -> FloodControl:
    control = context.application.bot_data.get(FLOOD)
    if control is None:
        control = context.application.bot_data[FLOOD] = FloodControl(context.services.clock)
    return control


def command_of(text: str, bot_username: str | None) -> str | None:
    """`/help@league_bot extra` → "help"; None for plain text or a command for another bot."""
    if not text.startswith("/"):
        return None
    name, _, addressee = text.split(maxsplit=1)[0][1:].partition("@")
    if not name or (addressee and addressee.lower() != (bot_username or "").lower()):
        return None
    return name.lower()


async def limit_commands(update: Update, context: BotContext) -> None:
    message = update.message  # edited messages are not answered anyway
    user, chat = update.effective_user, update.effective_chat
    if message is None or message.text is None or user is None or chat is None:
        return
    command = command_of(message.text, context.bot.username)
    if command is None:
        return
    private = chat.type == "private"
    control = control_of(context)
    verdict = control.command(chat_id=chat.id, user_id=user.id, command=command, private=private)
    if verdict is Verdict.ANSWER:
        return
    if verdict is Verdict.SLOW_DOWN:
        await best_effort(
            Ui(update, context).reply("hardening.slow_down", seconds=control.wait_seconds()),
            "slow-down notice to %s",
            user.id,
        )
    raise ApplicationHandlerStop
