"""Catching up after downtime: the activity summaries missed while the bot was down, and the
listing messages the reminders' catch-up shares with them (bot/domain/reminders.py).

The summaries job queues each ended activity's summary once. After the bot was down for a
while, many are due at once (measured: 2,698 messages at ten times the seed's size, sent over
~98 s). Caught up here instead:
- only those that ended within the catch-up window (`[catch_up] window_hours`, 24 by default)
  are still sent, oldest first;
- per chat: a chat owed one summary gets it as usual; a chat owed several gets one message
  that lists them, oldest first (20 to a message), so a group reads one message and the bot stays far inside
  the flood limits (the outbox sends it like any other message);
- the ones that ended longer ago are not sent to their groups (news of last week's activity is
  noise); the county admins get one message listing them (the first few by name and the count).
The organiser's private summary asks how many people were served, with buttons: it stays one
message per activity, for those within the window.

Each activity is marked summarised in the same transaction that queues its messages, so a
summary is still queued once, whichever way it goes out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from bot.domain.activity_notices import summary_notices
from bot.domain.outbox import Outbox
from bot.model.activity import Activity
from bot.model.outbox import Notice, ParamValue, Priority
from storage.activities import ActivityRepository
from storage.db import Database

# The kinds of message the catch-up adds (rendered by handlers/catch_up.py).
SUMMARIES_TOGETHER = "catch_up.summaries"
STALE_SUMMARIES = "catch_up.stale"
REMINDERS_TOGETHER = "catch_up.reminders"  # a chat's late reminder occurrences, in one message
STALE_REMINDERS = "catch_up.stale_reminders"  # to a county admin: occurrences too late to send
T = TypeVar("T")
# The most activities (or reminder occurrences) one catch-up message names (a message holds at most 4,096 characters).
MOST_NAMED = 20


@dataclass(frozen=True)
class CaughtUp:
    """What one run queued: summaries (activities), the messages for them, the stale ones."""

    summaries: list[Activity]
    messages: int
    stale: list[Activity]


def within_window(
    activities: Sequence[Activity], now: datetime, window: timedelta
) -> tuple[list[Activity], list[Activity]]:
    """(ended within `window` before `now`, ended earlier), each oldest first."""
    ordered = sorted(activities, key=lambda a: (a.ends_at, a.id))
    recent = [a for a in ordered if now - a.ends_at <= window]
    stale = [a for a in ordered if now - a.ends_at > window]
    return recent, stale


def in_listings(owed: Sequence[T]) -> Iterator[Sequence[T]]:
    """`owed` in listing messages of at most MOST_NAMED (a message holds at most 4,096 characters)."""
    for first in range(0, len(owed), MOST_NAMED):
        yield owed[first : first + MOST_NAMED]


def per_chat_notices(
    per_chat: Mapping[int, Sequence[T]],
    one: Callable[[int, T], Notice],
    several: Callable[[int, Sequence[T]], Notice],
) -> list[Notice]:
    """Each chat's messages for what it is owed (oldest first): the usual message when it is owed
    one (`one`), else listings (`several`) of at most MOST_NAMED each."""
    notices = []
    for chat_id, owed in per_chat.items():
        if len(owed) == 1:
            notices.append(one(chat_id, owed[0]))
        else:
            notices.extend(several(chat_id, listed) for listed in in_listings(owed))
    return notices


def ids_param(ids: Sequence[int]) -> str:
    """The first MOST_NAMED ids for a notice's params (a short string: the row holds no rendered text)."""
    return ",".join(str(item) for item in ids[:MOST_NAMED])


def parse_ids(value: object) -> list[int]:
    """The ids `ids_param` wrote."""
    if not isinstance(value, str) or not value:
        return []
    return [int(part) for part in value.split(",")]


class SummaryCatchUp:
    def __init__(
        self, db: Database, repo: ActivityRepository, outbox: Outbox, county_admins: Sequence[int], window: timedelta
    ) -> None:
        self.db = db
        self.repo = repo
        self.outbox = outbox
        self.county_admins = tuple(county_admins)
        self.window = window

    async def queue(self, due: Sequence[Activity], now: datetime) -> CaughtUp:
        """Queue the summaries of `due` (ended, not summarised yet) as the module says. An
        activity another run marked meanwhile is left to that run."""
        recent, stale = within_window(due, now, self.window)
        async with self.db.transaction():
            taken = [a for a in recent if await self.repo.mark_summary_sent(a.id, now)]
            dropped = [a for a in stale if await self.repo.mark_summary_sent(a.id, now)]
            per_chat: dict[int, list[Activity]] = {}
            notices: list[Notice] = []
            for activity in taken:
                chats = [chat_id for chat_id, _ in await self.repo.posts(activity.id)]
                for chat_id in chats:
                    per_chat.setdefault(chat_id, []).append(activity)
                # The groups' summaries are grouped below; the organiser's stays its own.
                notices.extend(summary_notices(activity, []))
            notices.extend(
                per_chat_notices(per_chat, lambda chat_id, one: summary_notices(one, [chat_id])[0], together)
            )
            if dropped:
                notices.extend(stale_notice(admin, dropped) for admin in self.county_admins)
            messages = 0
            for notice in notices:
                messages += await self.outbox.enqueue(notice)
        return CaughtUp(taken, messages, dropped)


def together(chat_id: int, owed: Sequence[Activity]) -> Notice:
    """One message to `chat_id` for several summaries, oldest first."""
    key = f"summaries:{owed[0].id}-{owed[-1].id}:{chat_id}"
    return listing(SUMMARIES_TOGETHER, chat_id, key, "activities", [a.id for a in owed], Priority.NORMAL)


def stale_notice(admin: int, dropped: Sequence[Activity]) -> Notice:
    """The county admin's list of summaries too old to send."""
    key = f"summaries:stale:{dropped[0].id}-{dropped[-1].id}:{admin}"
    return listing(STALE_SUMMARIES, admin, key, "activities", [a.id for a in dropped], Priority.BACKGROUND)


def listing(
    kind: str,
    chat_id: int,
    key: str,
    name: str,
    ids: Sequence[int],
    priority: Priority,
    **extra: ParamValue,
) -> Notice:
    """A catch-up listing message: the first MOST_NAMED of `ids` under `name`, and how many in all."""
    params: dict[str, ParamValue] = {name: ids_param(ids), "count": len(ids), **extra}
    return Notice(kind, chat_id, key=key, params=params, priority=priority)
