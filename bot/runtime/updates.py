"""Update processing: bounded, in order per sender, and shedding taps that waited too long.

PTB processes one update at a time by default, which caps throughput at one network round
trip per update (a live auction or a wave of check-ins queues up behind it). Fully concurrent
processing would let two quick messages of one person overtake each other and race on their
conversation state. So: updates run concurrently, but those of the same sender one by one,
except the button taps a feature declares safe to run side by side (an auction claim: the
domain arbitrates concurrent claims itself, and a cadre's fifth tap must not wait for the
network calls of their first four).

Bounded: at most `max_running` updates run at once, the others wait their turn first come,
first served. Unbounded, a rush of taps makes thousands of updates share the HTTP connection
pool (httpx's pool scan then eats the CPU, measured at 37% under overload) and every tap gets
slower, until none is answered in time. A person's update waits for their previous one before
it takes a place, so one person's queue never holds places others could use.

Shedding: Telegram refuses to answer a button tap ("query is too old") about 15 s after it
was made, and a person who waited seconds has usually tapped again. A tap that has waited
more than `callback_max_wait` seconds is therefore dropped before any handler sees it (never
half-handled), counted in `shed`, and logged once per burst of overload. Telegram's updates
carry no time for a tap; its wait is counted from when it reached Telegram, estimated from its
id (bot/runtime/arrivals.py) while the bot is behind, and from when the long poll or the webhook
put it in PTB's queue otherwise. Only the taps that waited too long are dropped: the fresh ones
of the same poll are kept, so under lasting overload the bot keeps answering at its capacity
instead of dropping whole polls until it has caught up and then falling behind again. Messages
are never dropped: a check-in must count, late or not.

Admission at the door: a tap is turned away before it is stored or parsed when it would only
wait its turn here. Its wait is foreseen from the taps already waiting and the pace at which
taps started lately (`expected_wait`); a tap that would start more than `ADMIT_SHARE` of
`callback_max_wait` from now is dropped unread. Without it, a bot that fetches faster than it
answers (the usual case: fetching a tap costs a tenth of handling it) let every tap in, parsed
and stored each, and dropped it 4 s later: under 400 taps a second those doomed taps took the
CPU from the ones it could still answer, and answered fell to two thirds of the peak (800: a
sixth). Turned away unread, a tap costs the bot almost nothing, and the queue holds only what
will be answered within a second or two. Long polling only: a pushed tap (webhook) has cost its
HTTP request and its parsing by then, and its slow 200 is what holds Telegram's pushes back;
answered at once, the pushes came faster and took the CPU from the handlers (measured: 400 taps
a second offered, 12 answered a second instead of 114).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.runtime.arrivals import Arrivals

log = logging.getLogger(__name__)

Clock = Callable[[], float]

# PTB's own semaphore wraps the sender's wait as well as the run, so it cannot be the cap (one
# person's ten queued updates would hold ten places); it only bounds the updates held in memory.
MAX_WAITING_UPDATES = 1_000_000
# A burst of overload is over once no tap was dropped for this long; its summary is logged then.
BURST_QUIET_SECONDS = 10.0
# Telegram's backlog that still counts as caught up (in polls), and the margin taken then.
BACKLOG_POLLS = 3
BACKLOG_MARGIN_SECONDS = 1.0
_UPDATE_ID = re.compile(rb'"update_id"\s*:\s*(\d+)')
# A tap is let in only if it should start within this share of callback_max_wait (the rest of
# the deadline is the margin for a pace that changes while it waits).
ADMIT_SHARE = 0.25
# The pace at which taps start, taken over this long while taps wait their turn, is the bot's
# capacity; a bot that has not been that busy yet lets a burst in and learns it from the burst.
PACE_WINDOW_SECONDS = 2.0


class ReceivedQueue(asyncio.Queue):
    """PTB's update queue, noting when each update arrived (long poll fetch or webhook POST).

    When the bot falls behind, updates wait at Telegram, where nobody can see how long: a long
    poll then comes back full. `screen_poll` is shown each poll's answer and `note_backlog`
    Telegram's count of waiting updates; from them `Arrivals` estimates when each update reached
    Telegram, and while polls come back full updates are stamped with that estimate (or, before
    there is one, with the moment the last short poll came back: nothing waiting then is older)."""

    shedder: PerSenderUpdateProcessor | None

    def __init__(self, clock: Clock = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._received: dict[int, float] = {}
        self._caught_up = clock()  # when a poll last came back with room to spare
        self._behind_since: float | None = None
        self.arrivals = Arrivals()
        self._last_id: int | None = None  # the newest update a poll brought
        self.shedder: PerSenderUpdateProcessor | None = None  # counts and logs what is dropped

    def screen_poll(self, payload: bytes, limit: int) -> bytes:
        """A long poll's answer, before it is stored and PTB parses it: note whether it came back
        full, and take out unread the taps that would be too old by the time their turn came,
        counting their wait at Telegram (while the bot is behind) and here (the module's
        "Admission at the door"). The last update stays, so that the next poll asks for the ones
        after it; if it is a tap turned away, the processor drops it unhandled."""
        now = self._clock()
        ids = _UPDATE_ID.findall(payload)
        if ids:
            self._last_id = int(ids[-1])
        if len(ids) < limit:
            if self._last_id is not None:  # Telegram held nothing newer when it answered
                self.arrivals.note(now, self._last_id)
            self._behind_since, self._caught_up = None, now
        elif self._behind_since is None:
            self._behind_since = self._caught_up
        shedder = self.shedder
        if shedder is None or shedder.callback_max_wait is None or b'"callback_query"' not in payload:
            return payload
        oldest_age = now - self._arrival(int(ids[0]), now) if self.behind else 0.0
        if shedder.admits(now, oldest_age, ahead=len(ids)):
            return payload  # even the oldest, behind all the others, is let in: nothing to take out
        answer = json.loads(payload)
        updates = answer.get("result")
        if not isinstance(updates, list) or not updates:
            return payload
        kept: list[Any] = []
        taps = turned_away = 0
        oldest_turned_away = 0.0
        for position, update in enumerate(updates):
            if "callback_query" not in update:
                kept.append(update)
                continue
            age = now - self._arrival(update.get("update_id", 0), now) if self.behind else 0.0
            if shedder.admits(now, age, ahead=taps):
                kept.append(update)
                taps += 1
                continue
            turned_away += 1
            oldest_turned_away = max(oldest_turned_away, age + shedder.expected_wait(now, taps))
            if position == len(updates) - 1:  # kept for the offset, dropped by the processor
                kept.append(update)
                shedder.turn_away(update.get("update_id", 0))
        if not turned_away:
            return payload
        shedder.note_shed(turned_away, oldest_turned_away)
        return json.dumps({**answer, "result": kept}).encode()

    def _arrival(self, update_id: int, now: float) -> float:
        """When `update_id` reached Telegram, as far as the bot can tell while it is behind."""
        estimate = self.arrivals.arrival(update_id, now)
        if estimate is not None:
            return estimate
        return self._behind_since if self._behind_since is not None else now

    @property
    def behind(self) -> bool:
        """The last long poll came back full: updates may be waiting at Telegram."""
        return self._behind_since is not None

    def note_backlog(self, pending: int, asked_at: float, limit: int, *, first_pending: int | None = None) -> None:
        """Telegram said `pending` updates waited when asked at `asked_at` (getWebhookInfo), the
        first of them `first_pending` (the offset the last long poll confirmed), if known.

        Polls keep coming back full when taps arrive as fast as a poll fetches them, with
        almost nothing waiting: a backlog of a few polls (the newest arrivals, fetched within
        a few round trips) means the bot is as good as caught up, a second before it asked."""
        if first_pending is not None and first_pending > 0 and pending > 0:
            self.arrivals.note(asked_at, first_pending + pending - 1)
        if pending <= BACKLOG_POLLS * limit and self._behind_since is not None:
            self._caught_up = max(self._caught_up, asked_at - BACKLOG_MARGIN_SECONDS)
            self._behind_since = max(self._behind_since, self._caught_up)

    def put_nowait(self, item: Any) -> None:
        # asyncio.Queue.put ends in put_nowait, so both ways in are stamped.
        if isinstance(item, Update):
            now = self._clock()
            stamp = now if self._behind_since is None else self._arrival(item.update_id, now)
            self._received[item.update_id] = stamp
            if item.callback_query is not None and self.shedder is not None:
                self.shedder.tap_queued()
        super().put_nowait(item)

    def take_received(self, update: object) -> float | None:
        """When `update` arrived (forgotten once asked); None for updates that did not come
        through this queue, e.g. fed to `Application.process_update` directly."""
        if isinstance(update, Update):
            return self._received.pop(update.update_id, None)
        return None


class _Turn:
    """An update's hold on its sender's order and on a place among the running updates."""

    __slots__ = ("counted", "holds_lock", "holds_slot", "lock", "processor", "tap", "task")

    def __init__(self, processor: PerSenderUpdateProcessor, lock: asyncio.Lock | None, *, tap: bool) -> None:
        self.processor = processor
        self.lock = lock
        self.tap = tap
        self.holds_lock = self.holds_slot = self.counted = False
        self.task = asyncio.current_task()

    async def take(self) -> None:
        """The sender's turn first, then a place: a queued update holds no place."""
        if self.lock is not None:
            await self.lock.acquire()
            self.holds_lock = True
        await self.processor._slots.acquire()
        self.holds_slot = True

    def step_aside(self, *, edit: bool) -> None:
        """Waiting for the outgoing budget: the place goes to the next update, and a tap's edit
        no longer holds back that person's next tap (a newer edit of the same message would
        make it pointless anyway: bot/runtime/rate_limit.py)."""
        if self.holds_slot:
            self.holds_slot = False
            self.processor._slots.release()
            if self.counted:
                self.counted = False
                self.processor.running -= 1
        if edit and self.tap and self.holds_lock:
            self.holds_lock = False
            assert self.lock is not None
            self.lock.release()

    def give_back(self) -> None:
        self.step_aside(edit=False)
        if self.holds_lock:
            self.holds_lock = False
            assert self.lock is not None
            self.lock.release()


