"""The one outbox sender: sends what the domain queued (bot/domain/outbox.py), a few at a time.

Each kind of message has a renderer, registered by the feature that owes it (`register_kind`):
it words the message when it goes out, in the recipient's language, from what is true then, or
says there is nothing to send after all (`Skip`). Each of the sender's `in_flight` lanes
(config.toml [outbox]) takes the most urgent message due to a chat no other lane is sending to,
renders it, sends it through the bot (so through the rate limiter), and records how it ended
before it takes the next:

* accepted: sent (then the renderer's `after`, e.g. the auction's release button is remembered);
* a 429: tried again after Telegram's retry_after; that chat's other messages wait too, the
  other chats' go on (no retry inside the rate limiter: one flooded group must not hold the line);
* a network error, a timeout, a 5xx: tried again with back-off (the message may not have arrived);
* the chat became a supergroup: the chat is followed and the message sent there at once;
* blocked, not started, kicked, chat not found, a request Telegram refuses: given up, with why.

The lanes bound a crash's damage: every message a lane took before its current one is marked
sent, so after a restart at most `in_flight` messages are sent twice, never two in one chat, and
a chat's messages keep their order. Why more than one: a lane sends one message per round trip,
so one lane alone (20 a second at 50 ms, 5 at 200 ms) cannot fill Telegram's 30 a second, and a
rush's winners would wait behind each other (measured in the README).

Run by the job `outbox:send` on the bot's clock: woken as soon as something is queued, and set
again for the earliest retry. Jobs that queue messages (reminders, summaries) drain the outbox
themselves before they finish; tests, which do not start the application, call `drain`.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, runtime_checkable

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, CallbackContext
from telegram.warnings import PTBDeprecationWarning

from bot.domain.errors import DomainError
from bot.domain.services import Services
from bot.model.outbox import OutboxMessage, Priority
from handlers.context import services_of
from handlers.leadership import leading

log = logging.getLogger(__name__)

OUTBOX_SENDER = "outbox_sender"  # its key in bot_data
SEND_JOB = "outbox:send"
# Even with nothing queued, look again now and then (a message queued by another process).
LONGEST_SLEEP = timedelta(minutes=1)
SHORTEST_SLEEP = timedelta(milliseconds=100)
# A message whose chat may not take one for longer than this (its group's budget for the minute
# is spent, a 429 holds it) waits aside: the other chats' messages go first.
HOLD_AFTER_SECONDS = 1.0
# The rate limiter's class for each (bot/runtime/rate_limit.py): a notice overtakes a broadcast.
_PRIORITY = {Priority.NOTICE: "notice", Priority.NORMAL: "normal", Priority.BACKGROUND: "background"}


@runtime_checkable
class ChatLimits(Protocol):
    """What the bot's rate limiter (bot/runtime/rate_limit.py) tells of one chat's limits."""

    def chat_delay(self, chat_id: object) -> float: ...


@dataclass(frozen=True)
class Rendered:
    """A message as it goes out; `after` runs once Telegram accepted it (with the message)."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    after: Callable[[Message], None] | None = None


@dataclass(frozen=True)
class Skip:
    """Nothing to send after all (recorded as skipped, with why)."""

    why: str


Render = Callable[[Application, OutboxMessage], Awaitable[Rendered | Skip]]


