"""Messages that show a live count (a sign-up post, an auction board), edited without flooding.

A group takes about 20 bot messages a minute and every edit counts, so a message is never edited
per event. Features call `request_refresh(application, key, render)` as often as they like: a
refresh is due a short coalescing delay after its first request and, in a chat edited less than
`MIN_INTERVAL` ago, once the rest of that interval has passed; only then does it render the
current truth, and it edits only the messages whose text or keyboard really changed (an edit to
identical content is an error at Telegram). Requests made while an edit is under way are served
by the next one.

All waiting is measured on the bot's clock (`services.clock.monotonic()`), and `run_due` does
what has come due. In the running bot one job on PTB's job queue, `live_messages:wake`, calls it
when the next refresh is due; tests move the clock and call `run_due` themselves.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest
from telegram.ext import Application, CallbackContext

from bot.domain.clock import Clock
from handlers.context import best_effort, is_not_modified

View = tuple[int, int, str, InlineKeyboardMarkup | None]  # chat id, message id, text, keyboard
Render = Callable[[], Awaitable[View | list[View]]]

COALESCE_DELAY = 1.0  # seconds: a burst of taps becomes one edit
MIN_INTERVAL = 6.0  # seconds between edits in one chat: at most 10 of the group's ~20 a minute
WAKE_JOB = "live_messages:wake"


@dataclass(frozen=True)
class _Pending:
    render: Render  # the newest: it shows the newest truth
    since: float  # when the first request of this burst came (bot's clock)


class LiveMessages:
    def __init__(
        self,
        application: Application,
        clock: Clock,
        *,
        delay: float = COALESCE_DELAY,
        min_interval: float = MIN_INTERVAL,
    ) -> None:
        self.application = application
        self.clock = clock
        self.delay = delay
        self.min_interval = min_interval
        self._pending: dict[str, _Pending] = {}
        self._editing: dict[str, asyncio.Future[None]] = {}  # keys whose edit is under way
        self._shown: dict[tuple[int, int], str] = {}
        self._last_edit: dict[int, float] = {}
        self._chat_of: dict[str, int] = {}  # the chat each key's message is in, once rendered
        self._wake_at: float | None = None  # when the wake-up job is set for (bot's clock)

    def request(self, key: str, render: Render) -> None:
        pending = self._pending.get(key)
        since = pending.since if pending is not None else self.clock.monotonic()
        self._pending[key] = _Pending(render, since)
        self._arm()

    def due_at(self, key: str) -> float:
        """When the pending refresh of `key` may be shown: after the coalescing delay, and no
        sooner than `min_interval` after the last edit in its chat."""
        due = self._pending[key].since + self.delay
        chat_id = self._chat_of.get(key)
        if chat_id is not None:
            due = max(due, self._last_edit.get(chat_id, float("-inf")) + self.min_interval)
        return due

    def next_due(self) -> float | None:
        waiting = [self.due_at(key) for key in self._pending if key not in self._editing]
        return min(waiting, default=None)

    async def run_due(self) -> None:
        """Render and show every refresh whose wait is over, then wait for the next one."""
        self._wake_at = None
        now = self.clock.monotonic()
        due = [key for key in self._pending if key not in self._editing and self.due_at(key) <= now]
        try:
            await asyncio.gather(*(self._apply(key) for key in due))
        finally:
            self._arm()

    async def flush(self) -> None:
        """Apply every pending refresh now (shutdown, tests), after the edits under way."""
        await asyncio.gather(*self._editing.values())
        await asyncio.gather(*(self._apply(key) for key in list(self._pending)))

    def _arm(self) -> None:
        """Set the one wake-up job for the next due refresh (a delay measured on the bot's clock),
        unless it is already set for then or sooner."""
        due = self.next_due()
        queue = self.application.job_queue
        if due is None or queue is None or (self._wake_at is not None and self._wake_at <= due):
            return
        for job in queue.get_jobs_by_name(WAKE_JOB):
            job.schedule_removal()
        self._wake_at = due
        queue.run_once(_wake, when=max(0.0, due - self.clock.monotonic()), name=WAKE_JOB)

    async def _apply(self, key: str) -> None:
        if key in self._editing:  # its turn comes when that edit is done
            return
        pending = self._pending.pop(key, None)
        if pending is None:
            return
        done = self._editing[key] = asyncio.get_running_loop().create_future()
        try:
            views = await pending.render()
            for chat_id, message_id, text, markup in views if isinstance(views, list) else [views]:
                self._chat_of[key] = chat_id
                await self._show(chat_id, message_id, text, markup)
        finally:
            del self._editing[key]
            done.set_result(None)
            self._arm()  # a request made during the edit waits its turn from now

    async def _show(self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        fingerprint = text + "\x00" + json.dumps(markup.to_dict() if markup else None, sort_keys=True)
        if self._shown.get((chat_id, message_id)) == fingerprint:
            return
        self._last_edit[chat_id] = self.clock.monotonic()
        edited = await best_effort(
            self._edit(chat_id, message_id, text, markup), "live message %s/%s not refreshed", chat_id, message_id
        )
        if edited is not None:
            self._shown[(chat_id, message_id)] = fingerprint

    async def _edit(
        self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> Message | bool:
        try:
            return await self.application.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
        except BadRequest as error:
            if is_not_modified(error):  # it already shows this: as good as edited
                return True
            raise


async def _wake(context: CallbackContext) -> None:
    await live_messages(context.application).run_due()


def live_messages(application: Application) -> LiveMessages:
    found = application.bot_data.get("live_messages")
    if found is None:
        found = LiveMessages(application, application.bot_data["services"].clock)
        application.bot_data["live_messages"] = found
    return found


async def request_refresh(application: Application, key: str, render: Render) -> None:
    live_messages(application).request(key, render)


async def flush_refreshes(application: Application) -> None:
    await live_messages(application).flush()
