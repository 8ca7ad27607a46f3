"""The connection's lock, with a lane that goes first.

One connection serves every task, one transaction at a time (storage/db.py). First come, first
served is right for the handlers, but not for storing what Telegram delivers: a long poll's next
request leaves only once its batch is stored, so a store queued behind sixty handlers'
transactions held back the fetching, and the bot fell behind at Telegram, where nobody can see
how long taps wait (measured in a rush: the store's wait, not the bot's CPU, was the ceiling).
Statements run inside `Gate.first_lane()` wait only for the transaction in progress. Only the
long poll's store takes it (bot/runtime/inbox.py): a webhook's slow 200 is its back-pressure.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

_first: contextvars.ContextVar[bool] = contextvars.ContextVar("db_first_lane", default=False)


class Gate:
    """An asyncio lock whose waiters in the first lane go before the others; each lane first come,
    first served. Released, it passes straight to the next waiter (nobody barges in between)."""

    __slots__ = ("_first", "_held", "_rest")

    def __init__(self) -> None:
        self._held = False
        self._first: deque[asyncio.Future[None]] = deque()
        self._rest: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self._held

    @staticmethod
    @contextmanager
    def first_lane() -> Iterator[None]:
        """The statements this task runs meanwhile take the first lane."""
        token = _first.set(True)
        try:
            yield
        finally:
            _first.reset(token)

    async def acquire(self) -> None:
        if not self._held and not self._first and not self._rest:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane = self._first if _first.get() else self._rest
        lane.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over just as it was cancelled: pass it on
            else:
                lane.remove(waiter)
            raise

    def release(self) -> None:
        if not self._held:
            raise RuntimeError("Gate.release: not held")
        for lane in (self._first, self._rest):
            while lane:
                waiter = lane.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # still held: now by that waiter
                    return
        self._held = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()
