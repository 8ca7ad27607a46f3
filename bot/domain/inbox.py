"""The inbox: no update lost once Telegram delivered it.

The bot's intake (bot/runtime/inbox.py) stores each update here before Telegram is told it
arrived (the next getUpdates' offset, or the webhook call's 200), ignores one stored already (a
repeated delivery), and marks it done once handled: with the handler's first transaction when
the handler writes the database (`done_mark`), else when it finishes. After a crash the updates
stored but not done are handled first, oldest first. Handled updates keep only their id, and
are forgotten after the keeping period.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.clock import Clock
from storage.inbox import DoneMark, InboxRepository


class Inbox:
    def __init__(self, repo: InboxRepository, clock: Clock, *, keep: timedelta) -> None:
        self.repo = repo
        self.clock = clock
        self.keep = keep

    async def store(self, update_id: int, payload: str) -> bool:
        """Keep a delivered update; False when it was delivered before (ignore it)."""
        return await self.repo.store(update_id, payload, self.clock.now())

    async def store_many(self, updates: list[tuple[int, str]]) -> set[int]:
        """Keep a batch of delivered updates (id, payload); returns the ids delivered for the first time."""
        return await self.repo.store_many(updates, self.clock.now())

    async def left_behind(self) -> list[tuple[int, str]]:
        """(update id, payload) of the updates to handle first, oldest first: stored and not done,
        and (several instances) left by an instance that is gone."""
        return await self.repo.left_behind()

    def done_mark(self, update_id: int) -> DoneMark:
        """The mark that `update_id` is handled: carried by the handler's task, it commits with
        the handler's first transaction; `finish` writes it if none did."""
        return DoneMark(update_id, self.clock.now())

    async def finish(self, marks: list[DoneMark]) -> None:
        """Marks no handler's transaction committed, written together (one statement)."""
        waiting = [mark for mark in marks if not mark.committed]
        if waiting:
            await self.repo.mark_many_done([mark.update_id for mark in waiting], self.clock.now())
            for mark in waiting:
                mark.committed = True

    async def is_done(self, update_id: int) -> bool | None:
        return await self.repo.is_done(update_id)

    async def purge(self) -> int:
        """Forget handled updates older than the keeping period."""
        return await self.repo.purge_done(self.clock.now() - self.keep)