_TURN: ContextVar[_Turn | None] = ContextVar("league_bot_update_turn", default=None)


def in_update() -> bool:
    """Whether the running code handles an update itself (someone waits for what it sends), as
    opposed to a job or a background task the update started."""
    turn = _TURN.get()
    return turn is not None and turn.task is asyncio.current_task()


def step_aside(*, edit: bool) -> None:
    """The running update is about to wait for the outgoing budget (the rate limiter calls
    this): it gives up its place among the running updates, and a tap waiting to edit a message
    lets its sender's next update start. Background tasks started by the update inherit its
    context but not its turn."""
    turn = _TURN.get()
    if turn is not None and turn.task is asyncio.current_task():
        turn.step_aside(edit=edit)


def ordering_key(update: object, unordered_prefixes: tuple[str, ...] = ()) -> object | None:
    """What must not overlap with this update: its sender's other updates; None for nothing."""
    if isinstance(update, Update):
        query = update.callback_query
        if query is not None and query.data and query.data.split(":", 1)[0] in unordered_prefixes:
            return None
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
    return ("other", id(update))


class PerSenderUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self,
        max_running: int = 64,
        *,
        unordered_prefixes: tuple[str, ...] = (),
        received: Callable[[object], float | None] | None = None,
        callback_max_wait: float | None = None,
        clock: Clock = time.monotonic,
        capacity: float | None = None,
    ) -> None:
        if max_running < 1:
            raise ValueError(f"max_running must be at least 1, got {max_running}")
        super().__init__(MAX_WAITING_UPDATES)
        self.max_running = max_running
        self.unordered_prefixes = unordered_prefixes
        self.callback_max_wait = callback_max_wait
        self._received = received
        self._clock = clock
        self.capacity = capacity  # taps a second started while taps waited; None: not known yet
        self._slots = asyncio.Semaphore(max_running)  # first come, first served
        self._locks: dict[object, asyncio.Lock] = {}
        self._users: dict[object, int] = {}
        self.running = 0
        self.shed = 0  # taps dropped unanswered since start
        self.last_wait = 0.0  # how long the last tap to start had waited
        self.local_wait = 0.0  # how much of that it waited here, for its turn and a place
        self._burst_started: float | None = None
        self._burst_last = 0.0
        self._burst_shed = 0
        self.taps_waiting = 0  # taps put in the queue (ReceivedQueue) that have not started yet
        self._busy_since: float | None = None  # taps have waited their turn since then
        self._idle_since: float | None = None  # no tap has waited since then
        self._starts: deque[float] = deque()  # when taps started, over the last PACE_WINDOW_SECONDS
        self._turned_away: set[int] = set()  # taps the door turned away but had to pass on

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        received = self._received(update) if self._received is not None else None
        key = ordering_key(update, self.unordered_prefixes)
        lock = None
        if key is not None:
            lock = self._locks.setdefault(key, asyncio.Lock())
            self._users[key] = self._users.get(key, 0) + 1
        turn = _Turn(self, lock, tap=isinstance(update, Update) and update.callback_query is not None)
        # A tap the queue counted as waiting (it came through ReceivedQueue) stops waiting once
        # it starts, is dropped, or is cancelled while it waits.
        waiting = turn.tap and received is not None
        entered = self._clock()
        try:
            await turn.take()
            if waiting:
                waiting = False
                self._tap_left()
            if turn.tap:
                started = self._clock()
                self.local_wait = started - entered
                if received is not None:
                    self.last_wait = started - received
            if self._too_late(update, received):
                return
            if turn.tap:
                now = self._clock()
                self._starts.append(now)
                self.pace(now)  # notes the capacity while taps wait
            self.running += 1
            turn.counted = True
            token = _TURN.set(turn)
            try:
                await coroutine
            finally:
                _TURN.reset(token)
        finally:
            if waiting:
                self._tap_left()
            turn.give_back()
            if key is not None:
                self._users[key] -= 1
                if not self._users[key]:
                    del self._users[key]
                    del self._locks[key]
            if isinstance(coroutine, Coroutine) and inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
                # Never started (dropped, or cancelled while waiting): close it quietly instead
                # of leaving Python to warn that it was never awaited.
                coroutine.close()

    def _too_late(self, update: object, received: float | None) -> bool:
        now = self._clock()
        if self._burst_started is not None and now - self._burst_last > BURST_QUIET_SECONDS:
            self._end_burst()
        if received is None or self.callback_max_wait is None:
            return False
        if not isinstance(update, Update) or update.callback_query is None:
            return False
        if update.update_id in self._turned_away:  # counted when the door turned it away
            self._turned_away.discard(update.update_id)
            return True
        waited = now - received
        if waited <= self.callback_max_wait:
            return False
        self.note_shed(1, waited)
        return True

    # ---- admission at the door (the module's docstring) ------------------------------------------
    def tap_queued(self) -> None:
        """A tap was put in the queue (ReceivedQueue): it waits until it starts or is dropped."""
        if self.taps_waiting == 0:
            self._busy_since, self._idle_since = self._clock(), None
        self.taps_waiting += 1

    def _tap_left(self) -> None:
        self.taps_waiting -= 1
        if self.taps_waiting <= 0:
            self.taps_waiting, self._busy_since, self._idle_since = 0, None, self._clock()

    def pace(self, now: float) -> float | None:
        """Taps started a second while taps waited their turn (the bot at its capacity): measured
        over the last PACE_WINDOW_SECONDS once it has been busy that long, else the capacity it
        showed when it last was. None before it ever was, and again once no tap has waited for
        PACE_WINDOW_SECONDS: a capacity measured during a stall (the database, a pause) would
        otherwise let so few taps in that the bot was never busy again to measure a better one."""
        starts = self._starts
        while starts and now - starts[0] > PACE_WINDOW_SECONDS:
            starts.popleft()
        busy = self._busy_since
        if busy is not None and now - busy >= PACE_WINDOW_SECONDS and starts:
            self.capacity = len(starts) / PACE_WINDOW_SECONDS
        elif self._idle_since is not None and now - self._idle_since >= PACE_WINDOW_SECONDS:
            self.capacity = None
        return self.capacity

    def expected_wait(self, now: float, ahead: int) -> float:
        """How long a tap let in now would wait for its turn, with `ahead` more taps before it
        than those waiting already (0 while the bot's capacity is not known)."""
        pace = self.pace(now)
        return (self.taps_waiting + ahead) / pace if pace else 0.0

    def admits(self, now: float, age: float, *, ahead: int) -> bool:
        """Whether a tap that has waited `age` s (at Telegram) is let in, with `ahead` taps let
        in before it that are not counted as waiting yet: it should start within ADMIT_SHARE of
        callback_max_wait from now, and within callback_max_wait of its tap."""
        limit = self.callback_max_wait
        if limit is None:
            return True
        wait = self.expected_wait(now, ahead)
        return wait <= limit * ADMIT_SHARE and age + wait <= limit

    def turn_away(self, update_id: int) -> None:
        """The door turned this tap away (counted) but passes it on: drop it when it comes."""
        self._turned_away.add(update_id)

    def note_shed(self, count: int, waited: float) -> None:
        """`count` taps that waited `waited` s were dropped unanswered: counted, logged once a burst."""
        now = self._clock()
        self.shed += count
        if self._burst_started is None:
            self._burst_started, self._burst_shed = now, 0
            log.warning(
                "Overloaded: button taps that waited over %.1f s are dropped unanswered (these %.1f s);"
                " the people tap again and are answered at once",
                self.callback_max_wait or 0.0,
                waited,
            )
        self._burst_shed += count
        self._burst_last = now

    def _end_burst(self) -> None:
        assert self._burst_started is not None
        log.warning(
            "Overload over: %d button taps dropped in %.1f s", self._burst_shed, self._burst_last - self._burst_started
        )
        self._burst_started = None

    async def initialize(self) -> None:
        """Nothing to set up: locks are made on demand."""

    async def shutdown(self) -> None:
        """PTB waits for running updates before calling this: only a burst's summary is left."""
        if self._burst_started is not None:
            self._end_burst()
