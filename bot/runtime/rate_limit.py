"""A flood-limit throttle for PTB's ``ExtBot`` that never stalls the whole bot.

PTB's ``AIORateLimiter`` throttles well, but a single 429 ``RetryAfter`` halts *every*
request of the bot until the wait is over. When one group out of a thousand in a broadcast
is flooded, only that group should wait. ``FairRateLimiter`` therefore keeps:

* one overall sliding window (default 30 message starts per second),
* one sliding window per group chat (default 20 per minute), created lazily and dropped
  once it holds no start inside its period,
* a per-chat "blocked until" time set by a 429: only requests to that chat wait for it, and
  only the request that got the 429 sleeps and retries.

Why sliding windows rather than ``aiolimiter.AsyncLimiter``: its leaky bucket admits a full
burst of ``max_rate`` and then keeps leaking, so after an idle period up to ~2 x max_rate
requests start within one second (measured: 59 for 30/s), which Telegram answers with 429.
A window of start times admits at most ``max_rate`` starts in ANY window of the period.

The slot is taken when the request is admitted and the call itself runs outside every lock,
so requests overlap their network latency and a broadcast runs at the flood limit.

This module deliberately imports ``telegram``: it is transport plumbing for the bot
assembly, not domain code.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dtm
import logging
import time
import warnings
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

__all__ = ["FairRateLimiter", "RateLimitArgs"]

_LOGGER = logging.getLogger(__name__)

# Per-request override: ``rate_limit_args=2`` (as AIORateLimiter) or ``{"max_retries": 2}``.
RateLimitArgs = int | Mapping[str, int]

_JSON = bool | dict[str, Any] | list[dict[str, Any]]
_Callback = Callable[..., Coroutine[Any, Any, _JSON]]

# Added to every window period: a start recorded here reaches Telegram a little later, and
# jitter in that delay must not make Telegram see max_rate + 1 starts inside its window.
_WINDOW_MARGIN_SECONDS = 0.05
# Added to retry_after before retrying (Telegram rounds retry_after to whole seconds).
_RETRY_MARGIN_SECONDS = 0.1
# Telegram's limit for messages sent with allow_paid_broadcast=True.
_PAID_BROADCAST_PER_SECOND = 1000

# Endpoints that create or change a message: the only ones Telegram's flood limits count.
_MESSAGE_PREFIXES = ("send", "editmessage", "copymessage", "forwardmessage")
_MESSAGE_ENDPOINTS = frozenset({"stoppoll", "stopmessagelivelocation"})
_NOT_MESSAGES = frozenset({"sendchataction"})


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


class _SlidingWindow:
    """At most ``limit`` starts inside any span of ``period`` seconds (not thread-safe)."""

    __slots__ = ("limit", "lock", "period", "starts", "users")

    def __init__(self, max_rate: float, time_period: float) -> None:
        if max_rate >= 1:
            self.limit = int(max_rate)
            self.period = time_period * self.limit / max_rate
        else:  # e.g. 0.5 per second -> 1 per 2 seconds
            self.limit = 1
            self.period = time_period / max_rate
        self.period += _WINDOW_MARGIN_SECONDS
        self.starts: collections.deque[float] = collections.deque()
        self.lock = asyncio.Lock()  # serialises admission only, never the call itself
        self.users = 0  # requests currently holding a reference (see FairRateLimiter._sweep)

    def delay(self, now: float) -> float:
        """Seconds until one more start fits (0 when it fits now)."""
        cutoff = now - self.period
        starts = self.starts
        while starts and starts[0] <= cutoff:
            starts.popleft()
        if len(starts) < self.limit:
            return 0.0
        return max(starts[-self.limit] + self.period - now, 0.0)

    async def wait_for_room(self) -> None:
        """Sleep until one more start fits; the caller must hold ``lock``."""
        while (pause := self.delay(time.monotonic())) > 0:
            await asyncio.sleep(pause)

    def idle(self, now: float) -> bool:
        """No request holds this window and no start lies within its period."""
        self.delay(now)  # expires old starts
        return self.users == 0 and not self.starts


class FairRateLimiter(BaseRateLimiter[RateLimitArgs]):
    """Throttle message requests to Telegram's flood limits; a 429 only delays its own chat.

    Same rules as ``AIORateLimiter`` about what is throttled, narrowed to messages: requests
    that send, copy, forward or edit a message into a chat (``chat_id`` present) take a slot
    of the overall window, and of their chat's window when the chat is a group (negative id
    or '@username'). Everything else (getUpdates, answerCallbackQuery, getChatMember, ...)
    passes straight through. ``allow_paid_broadcast=True`` requests use Telegram's paid
    limit of 1000/s instead and skip the group window. Any max_rate or time_period of 0
    disables that window.

    On ``RetryAfter`` the failed request sleeps ``retry_after`` (+0.1 s) and tries again, up
    to ``max_retries`` times (per request: ``rate_limit_args=n`` or ``{"max_retries": n}``),
    then re-raises. Until that time has passed, other message requests to the same chat
    wait too; requests to other chats go on.
    """

    __slots__ = (
        "_blocked_until",
        "_group_max_rate",
        "_group_time_period",
        "_group_windows",
        "_max_retries",
        "_next_sweep",
        "_overall",
        "_paid",
    )

    def __init__(
        self,
        overall_max_rate: float = 30,
        overall_time_period: float = 1,
        group_max_rate: float = 20,
        group_time_period: float = 60,
        max_retries: int = 3,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self._overall: _SlidingWindow | None = (
            _SlidingWindow(overall_max_rate, overall_time_period)
            if overall_max_rate > 0 and overall_time_period > 0
            else None
        )
        self._paid = _SlidingWindow(_PAID_BROADCAST_PER_SECOND, 1)
        enabled = group_max_rate > 0 and group_time_period > 0
        self._group_max_rate = group_max_rate if enabled else 0.0
        self._group_time_period = group_time_period if enabled else 0.0
        self._max_retries = max_retries
        self._group_windows: dict[int | str, _SlidingWindow] = {}
        self._blocked_until: dict[int | str, float] = {}
        self._next_sweep = 0.0

    async def initialize(self) -> None:
        """Nothing to open: windows are created on demand."""

    async def shutdown(self) -> None:
        """Forget all windows and blocks."""
        self._group_windows.clear()
        self._blocked_until.clear()

    # ---- asked by the outbox's sender (handlers/outbox.py), which sends one message at a time and
    # must not stand in line behind one chat's limits while other chats' messages could go.
    def chat_delay(self, chat_id: object) -> float:
        """Seconds before a message to `chat_id` could start as far as that chat's own limits go
        (a 429's block, a group's per-minute window); 0 when it could start now."""
        chat = _chat_key(chat_id)
        if chat is None:
            return 0.0
        delay = self._blocked_for(chat)
        window = self._group_windows.get(chat)
        if window is not None:
            delay = max(delay, window.delay(time.monotonic()))
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
        max_retries = self._retries_for(rate_limit_args)
        chat = _chat_key(data.get("chat_id"))
        limited = _is_message_endpoint(endpoint) and chat is not None
        paid = bool(data.get("allow_paid_broadcast", False))

        attempt = 0
        while True:
            if limited:
                assert chat is not None
                await self._admit(chat, paid)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                pause = retry_after_seconds(exc) + _RETRY_MARGIN_SECONDS
                if limited:
                    # Also when giving up: other requests to this chat would only hit 429.
                    assert chat is not None
                    until = time.monotonic() + pause
                    self._blocked_until[chat] = max(self._blocked_until.get(chat, 0.0), until)
                if attempt >= max_retries:
                    _LOGGER.warning(
                        "Flood limit hit on %s for chat %s; giving up after %d retries",
                        endpoint,
                        chat,
                        max_retries,
                    )
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
                await asyncio.sleep(pause)

    def _retries_for(self, rate_limit_args: RateLimitArgs | None) -> int:
        if rate_limit_args is None:
            return self._max_retries
        if isinstance(rate_limit_args, Mapping):
            return int(rate_limit_args.get("max_retries", self._max_retries))
        return int(rate_limit_args)

    async def _admit(self, chat: int | str, paid: bool) -> None:
        """Wait until the request may start, and record its start in its windows."""
        overall = self._paid if paid else self._overall
        if paid or not self._group_max_rate or not _is_group(chat):
            await self._admit_to(chat, overall, None)
            return
        group = self._group_window(chat)
        try:
            # Holding the group's lock until the start is recorded means no other request
            # of this group can take the room we waited for; other groups are unaffected.
            async with group.lock:
                await self._admit_to(chat, overall, group)
        finally:
            group.users -= 1

    async def _admit_to(self, chat: int | str, overall: _SlidingWindow | None, group: _SlidingWindow | None) -> None:
        while True:
            await self._wait_unblocked(chat)
            if group is not None:
                await group.wait_for_room()
            if overall is None:
                if self._blocked_for(chat) == 0:
                    if group is not None:
                        group.starts.append(time.monotonic())
                    return
                continue
            async with overall.lock:
                await overall.wait_for_room()
                # The chat may have been blocked by a 429 while this request queued.
                if self._blocked_for(chat) == 0:
                    now = time.monotonic()
                    overall.starts.append(now)
                    if group is not None:
                        group.starts.append(now)
                    return

    def _blocked_for(self, chat: int | str) -> float:
        until = self._blocked_until.get(chat)
        if until is None:
            return 0.0
        remaining = until - time.monotonic()
        if remaining <= 0:
            del self._blocked_until[chat]
            return 0.0
        return remaining

    async def _wait_unblocked(self, chat: int | str) -> None:
        while (pause := self._blocked_for(chat)) > 0:
            await asyncio.sleep(pause)

    def _group_window(self, chat: int | str) -> _SlidingWindow:
        """The chat's window, counted as in use until the caller decrements ``users``."""
        now = time.monotonic()
        if now >= self._next_sweep:
            self._sweep(now)
            self._next_sweep = now + max(self._group_time_period, 1.0)
        window = self._group_windows.get(chat)
        if window is None:
            window = _SlidingWindow(self._group_max_rate, self._group_time_period)
            self._group_windows[chat] = window
        window.users += 1
        return window

    def _sweep(self, now: float) -> None:
        """Drop windows holding no start within their period, and expired blocks.

        Runs at most once per group period, so memory is bounded by the groups messaged in
        the last period or two instead of growing for the life of the process. A window in
        use (``users``) is kept so two windows never exist for one chat.
        """
        for chat in [c for c, w in self._group_windows.items() if w.idle(now)]:
            del self._group_windows[chat]
        for chat in [c for c, until in self._blocked_until.items() if until <= now]:
            del self._blocked_until[chat]
