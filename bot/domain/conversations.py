"""Conversations expire: what someone types into a conversation (a child's real name, a phone
number) is kept only as long as the conversation, and a conversation left idle longer than
`[conversations] expire_after_hours` (default 24) is over.

Expiry deletes the data at once, leaving a tombstone (the user id and when) so that the person,
coming back, is told the conversation expired and how to start again instead of having their
next message taken for an answer to a question asked days ago. It happens two ways: the
maintenance job sweeps every idle conversation, and reading one checks its age, so the rule
holds to the minute whatever the job's interval. Tombstones go after TOMBSTONE_DAYS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.model.organisation import Conversation
from storage.conversations import EXPIRED_FLOW, ConversationRepository

TOMBSTONE_DAYS = 30


@dataclass(frozen=True)
class Expired:
    """The person had a conversation that expired (its data is already deleted)."""

    user_id: int


@dataclass(frozen=True)
class Swept:
    expired: int
    tombstones_forgotten: int


class ConversationService:
    def __init__(self, repo: ConversationRepository, clock: Clock, expire_after: timedelta) -> None:
        self.repo = repo
        self.clock = clock
        self.expire_after = expire_after
        self._expired_on_reading = 0  # since the last sweep, which reports them too

    @property
    def expire_after_hours(self) -> int:
        return int(self.expire_after.total_seconds() // 3600)

    async def lookup(self, user_id: int) -> Conversation | Expired | None:
        """The person's live conversation, `Expired` (once: the tombstone is then removed by
        `acknowledge`), or None."""
        found = await self.repo.get_with_time(user_id)
        if found is None:
            return None
        state, updated_at = found
        if state.flow == EXPIRED_FLOW:
            return Expired(user_id)
        now = self.clock.now()
        if updated_at <= now - self.expire_after:
            await self.repo.expire_one(user_id, now)
            self._expired_on_reading += 1
            return Expired(user_id)
        return state

    async def get(self, user_id: int) -> Conversation | None:
        """The person's live conversation; None when there is none or it expired."""
        state = await self.lookup(user_id)
        return state if isinstance(state, Conversation) else None

    async def acknowledge(self, user_id: int) -> None:
        """The person has been told their conversation expired: forget the tombstone."""
        await self.repo.clear(user_id)

    async def save(self, user_id: int, flow: str, step: str, data: dict[str, object], now: datetime) -> None:
        """Record the step reached and what was collected; the idle clock restarts at `now`."""
        await self.repo.save(user_id, flow, step, data, now)

    async def clear(self, user_id: int) -> bool:
        """End the person's conversation; True when there was a live one."""
        return await self.repo.clear(user_id)

    async def sweep(self) -> Swept:
        """Expire every idle conversation (its data deleted) and forget old tombstones; `expired`
        counts those expired on reading since the last sweep too (the caller then clears the
        WAL's older copies of their pages)."""
        now = self.clock.now()
        expired = await self.repo.expire(now - self.expire_after, now) + self._expired_on_reading
        self._expired_on_reading = 0
        forgotten = await self.repo.forget_tombstones(now - timedelta(days=TOMBSTONE_DAYS))
        return Swept(expired, forgotten)
