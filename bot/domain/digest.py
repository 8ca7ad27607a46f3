"""The weekly digest: what is coming up in the next seven days for one group.

Each source gives the items it knows for a chat: the organisation's activities (and, in the
hub, those also shown there), auction sessions (hub), wish deadlines of the organisation's
claims, and the reminders people scheduled for the group. The transport words each `kind`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.domain.schedule import Schedule, next_occurrence
from bot.domain.wishes import WishService
from bot.model.organisation import Binding, ChatRecord
from bot.model.reminder import ReminderRecord
from storage.activities import ActivityRepository
from storage.auction import AuctionRepository
from storage.chats import ChatRepository
from storage.reminders import ReminderRepository

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class DigestItem:
    when: datetime
    kind: str  # reminder | activity | auction | wish_deadline
    text: str  # public words only: a title, a code, a cadre's reminder text


class DigestSource(Protocol):
    async def items_for(self, chat: ChatRecord, start: datetime, end: datetime) -> list[DigestItem]:
        """Items for this chat with a time in [start, end)."""


def reaches(reminder: ReminderRecord, chat: ChatRecord) -> bool:
    if reminder.target_kind == "all_groups":
        return chat.binding is not None
    if reminder.target_kind == "hub":
        return chat.binding is Binding.HUB
    return reminder.target_kind == "chat" and reminder.target_id == chat.id


class ReminderSource:
    def __init__(self, reminders: ReminderRepository, zone: ZoneInfo) -> None:
        self.reminders = reminders
        self.zone = zone

    async def items_for(self, chat: ChatRecord, start: datetime, end: datetime) -> list[DigestItem]:
        items = []
        for reminder in await self.reminders.active():
            # System reminders (subject_key) announce activities and auctions, listed as such.
            if reminder.content_kind != "text" or reminder.subject_key is not None or not reaches(reminder, chat):
                continue
            schedule = Schedule.from_json(reminder.schedule)
            moment = next_occurrence(schedule, after=start, zone=self.zone)
            while moment is not None and moment < end:
                items.append(DigestItem(moment, "reminder", reminder.text))
                moment = next_occurrence(schedule, after=moment, zone=self.zone)
        return items


class ActivitySource:
    def __init__(self, activities: ActivityRepository) -> None:
        self.activities = activities

    async def items_for(self, chat: ChatRecord, start: datetime, end: datetime) -> list[DigestItem]:
        if chat.binding is None:
            return []
        found = await self.activities.published_around(
            org_id=chat.org_id if chat.binding is Binding.ORG else None,
            hub=chat.binding is Binding.HUB,
            ends_after=start,
            starts_before=end,
        )
        return [DigestItem(a.starts_at, "activity", f"{a.code} {a.title}") for a in found if start <= a.starts_at < end]


class AuctionSource:
    def __init__(self, sessions: AuctionRepository) -> None:
        self.sessions = sessions

    async def items_for(self, chat: ChatRecord, start: datetime, end: datetime) -> list[DigestItem]:
        if chat.binding is not Binding.HUB:
            return []
        scheduled = await self.sessions.in_states(("scheduled",))
        return [DigestItem(s.starts_at, "auction", s.title) for s in scheduled if start <= s.starts_at < end]


class WishDeadlineSource:
    def __init__(self, wishes: WishService) -> None:
        self.wishes = wishes

    async def items_for(self, chat: ChatRecord, start: datetime, end: datetime) -> list[DigestItem]:
        if chat.binding is not Binding.ORG:
            return []
        return [
            DigestItem(w.deadline, "wish_deadline", w.code)
            for w in await self.wishes.in_progress()
            if w.claimed_by_org == chat.org_id and w.deadline is not None and start <= w.deadline < end
        ]


class WeeklyDigest:
    def __init__(self, chats: ChatRepository, sources: list[DigestSource]) -> None:
        self.chats = chats
        self.sources = sources

    async def items_for(self, chat_id: int, start: datetime) -> list[DigestItem]:
        chat = await self.chats.get(chat_id)
        if chat is None:
            return []
        items: list[DigestItem] = []
        for source in self.sources:
            items.extend(await source.items_for(chat, start, start + WEEK))
        return sorted(items, key=lambda item: item.when)
