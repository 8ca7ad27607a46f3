"""Concurrent update processing that keeps each person's updates in order.

PTB processes one update at a time by default, which caps throughput at one network round
trip per update (a live auction or a wave of check-ins queues up behind it). Fully concurrent
processing would let two quick messages of one person overtake each other and race on their
conversation state. So: updates run concurrently, but those of the same sender one by one,
except the button taps a feature declares safe to run side by side (an auction claim: the
domain arbitrates concurrent claims itself, and a cadre's fifth tap must not wait for the
network calls of their first four).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor


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
    def __init__(self, max_concurrent_updates: int = 64, *, unordered_prefixes: tuple[str, ...] = ()) -> None:
        super().__init__(max_concurrent_updates)
        self.unordered_prefixes = unordered_prefixes
        self._locks: dict[object, asyncio.Lock] = {}
        self._users: dict[object, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable) -> None:
        key = ordering_key(update, self.unordered_prefixes)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up: locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to release: PTB waits for running updates before calling this."""
