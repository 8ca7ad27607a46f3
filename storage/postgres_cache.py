"""Repository caches kept true across instances on one PostgreSQL database (issue #20).

A repository caches the rows of one table it alone writes (people, memberships, organisations,
chats: read on every update). With several instances, another one may write them: every write to
such a table is followed by `NOTIFY league_bot_cache, '<table>'` (delivered when its transaction
commits), and each instance LISTENs on a connection of its own and forgets that table's cached
rows when told. While the listening connection is down nothing is cached (a read goes to the
database), and an entry is kept at most MAX_AGE_SECONDS whatever happens (a backstop for a read
that raced a notification).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

log = logging.getLogger(__name__)

CHANNEL = "league_bot_cache"
MAX_AGE_SECONDS = 30.0
_WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)


def written_table(sql: str) -> str | None:
    match = _WRITE.match(sql)
    return match.group(1).lower() if match else None


class SharedCache(dict[Any, Any]):
    """A dict that keeps entries only while its instance hears the others' writes."""

    def __init__(self, listening: Callable[[], bool]) -> None:
        super().__init__()
        self._listening = listening
        self._stamps: dict[Any, float] = {}

    def __setitem__(self, key: Any, value: Any) -> None:
        if self._listening():
            super().__setitem__(key, value)
            self._stamps[key] = time.monotonic()

    def _fresh(self, key: Any) -> bool:
        stamp = self._stamps.get(key)
        if stamp is None or time.monotonic() - stamp > MAX_AGE_SECONDS:
            super().pop(key, None)
            self._stamps.pop(key, None)
            return False
        return True

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) and self._fresh(key)

    def __getitem__(self, key: Any) -> Any:
        if not self._fresh(key):
            raise KeyError(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key, default) if key in self else default

    def pop(self, key: Any, *default: Any) -> Any:
        self._stamps.pop(key, None)
        return super().pop(key, *default)

    def clear(self) -> None:
        self._stamps.clear()
        super().clear()


class CacheListener:
    """The LISTEN connection of one instance and the caches it keeps true, by table."""

    def __init__(self, connect: Callable[[], Awaitable[psycopg.AsyncConnection[Any]]]) -> None:
        self._connect = connect
        self._caches: dict[str, list[SharedCache]] = {}
        self._task: asyncio.Task[None] | None = None
        self.listening = False

    def cache(self, table: str) -> SharedCache:
        cache = SharedCache(lambda: self.listening)
        self._caches.setdefault(table, []).append(cache)
        return cache

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(self._caches)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="league-bot cache listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass  # its own cancellation, asked for just above
        self._forget(None)

    def _forget(self, table: str | None) -> None:
        for name, caches in self._caches.items():
            if table is None or name == table:
                for cache in caches:
                    cache.clear()

    async def _run(self) -> None:
        while True:
            conn = None
            try:
                conn = await self._connect()
                await conn.execute(f"LISTEN {CHANNEL}")
                self._forget(None)  # what was cached before listening may be stale
                self.listening = True
                async for note in conn.notifies():
                    self._forget(note.payload)
            except (psycopg.Error, OSError) as error:
                log.warning("cache listener: %s; caching off until it reconnects", error)
            finally:
                self.listening = False
                self._forget(None)
                if conn is not None and not conn.closed:
                    await conn.close()
            await asyncio.sleep(1.0)
