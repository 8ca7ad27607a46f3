"""A flood-limit throttle for PTB's ``ExtBot`` that never stalls the whole bot.

PTB's ``AIORateLimiter`` throttles well, but a single 429 ``RetryAfter`` halts *every*
request of the bot until the wait is over. When one group out of a thousand in a broadcast
is flooded, only that group should wait. ``FairRateLimiter`` therefore keeps:

* one overall sliding window (default 30 messages per second),
* one sliding window per group chat (default 20 per minute), created lazily and dropped
  once idle,
* a per-chat "blocked until" time set by a 429: only requests to that chat wait for it, and
  only the request that got the 429 sleeps and retries.

Why sliding windows rather than ``aiolimiter.AsyncLimiter``: its leaky bucket admits a full
burst of ``max_rate`` and then keeps leaking, so after an idle period up to ~2 x max_rate
requests start within one second (measured: 59 for 30/s), which Telegram answers with 429.

When does a message count? Telegram counts it when the request reaches it, which is some time
after it was admitted here (a busy event loop, a wait for a connection, the network) and
before its answer comes back. So a request holds its place in a window from its admission
until its answer came back *plus* the window's period: whatever the delays, Telegram can never
see more than ``max_rate`` of them inside one period (a fixed margin was not enough: a loaded
loop let 8-28 requests a run through as 429). The cost is one round trip per place and period
(~28 instead of 30 messages a second at 50 ms).

Order of admission, when messages wait for room (a rush fills the budget):

* ``answerCallbackQuery`` and other calls that are not messages never wait here at all;
* the others go by arrival plus the *slack* of their class, so a later, more urgent message
  overtakes earlier, less urgent ones, but nothing waits for ever: ``notice`` (default for a
  message to a person: someone waits for it, e.g. a winner's details), ``normal`` (default
  for an edit or a group message made while handling an update: a page turn, a reply),
  ``background`` (default for edits and group messages from jobs and background tasks: page
  refreshes, the board, broadcasts). A caller names the class with
  ``rate_limit_args={"priority": "background"}``;
* an edit of a message (same method, chat and message id) that is still waiting when a newer
  edit of that message arrives is dropped: the newer one carries the newest content. The
  dropped call returns what the newer one returns (or raises what it raises).

This module deliberately imports ``telegram``: it is transport plumbing for the bot
assembly, not domain code.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dtm
import heapq
import itertools
import logging
import time
import warnings
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.runtime.updates import in_update, step_aside

__all__ = ["PRIORITIES", "FairRateLimiter", "RateLimitArgs"]

_LOGGER = logging.getLogger(__name__)

# Per-request options: ``rate_limit_args=2`` (max retries, as AIORateLimiter) or a mapping with
# "max_retries" and/or "priority" (one of PRIORITIES).
RateLimitArgs = int | Mapping[str, int | str]

_JSON = bool | dict[str, Any] | list[dict[str, Any]]
_Callback = Callable[..., Coroutine[Any, Any, _JSON]]
Clock = Callable[[], float]

# Seconds a waiting message of each class may be overtaken by later, more urgent ones. A page
# turn's edit may wait 15 s for the winners' notices (it is superseded by the person's next turn
# long before): with 5 s, under a browsing crowd that wants more edits than the budget holds, the
# edits older than 5 s went first and the notices' p99 ranged 2.6-14.5 s over runs (3.0-8.7 s now:
# the scenario wants ~39 messages a second of the ~28 the limiter lets through, README).
PRIORITIES: dict[str, float] = {"notice": 0.0, "normal": 15.0, "background": 30.0}

# Added to every window period (float rounding; the holding rule above does the real work).
_WINDOW_MARGIN_SECONDS = 0.01
# Added to retry_after before retrying (Telegram rounds retry_after to whole seconds).
_RETRY_MARGIN_SECONDS = 0.1
# Telegram's limit for messages sent with allow_paid_broadcast=True.
_PAID_BROADCAST_PER_SECOND = 1000

# Endpoints that create or change a message: the only ones Telegram's flood limits count.
_MESSAGE_PREFIXES = ("send", "editmessage", "copymessage", "forwardmessage")
_MESSAGE_ENDPOINTS = frozenset({"stoppoll", "stopmessagelivelocation"})
_NOT_MESSAGES = frozenset({"sendchataction"})
_EDIT_PREFIX = "editmessage"


def _is_message_endpoint(endpoint: str) -> bool:
    name = endpoint.lower()
    if name in _NOT_MESSAGES:
        return False
    return name in _MESSAGE_ENDPOINTS or name.startswith(_MESSAGE_PREFIXES)


def _chat_key(chat_id: object) -> int | str | None:
    """``chat_id`` as an int when it is numeric (also when passed as a string)."""
    if chat_id is None:
        return None
    with contextlib.suppress(ValueError, TypeError):
        return int(chat_id)  # type: ignore[call-overload]
    return str(chat_id)


def _is_group(chat: int | str) -> bool:
    # A string chat id is an '@username', which only works for supergroups and channels.
    return isinstance(chat, str) or chat < 0


def _edit_key(endpoint: str, chat: int | str, data: Mapping[str, Any]) -> tuple[str, int | str, object] | None:
    """What a newer call must match to make this one pointless: an edit of the same message."""
    message_id = data.get("message_id")
    if not endpoint.lower().startswith(_EDIT_PREFIX) or message_id is None:
        return None
    return (endpoint.lower(), chat, _chat_key(message_id))


def _default_priority(endpoint: str, chat: int | str) -> str:
    """A message to a person is a notice; an edit or a group message is normal while an update is
    being handled (someone just tapped or wrote), background from a job or a background task."""
    if not _is_group(chat) and not endpoint.lower().startswith(_EDIT_PREFIX):
        return "notice"
    return "normal" if in_update() else "background"


def retry_after_seconds(exc: RetryAfter) -> float:
    """``exc.retry_after`` in seconds, whether PTB gives a timedelta or a number.

    PTB 22.x warns when the attribute is read as a number (unless PTB_TIMEDELTA is set);
    the value is the same either way, so that warning is silenced here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