class OutboxSender:
    def __init__(self, application: Application) -> None:
        self.application = application
        self.kinds: dict[str, Render] = {}
        self._lock = asyncio.Lock()  # one drain at a time (the job's, or a test's)
        self._changed = asyncio.Condition()  # lanes take one after the other; a lane done wakes the rest
        self._sending: set[int] = set()  # chats a lane is sending to now
        self._held: dict[int, float] = {}  # chat id → bot-clock monotonic time its 429 ends
        self._wake_armed = False
        self._running_as_job = False

    @property
    def services(self) -> Services:
        return services_of(self.application)

    def register(self, kind: str, render: Render) -> None:
        if kind in self.kinds:
            raise ValueError(f"outbox kind {kind} is registered already")
        self.kinds[kind] = render

    # ---- sending ------------------------------------------------------------------------------
    async def drain(self) -> int:
        """Send every message due now, most urgent first, on `in_flight` lanes; returns how many
        were sent. Returns early when the application is stopping (the rest waits for the restart)."""
        if not leading(self.application):  # the leading instance sends what this one queued
            return 0
        async with self._lock:
            lanes = self.services.config.outbox.in_flight
            return sum(await asyncio.gather(*(self._lane() for _ in range(lanes))))

    async def _lane(self) -> int:
        sent = 0
        while not (self._running_as_job and not self.application.running):
            async with self._changed:
                message = await self._take()
                # Nothing due to a free chat, but a lane is still sending: when it is done, its
                # chat's next message (or one queued meanwhile) may be due; wait for that.
                while message is None and self._sending:
                    await self._changed.wait()
                    message = await self._take()
            if message is None:
                break
            try:
                sent += await self._send(message)
            finally:
                self._sending.discard(message.chat_id)
                async with self._changed:
                    self._changed.notify_all()
        return sent

    async def _take(self) -> OutboxMessage | None:
        """The most urgent message due to a chat neither held nor being sent to (then it is).
        Called with `_changed` held, so lanes take one after the other."""
        now = self.services.clock.monotonic()
        for chat_id in [chat_id for chat_id, until in self._held.items() if until <= now]:
            del self._held[chat_id]
        due = await self.services.outbox.due(1, skip_chats=set(self._held) | self._sending)
        if not due:
            return None
        self._sending.add(due[0].chat_id)
        return due[0]

    async def _send(self, message: OutboxMessage) -> bool:
        outbox = self.services.outbox
        rendered = await self._render(message)
        if rendered is None:
            return False
        if isinstance(rendered, Skip):
            await outbox.skipped(message, rendered.why)
            return False
        bot = self.application.bot
        limiter = bot.rate_limiter
        wait = limiter.chat_delay(message.chat_id) if isinstance(limiter, ChatLimits) else 0.0
        if wait > HOLD_AFTER_SECONDS:  # its chat's budget is spent for now: the others go first
            self._hold(message.chat_id, wait)
            return False
        try:
            sent = await bot.send_message(
                message.chat_id,
                rendered.text,
                reply_markup=rendered.markup,
                # A 429 comes back here at once: this message waits, the others go on.
                rate_limit_args={"max_retries": 0, "priority": _PRIORITY[message.priority]},
            )
        except ChatMigrated as error:
            # The group became a supergroup: follow it, and send there at once (still due).
            await self.services.groups.migrated(message.chat_id, error.new_chat_id)
            await outbox.chat_moved(message.chat_id, error.new_chat_id)
            return False
        except RetryAfter as error:
            wait = _seconds(error)
            self._hold(message.chat_id, wait)
            await outbox.retry(message, f"429, retry after {wait:g} s", after=timedelta(seconds=wait))
            return False
        except Forbidden as error:  # blocked, never started, removed from the group
            await outbox.given_up(message, error.message, gone=True)
            return False
        except BadRequest as error:  # the same request would be refused again
            await outbox.given_up(message, error.message, gone="chat not found" in error.message.lower())
            return False
        except TelegramError as error:  # network, timeout, 5xx: it may not have arrived; again later
            await outbox.retry(message, f"{type(error).__name__}: {error}")
            return False
        await outbox.sent(message, sent.message_id)
        if rendered.after is not None:
            rendered.after(sent)
        return True

    def _hold(self, chat_id: int, seconds: float) -> None:
        """The chat's messages wait `seconds` (the others go on meanwhile)."""
        self._held[chat_id] = self.services.clock.monotonic() + seconds

    async def _render(self, message: OutboxMessage) -> Rendered | Skip | None:
        """The message's words now; None when it cannot be worded now (tried again later)."""
        render = self.kinds.get(message.kind)
        if render is None:
            await self.services.outbox.given_up(message, f"no renderer for {message.kind}", gone=False)
            return None
        try:
            return await render(self.application, message)
        except DomainError as error:  # what it was about is gone (e.g. deleted meanwhile)
            return Skip(f"{error.key}")
        except Exception as error:  # noqa: BLE001 - a renderer's bug must not hold every other message back
            log.exception("outbox: %s to chat %s could not be rendered", message.kind, message.chat_id)
            await self.services.outbox.retry(message, f"render failed: {error!r}")
            return None

    # ---- the job ------------------------------------------------------------------------------
    def start(self) -> None:
        """Run now (what waited through a restart), then whenever woken or a retry is due."""
        self.services.outbox.waker = self.wake
        self._arm(timedelta())

    def wake(self) -> None:
        """Something was queued: send soon. Not running (tests): whoever queued drains."""
        if self._wake_armed or not self.application.running or not leading(self.application):
            return
        self._wake_armed = True
        self._arm(timedelta())

    def _arm(self, delay: timedelta) -> None:
        queue = self.application.job_queue
        if queue is None:
            return
        for job in queue.get_jobs_by_name(SEND_JOB):
            job.schedule_removal()
        # A delay on the bot's clock (the sandbox's clock jumps); run however late.
        queue.run_once(self._job, when=delay, name=SEND_JOB, job_kwargs={"misfire_grace_time": None})

    async def _job(self, context: CallbackContext) -> None:
        self._running_as_job = True
        self._wake_armed = False
        await self.drain()
        if self._wake_armed or not self.application.running or not leading(self.application):
            return  # woken while sending: that run comes next (or another instance leads now)
        self._arm(await self._next_run())

    async def _next_run(self) -> timedelta:
        """Until the earliest message may go: a retry's time, or the end of a chat's hold."""
        clock = self.services.clock
        following = await self.services.outbox.next_attempt(skip_chats=set(self._held))
        delay = LONGEST_SLEEP if following is None else following - clock.now()
        if self._held:
            delay = min(delay, timedelta(seconds=min(self._held.values()) - clock.monotonic()))
        return min(max(delay, SHORTEST_SLEEP), LONGEST_SLEEP)


def _seconds(error: RetryAfter) -> float:
    """retry_after in seconds, whether PTB gives a timedelta or a number (it warns on the number)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def outbox_sender(application: Application) -> OutboxSender:
    sender: OutboxSender = application.bot_data[OUTBOX_SENDER]
    return sender


def register_kind(application: Application, kind: str, render: Render) -> None:
    outbox_sender(application).register(kind, render)


async def drain_outbox(application: Application) -> int:
    """Send what is due now (the sender's own job does this when the bot runs)."""
    return await outbox_sender(application).drain()


def start_outbox_sender(application: Application) -> None:
    outbox_sender(application).start()
