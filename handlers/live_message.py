"""Messages that show a live count (a sign-up post, an auction board), edited without flooding.

A group takes about 20 bot messages a minute and every edit counts, so a message is never edited
per event. Features call `request_refresh(application, key, render)` as often as they like: the
refresh waits a short coalescing delay and, in a chat edited less than `MIN_INTERVAL` ago, the
rest of that interval; only then does it render the current truth, and it edits only the
messages whose text or keyboard really changed (an edit to identical content is an error at
Telegram). Requests made while an edit is under way are served right after it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import Application

from handlers.context import is_not_modified

log = logging.getLogger(__name__)

View = tuple[int, int, str, InlineKeyboardMarkup | None]  # chat id, message id, text, keyboard
Render = Callable[[], Awaitable[View | list[View]]]

COALESCE_DELAY = 1.0  # seconds: a burst of taps becomes one edit
MIN_INTERVAL = 6.0  # seconds between edits in one chat: at most 10 of the group's ~20 a minute


class LiveMessages:
    def __init__(
        self, application: Application, *, delay: float = COALESCE_DELAY, min_interval: float = MIN_INTERVAL
    ) -> None:
        self.application = application
        self.delay = delay
        self.min_interval = min_interval
        self._renders: dict[str, Render] = {}
        self._timers: dict[str, asyncio.Task] = {}
        self._shown: dict[tuple[int, int], str] = {}
        self._last_edit: dict[int, float] = {}
        self._chat_of: dict[str, int] = {}  # the chat each key's message is in, once rendered

    def request(self, key: str, render: Render) -> None:
        self._renders[key] = render  # the newest render wins: it shows the newest truth
        if key not in self._timers:
            self._timers[key] = asyncio.get_running_loop().create_task(self._later(key))

    async def _later(self, key: str) -> None:
        """Wait (coalescing, and the chat's spacing), THEN render: what is shown is never older
        than the wait. A request arriving during an edit is served by the next turn of the loop."""
        try:
            while key in self._renders:
                await asyncio.sleep(self.delay)
                chat_id = self._chat_of.get(key)
                if chat_id is not None:
                    await asyncio.sleep(max(0.0, self._next_edit_at(chat_id) - time.monotonic()))
                await self._apply(key)
        finally:
            self._timers.pop(key, None)

    async def flush(self) -> None:
        """Apply every pending refresh now (shutdown, tests)."""
        for key in list(self._timers):
            self._timers.pop(key).cancel()
        for key in list(self._renders):
            await self._apply(key)

    def _next_edit_at(self, chat_id: int) -> float:
        return self._last_edit.get(chat_id, float("-inf")) + self.min_interval

    async def _apply(self, key: str) -> None:
        render = self._renders.pop(key, None)
        if render is None:
            return
        views = await render()
        for chat_id, message_id, text, markup in views if isinstance(views, list) else [views]:
            self._chat_of[key] = chat_id
            await self._show(chat_id, message_id, text, markup)

    async def _show(self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        fingerprint = text + "\x00" + json.dumps(markup.to_dict() if markup else None, sort_keys=True)
        if self._shown.get((chat_id, message_id)) == fingerprint:
            return
        self._last_edit[chat_id] = time.monotonic()
        try:
            await self.application.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
        except BadRequest as error:
            if not is_not_modified(error):
                log.warning("live message %s/%s not refreshed: %s", chat_id, message_id, error)
                return
        except (ChatMigrated, Forbidden) as error:  # the group moved or removed the bot: nothing to edit
            log.warning("live message %s/%s not refreshed: %s", chat_id, message_id, error)
            return
        self._shown[(chat_id, message_id)] = fingerprint


def live_messages(application: Application) -> LiveMessages:
    return application.bot_data.setdefault("live_messages", LiveMessages(application))


async def request_refresh(application: Application, key: str, render: Render) -> None:
    live_messages(application).request(key, render)


async def flush_refreshes(application: Application) -> None:
    await live_messages(application).flush()