class _Window:
    """At most ``limit`` messages in any ``period``: a place is held from admission until the
    answer is back, then for ``period`` more (not thread-safe; one event loop)."""

    __slots__ = ("ends", "in_flight", "limit", "period")

    def __init__(self, max_rate: float, time_period: float) -> None:
        if max_rate >= 1:
            self.limit = int(max_rate)
            self.period = time_period * self.limit / max_rate
        else:  # e.g. 0.5 per second -> 1 per 2 seconds
            self.limit = 1
            self.period = time_period / max_rate
        self.period += _WINDOW_MARGIN_SECONDS
        self.in_flight = 0
        self.ends: list[float] = []  # heap: when each answered message's place frees

    def _expire(self, now: float) -> None:
        while self.ends and self.ends[0] <= now:
            heapq.heappop(self.ends)

    def has_room(self, now: float) -> bool:
        self._expire(now)
        return self.in_flight + len(self.ends) < self.limit

    def free_at(self, now: float) -> float | None:
        """When a place frees by time alone; None when only an answer can free one."""
        self._expire(now)
        held = self.in_flight + len(self.ends)
        if held < self.limit:
            return now
        surplus = held - self.limit + 1  # places that must free before one is ours
        if surplus > len(self.ends):
            return None
        return heapq.nsmallest(surplus, self.ends)[-1]

    def take(self) -> None:
        self.in_flight += 1

    def give_back(self, now: float) -> None:
        self.in_flight -= 1
        heapq.heappush(self.ends, now + self.period)

    def idle(self, now: float) -> bool:
        self._expire(now)
        return self.in_flight == 0 and not self.ends


_QUEUED, _ADMITTED, _GONE = range(3)


class _Ticket:
    """One message request waiting for (or holding) its places."""

    __slots__ = ("chat", "followers", "group", "key", "order", "overall", "paid", "ready", "state")

    def __init__(
        self, order: tuple[float, int], chat: int | str, paid: bool, key: tuple[str, int | str, object] | None
    ) -> None:
        self.order = order
        self.chat = chat
        self.paid = paid
        self.key = key
        self.state = _QUEUED
        self.overall: _Window | None = None  # the windows it holds a place in, once admitted
        self.group: _Window | None = None
        # Resolved with None when admitted, or with a future for the outcome of the newer edit
        # that made this one pointless.
        self.ready: asyncio.Future[asyncio.Future[_JSON] | None] = asyncio.get_running_loop().create_future()
        self.followers: list[asyncio.Future[_JSON]] = []  # the callers of edits this one superseded

    def __lt__(self, other: _Ticket) -> bool:
        return self.order < other.order


