"""The outbox: the domain's port for every message a state change calls for.

A service that changes state and owes someone a message (a claim won, a waitlist promotion, a
reminder occurrence, an activity's summary, a handover) calls `Outbox.enqueue` inside the
transaction of the change: the message is stored with the change or not at all. One sender
(handlers/outbox.py) sends what is due, at most `in_flight` at a time and never two to one chat,
and reports back here how each
ended: `sent` once Telegram accepted it, `retry` (with back-off, or after Telegram's retry_after)
on network errors, 5xx and 429, `given_up` only on permanent errors (blocked, chat not found,
a request Telegram refuses), `skipped` when it had nothing to say when due.

What that guarantees: a queued message is sent at least once; since each of the sender's lanes
marks its message sent before it takes the next, a crash can leave at most the `in_flight`
messages on their way unmarked, each in a different chat, and those are sent again after the
restart (at most `in_flight` duplicates per crash, at most one per chat; 1 with in_flight = 1).

The domain stores the catalog kind and ids, never rendered text: the sender renders when the
message goes out, in the recipient's language, from what is true then. A service that must know
how a message ended (the reminders' per-chat record, a handover request nobody could receive)
listens for its kind; the listener runs in the transaction that records the end.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.domain.config import OutboxConfig
from bot.model.outbox import Notice, OutboxMessage, OutboxState
from storage.db import Database
from storage.outbox import OutboxRepository

log = logging.getLogger(__name__)

# The kinds of message, each rendered by a renderer that handlers register under the same name.
WON_CLAIM = "auction.won"
PROMOTED = "activities.promoted"
SUMMARY_GROUP = "activities.summary_group"
SUMMARY_ORGANISER = "activities.summary_organiser"
HANDOVER_REQUEST = "handover.request"
HANDOVER_ANSWERED = "handover.answered"
HANDOVER_UNREACHABLE = "handover.unreachable"
REMINDER = "reminders.occurrence"

RETRY_AFTER_MARGIN = timedelta(milliseconds=100)  # Telegram rounds retry_after to whole seconds


@dataclass(frozen=True)
class Delivery:
    """How a queued message ended."""

    state: OutboxState
    message_id: int | None = None  # Telegram's, when sent
    detail: str | None = None  # why it was skipped or given up
    gone: bool = False  # given up because the chat is gone: the bot was removed or blocked, no such chat


Listener = Callable[[OutboxMessage, Delivery], Awaitable[None]]
Waker = Callable[[], None]


class Outbox:
    def __init__(self, db: Database, repo: OutboxRepository, clock: Clock, settings: OutboxConfig) -> None:
        self.db = db
        self.repo = repo
        self.clock = clock
        self.settings = settings
        self.waker: Waker | None = None  # the sender's wake-up call (set when the bot runs)
        self._listeners: dict[str, Listener] = {}

    # ---- the services' side ------------------------------------------------------------------
    async def enqueue(self, notice: Notice) -> bool:
        """Queue `notice`; call it inside the transaction of the change that calls for it. False
        when a message with its key is queued already (the same message is never queued twice)."""
        queued = await self.repo.enqueue(notice, self.clock.now())
        if queued:
            # Safe before the commit: the sender reads through the same connection, after it.
            self.wake()
        return queued

    def wake(self) -> None:
        """Something was queued (also by a repository's own statement, e.g. won claims)."""
        if self.waker is not None:
            self.waker()

    def listen(self, kind: str, listener: Listener) -> None:
        """`listener` learns how each message of `kind` ended, in the transaction recording it."""
        if kind in self._listeners:
            raise ValueError(f"outbox kind {kind} has a listener already")
        self._listeners[kind] = listener

    async def result(self, key: str) -> OutboxMessage | None:
        return await self.repo.by_key(key)

    # ---- the sender's side --------------------------------------------------------------------
    async def due(self, limit: int, *, skip_chats: set[int] | frozenset[int] = frozenset()) -> list[OutboxMessage]:
        return await self.repo.due(self.clock.now(), limit, skip_chats=skip_chats)

    async def next_attempt(self, *, skip_chats: set[int] | frozenset[int] = frozenset()) -> datetime | None:
        return await self.repo.next_attempt(skip_chats=skip_chats)

    async def pending(self) -> int:
        return await self.repo.pending_count()

    async def sent(self, message: OutboxMessage, telegram_message_id: int) -> None:
        await self._finish(message, Delivery(OutboxState.SENT, message_id=telegram_message_id))

    async def skipped(self, message: OutboxMessage, why: str) -> None:
        await self._finish(message, Delivery(OutboxState.SKIPPED, detail=why))

    async def given_up(self, message: OutboxMessage, why: str, *, gone: bool) -> None:
        log.warning("outbox: %s to chat %s given up: %s", message.kind, message.chat_id, why)
        await self._finish(message, Delivery(OutboxState.GIVEN_UP, detail=why, gone=gone))

    async def retry(self, message: OutboxMessage, why: str, *, after: timedelta | None = None) -> datetime:
        """Try again later: after Telegram's `after` (a 429), else after the back-off for the
        attempts made so far. Returns when."""
        if after is None:
            after = self.backoff(message.attempts)
        else:
            after += RETRY_AFTER_MARGIN
        at = self.clock.now() + after
        if at.microsecond:  # stored to the second: never earlier than asked
            at = at.replace(microsecond=0) + timedelta(seconds=1)
        await self.repo.retry_later(message.id, at, why)
        log.info("outbox: %s to chat %s failed (%s); again in %s", message.kind, message.chat_id, why, after)
        return at

    def backoff(self, attempts: int) -> timedelta:
        """The wait after `attempts` failed attempts: the first wait, doubled each time, capped."""
        first, longest = self.settings.retry_first_seconds, self.settings.retry_longest_seconds
        return timedelta(seconds=min(longest, first * 2 ** min(attempts, 32)))

    async def chat_moved(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: what waits for it goes to the new id."""
        await self.repo.move_chat(old_chat_id, new_chat_id)

    async def purge(self) -> int:
        """Forget messages finished longer ago than the keeping period."""
        return await self.repo.purge_finished(self.clock.now() - timedelta(days=self.settings.keep_days))

    async def _finish(self, message: OutboxMessage, delivery: Delivery) -> None:
        listener = self._listeners.get(message.kind)
        async with self.db.transaction():
            finished = await self.repo.finish(
                message.id, delivery.state, self.clock.now(), sent_id=delivery.message_id, detail=delivery.detail
            )
            if finished and listener is not None:
                await listener(message, delivery)
