"""The claimer's deadline reminders, kept in step with the claims.

The reminder service comes in as a port (`SubjectReminders`), so this package does not import
bot/domain/reminders.py: the weekly digest there reads the wishes, and the imports stay one way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from bot.domain.schedule_grammar import Schedule
from bot.domain.wishes.registry import WishRegistry
from bot.model.wish import Wish
from storage.reminders import ReminderRepository

# The claimer is reminded this long before the fulfilment deadline: (subject tag, how long).
DEADLINE_REMINDERS: tuple[tuple[str, timedelta], ...] = (("3d", timedelta(days=3)), ("1d", timedelta(days=1)))
_DEADLINE_SUBJECT = re.compile(r"wish:(\d+):(3d|1d)")


class SubjectReminders(Protocol):
    """What keeping the reminders needs of the reminder service (bot/domain/reminders.ReminderService)."""

    @property
    def reminders(self) -> ReminderRepository: ...

    async def set_for_subject(
        self, subject_key: str, target_kind: str, target_id: int | None, text: str, schedule: Schedule
    ) -> object: ...

    async def cancel_subject(self, subject_key: str) -> bool: ...


def deadline_subject(wish_id: int, tag: str) -> str:
    return f"wish:{wish_id}:{tag}"


async def keep_deadline_reminders(
    wishes: WishRegistry, reminders: SubjectReminders, text_for: Callable[[Wish, int], str]
) -> int:
    """Keep one "once" reminder to the claimer per entry of `DEADLINE_REMINDERS` for every wish
    being fulfilled, and none for any other: safe to run at any time, as often as wanted.

    Claims come from several places (the auction, a reassignment, a release), so nothing hooks
    them: this pass compares the wishes with the reminders. `set_for_subject` leaves an
    unchanged reminder alone, replaces one whose claimer, deadline or text changed, and drops
    one whose time has passed; a reminder whose wish was delivered, confirmed, cancelled or
    released is cancelled. `text_for(wish, days_left)` renders the (plain) text. Returns how
    many wishes are being fulfilled."""
    wanted: set[str] = set()
    fulfilling = 0
    for wish in await wishes.in_progress():
        deadline, claimer = wish.deadline, wish.claimed_by_user
        if deadline is None or claimer is None:
            continue
        fulfilling += 1
        for tag, before in DEADLINE_REMINDERS:
            subject = deadline_subject(wish.id, tag)
            wanted.add(subject)
            await reminders.set_for_subject(
                subject,
                "person",
                claimer,
                text_for(wish, before.days),
                Schedule(kind="once", at=deadline - before, time=None),
            )
    for reminder in await reminders.reminders.active():
        subject = reminder.subject_key or ""
        if _DEADLINE_SUBJECT.fullmatch(subject) and subject not in wanted:
            await reminders.cancel_subject(subject)
    return fulfilling