class FairRateLimiter(BaseRateLimiter[RateLimitArgs]):
    """Throttle message requests to Telegram's flood limits; a 429 only delays its own chat.

    Same rules as ``AIORateLimiter`` about what is throttled, narrowed to messages: requests
    that send, copy, forward or edit a message into a chat (``chat_id`` present) take a place
    in the overall window, and in their chat's window when the chat is a group (negative id
    or '@username'). Everything else (getUpdates, answerCallbackQuery, getChatMember, ...)
    passes straight through. ``allow_paid_broadcast=True`` requests use Telegram's paid
    limit of 1000/s instead and skip the group window. Any max_rate or time_period of 0
    disables that window; ``FairRateLimiter.off()`` throttles nothing (but accepts the same
    per-request arguments, so callers need not know).

    On ``RetryAfter`` the failed request sleeps ``retry_after`` (+0.1 s) and tries again, up
    to ``max_retries`` times (per request: ``rate_limit_args=n`` or ``{"max_retries": n}``),
    then re-raises. Until that time has passed, other message requests to the same chat
    wait too; requests to other chats go on.
    """

    __slots__ = (
        "_blocked_until",
        "_clock",
        "_group_max_rate",
        "_group_time_period",
        "_group_windows",
        "_max_retries",
        "_next_sweep",
        "_overall",
        "_paid",
        "_parked",
        "_queued_edits",
        "_ready",
        "_sequence",
        "_throttle",
        "_wake",
        "_wake_at",
    )

    def __init__(
        self,
        overall_max_rate: float = 30,
        overall_time_period: float = 1,
        group_max_rate: float = 20,
        group_time_period: float = 60,
        max_retries: int = 3,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self._throttle = True
        self._clock = clock
        self._overall: _Window | None = (
            _Window(overall_max_rate, overall_time_period) if overall_max_rate > 0 and overall_time_period > 0 else None
        )
        self._paid = _Window(_PAID_BROADCAST_PER_SECOND, 1)
        enabled = group_max_rate > 0 and group_time_period > 0
        self._group_max_rate = group_max_rate if enabled else 0.0
        self._group_time_period = group_time_period if enabled else 0.0
        self._max_retries = max_retries
        self._group_windows: dict[int | str, _Window] = {}
        self._blocked_until: dict[int | str, float] = {}
        self._next_sweep = 0.0
        self._sequence = itertools.count()
        # Waiting tickets whose chat was open when last looked at, best first: paid / not paid.
        self._ready: dict[bool, list[_Ticket]] = {False: [], True: []}
        # Waiting tickets whose chat is closed for now (its group window is full, or a 429).
        self._parked: dict[int | str, list[_Ticket]] = {}
        self._queued_edits: dict[tuple[str, int | str, object], _Ticket] = {}
        self._wake: asyncio.TimerHandle | None = None
        self._wake_at = float("inf")

    @classmethod
    def off(cls) -> FairRateLimiter:
        """A limiter that lets everything through at once (tests, or rate_limit = false)."""
        limiter = cls(overall_max_rate=0, group_max_rate=0)
        limiter._throttle = False
        return limiter

    async def initialize(self) -> None:
        """Nothing to open: windows are created on demand."""

    async def shutdown(self) -> None:
        """Forget all windows and blocks."""
        self._group_windows.clear()
        self._blocked_until.clear()
        if self._wake is not None:
            self._wake.cancel()
            self._wake, self._wake_at = None, float("inf")

    # ---- asked by the outbox's sender (handlers/outbox.py), which sends one message at a time and
    # must not stand in line behind one chat's limits while other chats' messages could go.
    def chat_delay(self, chat_id: object) -> float:
        """Seconds before a message to `chat_id` could start as far as that chat's own limits go
        (a 429's block, a group's per-minute window); 0 when it could start now."""
        chat = _chat_key(chat_id)
        if chat is None:
            return 0.0
        now = self._clock()
        delay = max(self._blocked_until.get(chat, now) - now, 0.0)
        window = self._group_windows.get(chat)
        opens = window.free_at(now) if window is not None else None
        if opens is not None:  # None: only an answer on its way can free a place (soon)
            delay = max(delay, opens - now)
        return delay

    @property
    def tracked_groups(self) -> int:
        """How many group windows are held (idle ones are dropped over time)."""
        return len(self._group_windows)

    async def process_request(
        self,
        callback: _Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RateLimitArgs | None,
    ) -> _JSON:
        max_retries, slack = self._options(rate_limit_args)
        chat = _chat_key(data.get("chat_id"))
        if not self._throttle or chat is None or not _is_message_endpoint(endpoint):
            return await callback(*args, **kwargs)
        if slack is None:
            slack = PRIORITIES[_default_priority(endpoint, chat)]
        paid = bool(data.get("allow_paid_broadcast", False))
        order = (self._clock() + slack, next(self._sequence))
        key = _edit_key(endpoint, chat, data)
        followers: list[asyncio.Future[_JSON]] = []
        attempt = 0
        while True:
            ticket = _Ticket(order, chat, paid, key)
            ticket.followers = followers
            self._enqueue(ticket, retry=attempt > 0)
            if not ticket.ready.done():
                # The update that sends this would sit idle holding a place among the running
                # updates (and, for a tap's edit, its sender's next tap): it lets them go.
                step_aside(edit=key is not None)
            try:
                newer = await ticket.ready
            except asyncio.CancelledError:
                self._drop(ticket)
                raise
            if newer is not None:
                return await newer
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                pause = retry_after_seconds(exc) + _RETRY_MARGIN_SECONDS
                # Also when giving up: other requests to this chat would only hit 429.
                self._blocked_until[chat] = max(self._blocked_until.get(chat, 0.0), self._clock() + pause)
                self._give_back(ticket)
                if attempt >= max_retries:
                    _LOGGER.warning(
                        "Flood limit hit on %s for chat %s; giving up after %d retries", endpoint, chat, max_retries
                    )
                    _settle(ticket.followers, exc)
                    raise
                attempt += 1
                _LOGGER.info(
                    "Flood limit hit on %s for chat %s; retry %d of %d in %.1f s",
                    endpoint,
                    chat,
                    attempt,
                    max_retries,
                    pause,
                )
                # The retry queues again (behind the chat's block) in its old place in the order;
                # the callers of edits it superseded wait on the retry.
                followers = ticket.followers
                continue
            except BaseException as exc:
                self._give_back(ticket)
                _settle(ticket.followers, exc)
                raise
            self._give_back(ticket)
            _settle(ticket.followers, result)
            return result

    def _options(self, rate_limit_args: RateLimitArgs | None) -> tuple[int, float | None]:
        """(max retries, slack or None for the default of the request's kind)."""
        if rate_limit_args is None:
            return self._max_retries, None
        if not isinstance(rate_limit_args, Mapping):
            return int(rate_limit_args), None
        retries = int(rate_limit_args.get("max_retries", self._max_retries))
        priority = rate_limit_args.get("priority")
        if priority is None:
            return retries, None
        if priority not in PRIORITIES:
            raise ValueError(f"rate_limit_args priority must be one of {', '.join(PRIORITIES)}, got {priority!r}")
        return retries, PRIORITIES[str(priority)]

    # ---- the queue ----------------------------------------------------------------------------
    def _enqueue(self, ticket: _Ticket, *, retry: bool) -> None:
        key = ticket.key
        if key is not None:
            queued = self._queued_edits.get(key)
            if queued is not None and queued.state == _QUEUED:
                if retry:  # an edit of the message queued since this one was first admitted
                    self._supersede(ticket, queued)
                    return
                self._supersede(queued, ticket)
            self._queued_edits[key] = ticket
        heapq.heappush(self._ready[ticket.paid], ticket)
        self._pump()

    def _supersede(self, old: _Ticket, new: _Ticket) -> None:
        """`old` is an edit `new` makes pointless: its caller gets `new`'s outcome instead."""
        outcome: asyncio.Future[_JSON] = asyncio.get_running_loop().create_future()
        new.followers.append(outcome)
        new.followers.extend(old.followers)
        old.followers = []
        old.state = _GONE
        if not old.ready.done():
            old.ready.set_result(outcome)

    def _drop(self, ticket: _Ticket) -> None:
        """The caller of a waiting (or just admitted) ticket was cancelled."""
        if ticket.state == _ADMITTED:  # admitted in the same turn as the cancellation
            self._give_back(ticket)
        ticket.state = _GONE
        if ticket.key is not None and self._queued_edits.get(ticket.key) is ticket:
            del self._queued_edits[ticket.key]
        for follower in ticket.followers:
            follower.cancel()

    def _pump(self) -> None:
        """Admit every waiting ticket that fits now, best first; wake up when the next may fit."""
        now = self._clock()
        wake = self._unpark(now)
        for paid, heap in self._ready.items():
            window = self._paid if paid else self._overall
            while heap:
                ticket = heap[0]
                if ticket.state != _QUEUED:
                    heapq.heappop(heap)
                    continue
                if window is not None and not window.has_room(now):
                    free = window.free_at(now)
                    if free is not None:
                        wake = min(wake, free)
                    break
                heapq.heappop(heap)
                opens = self._chat_opens(ticket, now)
                if opens is not None and opens <= now:
                    self._admit(ticket, window)
                else:
                    self._parked.setdefault(ticket.chat, []).append(ticket)
                    if opens is not None:
                        wake = min(wake, opens)
        self._wake_up_at(wake)

    def _unpark(self, now: float) -> float:
        """Put the tickets of chats that opened again back in line; when the next one opens."""
        wake = float("inf")
        for chat in list(self._parked):
            tickets = [t for t in self._parked[chat] if t.state == _QUEUED]
            opens = self._chat_opens(tickets[0], now) if tickets else now
            if opens is not None and opens <= now:
                del self._parked[chat]
                for ticket in tickets:
                    heapq.heappush(self._ready[ticket.paid], ticket)
            elif opens is not None:
                wake = min(wake, opens)
        return wake

    def _chat_opens(self, ticket: _Ticket, now: float) -> float | None:
        """When the ticket's chat may take one more message (None: when an answer comes back)."""
        blocked = self._blocked_until.get(ticket.chat)
        if blocked is not None:
            if blocked > now:
                return blocked
            del self._blocked_until[ticket.chat]
        if ticket.paid or not self._group_max_rate or not _is_group(ticket.chat):
            return now
        return self._group_window(ticket.chat, now).free_at(now)

    def _admit(self, ticket: _Ticket, window: _Window | None) -> None:
        ticket.state = _ADMITTED
        if window is not None:
            window.take()
            ticket.overall = window
        if not ticket.paid and self._group_max_rate and _is_group(ticket.chat):
            ticket.group = self._group_window(ticket.chat, self._clock())
            ticket.group.take()
        if ticket.key is not None and self._queued_edits.get(ticket.key) is ticket:
            del self._queued_edits[ticket.key]
        ticket.ready.set_result(None)

    def _give_back(self, ticket: _Ticket) -> None:
        """The answer is back: the ticket's places free one period from now."""
        now = self._clock()
        for window in (ticket.overall, ticket.group):
            if window is not None:
                window.give_back(now)
        ticket.overall = ticket.group = None
        ticket.state = _GONE
        self._pump()

    def _wake_up_at(self, moment: float) -> None:
        if moment == float("inf") or (self._wake is not None and self._wake_at <= moment):
            return
        if self._wake is not None:
            self._wake.cancel()
        self._wake_at = moment
        self._wake = asyncio.get_running_loop().call_later(max(0.0, moment - self._clock()), self._on_wake)

    def _on_wake(self) -> None:
        self._wake, self._wake_at = None, float("inf")
        self._pump()

    def _group_window(self, chat: int | str, now: float) -> _Window:
        if now >= self._next_sweep:
            self._sweep(now)
            self._next_sweep = now + max(self._group_time_period, 1.0)
        window = self._group_windows.get(chat)
        if window is None:
            window = self._group_windows[chat] = _Window(self._group_max_rate, self._group_time_period)
        return window

    def _sweep(self, now: float) -> None:
        """Drop windows holding no place, and expired blocks.

        Runs at most once per group period, so memory is bounded by the groups messaged in
        the last period or two instead of growing for the life of the process. A window with
        a message in flight is kept, so two windows never exist for one chat.
        """
        for chat in [c for c, w in self._group_windows.items() if w.idle(now)]:
            del self._group_windows[chat]
        for chat in [c for c, until in self._blocked_until.items() if until <= now]:
            del self._blocked_until[chat]


def _settle(followers: list[asyncio.Future[_JSON]], outcome: _JSON | BaseException) -> None:
    """Give the callers of superseded edits the newer edit's outcome (each its own copy)."""
    for follower in followers:
        if follower.done():
            continue
        if isinstance(outcome, BaseException):
            follower.set_exception(outcome)
        else:
            follower.set_result(copy.deepcopy(outcome))
