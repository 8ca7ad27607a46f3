"""The weekly digest: what is coming up in the next seven days for one group.

Each source gives the items it knows for a chat; today that is the group's scheduled
reminders. Activities, auction sessions and wish deadlines add their own sources later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.schedule_grammar import Schedule, next_occurrence
from storage.chats import ChatRepository
from storage.models import Binding, ChatRecord
from storage.reminders import ReminderRecord, ReminderRepository

WEEK = timedelta(days=7)
SUBJECT = "digest:weekly"


@dataclass(frozen=True)
class DigestItem:
    when: datetime
    text: str


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
            if reminder.content_kind != "text" or not reaches(reminder, chat):
                continue
            schedule = Schedule.from_json(reminder.schedule)
            moment = next_occurrence(schedule, after=start, zone=self.zone)
            while moment is not None and moment < end:
                items.append(DigestItem(moment, reminder.text))
                moment = next_occurrence(schedule, after=moment, zone=self.zone)
        return items


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
