"""The winner's 释放 button lives as long as the release window (2 minutes after the claim).

The auction's repeating job (hub.auction_tick, every few seconds) takes the button off each
winner's message once its window has ended on the bot's clock, with the line that offers it:
the message then reads as a plain record of the claim. The edits go out a few at a time (the
auction's private lane), so a rush's worth of them never holds the job or the board back. The
buttons are remembered in memory only: after a restart one may stay, and a tap on it is
answered that the window is over, and takes it off.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Message
from telegram.ext import Application

from handlers.context import best_effort, services_of

from .state import PageKey, ReleaseButton, auction_state, background


def keep_release_button(application: Application, message: Message, until: datetime, text: str) -> None:
    """`message` (the winner's) shows the button until `until`, then `text` alone."""
    auction_state(application).release_buttons[(message.chat_id, message.message_id)] = ReleaseButton(until, text)


def forget_release_button(application: Application, key: PageKey) -> ReleaseButton | None:
    """The message was edited otherwise (released): nothing to take off any more."""
    return auction_state(application).release_buttons.pop(key, None)


def expire_release_buttons(application: Application) -> None:
    """Take the button off every winner's message whose window has ended (in the background)."""
    now = services_of(application).clock.now()
    buttons = auction_state(application).release_buttons
    for key, button in list(buttons.items()):
        if button.until < now:  # the window includes its last moment (WishService.release_claim)
            del buttons[key]
            background(application, take_off(application, key, button.text), None)


async def take_off(application: Application, key: PageKey, text: str | None) -> None:
    """The message without its button: `text` (without the line offering it), or its own text
    when not known (a button from before a restart)."""
    state = auction_state(application)
    async with state.lane.slots:
        bot = application.bot
        if text is None:
            call = bot.edit_message_reply_markup(chat_id=key[0], message_id=key[1], reply_markup=None)
        else:
            call = bot.edit_message_text(text, chat_id=key[0], message_id=key[1], reply_markup=None)
        await best_effort(call, "the release button not taken off %s", key)
