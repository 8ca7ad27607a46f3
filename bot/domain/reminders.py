"""Persistent reminders and the delivery of each occurrence to every chat it is for.

The database is the only truth: the in-memory job is a wake-up call that runs `deliver_due`,
which looks up what is due. Delivery rule, per occurrence, in one transaction:

1. the occurrence is claimed (a row with a unique (reminder, due time));
2. each chat's delivery is recorded as 'sending' and its message queued in the outbox
   (bot/domain/outbox.py), key "reminder:<occurrence>:<chat>";
3. the occurrence is finished and the reminder moves on to its next occurrence.

So an occurrence is queued for all its chats or for none, and the outbox sends each message,
retrying network errors, 5xx and 429 with back-off, until Telegram accepts it or refuses it for
good; then the delivery's record says how it ended (sent, nothing_to_say, chat_gone, failed).
After a crash nothing is lost: the queued messages are still queued, and at most the one message
in flight at the crash is sent twice. A 'sending' record left by an older version without an
outbox message (its process died mid-send) is never sent again: the message may have arrived.

An occurrence found late (the bot was down) is sent once, marked late, if it is less than the
grace period late; older ones are recorded as skipped and logged. Non-urgent occurrences due in
the quiet hours are sent when the quiet hours end.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.orgs import OrganisationService
from bot.domain.outbox import REMINDER, Delivery, Outbox
from bot.domain.permissions import Permissions
from bot.domain.schedule import Schedule, next_occurrence
from bot.domain.schedule_grammar import parse_schedule
from bot.model.organisation import Binding, ChatRecord, Organisation
from bot.model.outbox import Notice, OutboxMessage, OutboxState, Priority
from bot.model.reminder import ReminderRecord
from storage.chats import ChatRepository
from storage.db import Database, written
from storage.reminders import ReminderRepository

log = logging.getLogger(__name__)

TARGETS = ("chat", "hub", "all_groups", "person")
MAX_TEXT = 3500
LATE_AFTER = timedelta(minutes=2)
WEEKLY_DIGEST = "digest:weekly"  # the subject of the weekly digest (bot/domain/digest.py words it)
_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The moment itself, or the end of the quiet period it falls in."""
        local = moment.astimezone(zone)
        if not self.contains(local.time()):
            return moment
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(moment.tzinfo)


class SendStatus(StrEnum):
    """How one chat's delivery of an occurrence ended (stored as the delivery's status)."""

    SENT = "sent"
    NOTHING_TO_SAY = "nothing_to_say"  # a computed text had nothing for this chat
    CHAT_GONE = "chat_gone"  # the bot was removed, or the chat no longer exists
    FAILED = "failed"  # Telegram refused the message for good (a bad request)


# The outbox's sender (handlers/outbox.py), run once the occurrences due are queued: it sends
# what is due, one message at a time, and returns when nothing more is due now.
Drain = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Outcome:
    reminder_id: int
    due_at: datetime
    outcome: str  # sent | late | skipped
    deliveries: dict[int, str]


@dataclass(frozen=True)
class ReminderTargets:
    """Where a person may send reminders, besides to themselves."""

    county: bool  # a county admin: the hub and "all groups" too
    hub: ChatRecord | None  # the county hub, when it is bound and the bot is in it (county admins)
    any_group: bool  # some bound group is active ("all groups" makes sense)
    org_groups: tuple[tuple[Organisation, ChatRecord], ...]  # organisations' active groups
    without_group: tuple[Organisation, ...]  # the person's organisations with no usable group


class ReminderService:
    def __init__(
        self,
        db: Database,
        reminders: ReminderRepository,
        chats: ChatRepository,
        permissions: Permissions,
        clock: Clock,
        zone: ZoneInfo,
        *,
        grace: timedelta,
        quiet: QuietHours | None,
        orgs: OrganisationService,
        outbox: Outbox,
    ) -> None:
        self.db = db
        self.orgs = orgs
        self.reminders = reminders
        self.chats = chats
        self.permissions = permissions
        self.clock = clock
        self.zone = zone
        self.grace = grace
        self.quiet = quiet
        self.outbox = outbox
        outbox.listen(REMINDER, self._delivery_ended)
        # System reminders whose recipients are computed when an occurrence is due (e.g. the
        # organisations behind their deeds pace), by subject key; the record's target is ignored.
        self.audiences: dict[str, Callable[[ReminderRecord], Awaitable[list[int]]]] = {}

    # ---- creating and changing ----------------------------------------------------------
    async def targets_for(self, actor_id: int) -> ReminderTargets:
        """County admins: the hub, all groups, every organisation's group; organisation admins:
        their organisations' groups (and which of them have none). Anyone else is refused."""
        if await self.permissions.is_county_admin(actor_id):
            chats = [chat for chat in await self.chats.bound() if chat.active]
            hub = await self.chats.hub()
            org_groups = [
                (await self.orgs.get(chat.org_id), chat)
                for chat in chats
                if chat.binding is Binding.ORG and chat.org_id is not None
            ]
            return ReminderTargets(True, hub if hub and hub.active else None, bool(chats), tuple(org_groups), ())
        managed = await self.permissions.managed_org_ids(actor_id)
        if not managed:
            raise PermissionDenied("errors.org_admin_only")
        usable, missing = [], []
        for org_id in managed:
            org = await self.orgs.get(org_id)
            group = await self.chats.of_org(org_id)
            if group is None or not group.active or not org.active:
                missing.append(org)
            else:
                usable.append((org, group))
        return ReminderTargets(False, None, bool(usable), tuple(usable), tuple(missing))

    def first_due(self, schedule: Schedule) -> datetime | None:
        return next_occurrence(schedule, after=self.clock.now() - timedelta(seconds=1), zone=self.zone)

    async def _check_target(self, actor_id: int, target_kind: str, target_id: int | None) -> None:
        if target_kind not in TARGETS:
            raise DomainError("reminders.bad_target")
        if await self.permissions.is_county_admin(actor_id):
            return
        if target_kind == "person" and target_id == actor_id:
            return
        if target_kind == "chat" and target_id is not None:
            chat = await self.chats.by_id(target_id)
            if (
                chat is not None
                and chat.org_id is not None
                and await self.permissions.can_manage_org(actor_id, chat.org_id)
            ):
                return
        raise DomainError("reminders.target_denied")

    async def create(
        self,
        actor_id: int,
        target_kind: str,
        target_id: int | None,
        text: str,
        schedule: Schedule,
        *,
        urgent: bool = False,
    ) -> ReminderRecord:
        text = text.strip()
        if not text or len(text) > MAX_TEXT:
            raise DomainError("reminders.bad_text", max=MAX_TEXT)
        await self._check_target(actor_id, target_kind, target_id)
        due = self.first_due(schedule)
        if due is None:
            raise DomainError("reminders.no_future_occurrence")
        return await self.reminders.add(
            subject_key=None,
            target_kind=target_kind,
            target_id=target_id,
            text=text,
            schedule=schedule.to_json(),
            urgent=urgent,
            next_due_at=due,
            created_by=actor_id,
            now=self.clock.now(),
        )

    async def set_for_subject(
        self,
        subject_key: str,
        target_kind: str,
        target_id: int | None,
        text: str,
        schedule: Schedule,
        *,
        urgent: bool = False,
        content_kind: str = "text",
    ) -> ReminderRecord | None:
        """System reminders (activity start, auction opening…): one per subject, replaced on change."""
        due = self.first_due(schedule)
        async with self.db.transaction():
            existing = await self.reminders.by_subject(subject_key)
            if due is None:
                if existing is not None:
                    await self.reminders.set_state(existing.id, "deleted", None)
                return None
            if existing is None:
                return await self.reminders.add(
                    subject_key=subject_key,
                    target_kind=target_kind,
                    target_id=target_id,
                    text=text,
                    schedule=schedule.to_json(),
                    urgent=urgent,
                    next_due_at=due,
                    created_by=None,
                    now=self.clock.now(),
                    content_kind=content_kind,
                )
            if (
                existing.schedule == schedule.to_json()
                and existing.text == text
                and (existing.target_kind, existing.target_id, existing.urgent) == (target_kind, target_id, urgent)
            ):
                return existing  # unchanged: keep its place in the schedule
            await self.reminders.replace_content(
                existing.id,
                target_kind=target_kind,
                target_id=target_id,
                text=text,
                schedule=schedule.to_json(),
                urgent=urgent,
                next_due_at=due,
            )
            return written(await self.reminders.get(existing.id), f"reminder {existing.id}")

    async def keep_weekly_digest(self, when: str) -> None:
        """The digest is a system reminder to all groups; "" in the configuration switches it off."""
        if not when:
            await self.cancel_subject(WEEKLY_DIGEST)
            return
        schedule = parse_schedule(when, now=self.clock.now(), zone=self.zone)
        await self.set_for_subject(WEEKLY_DIGEST, "all_groups", None, "", schedule, content_kind="weekly_digest")

    async def cancel_subject(self, subject_key: str) -> bool:
        existing = await self.reminders.by_subject(subject_key)
        if existing is None:
            return False
        await self.reminders.set_state(existing.id, "deleted", None)
        return True

    async def _owned(self, actor_id: int, reminder_id: int) -> ReminderRecord:
        reminder = await self.reminders.get(reminder_id)
        if reminder is None or reminder.state == "deleted" or reminder.subject_key is not None:
            raise DomainError("reminders.not_found")
        if not await self.may_manage(actor_id, reminder):
            raise await self.permissions.refused(actor_id, "reminders.not_yours", f"reminder:{reminder_id}")
        return reminder

    async def may_manage(self, actor_id: int, reminder: ReminderRecord) -> bool:
        """A reminder into a group belongs to the group's organisation: any of its admins (and its
        township's) sees, pauses, edits and deletes it, whoever set it; its creator only while
        they still manage the organisation. A reminder to oneself stays its creator's. County
        admins manage every reminder (the hub and all groups are the county's)."""
        if await self.permissions.is_county_admin(actor_id):
            return True
        if reminder.target_kind == "chat":
            chat = await self.chats.by_id(reminder.target_id)
            return (
                chat is not None
                and chat.org_id is not None
                and await self.permissions.can_manage_org(actor_id, chat.org_id)
            )
        return reminder.target_kind == "person" and reminder.created_by == actor_id

    async def pause(self, actor_id: int, reminder_id: int) -> ReminderRecord:
        reminder = await self._owned(actor_id, reminder_id)
        await self.reminders.set_state(reminder.id, "paused", reminder.next_due_at)
        return written(await self.reminders.get(reminder.id), f"reminder {reminder.id}")

    async def resume(self, actor_id: int, reminder_id: int) -> ReminderRecord:
        """Occurrences that fell in the pause are not sent: the next one from now on is."""
        reminder = await self._owned(actor_id, reminder_id)
        due = next_occurrence(Schedule.from_json(reminder.schedule), after=self.clock.now(), zone=self.zone)
        await self.reminders.set_state(reminder.id, "active" if due else "finished", due)
        return written(await self.reminders.get(reminder.id), f"reminder {reminder.id}")

    async def delete(self, actor_id: int, reminder_id: int) -> None:
        reminder = await self._owned(actor_id, reminder_id)
        await self.reminders.set_state(reminder.id, "deleted", None)

    async def owned(self, actor_id: int, reminder_id: int) -> ReminderRecord:
        """A reminder this person may change: its creator, or any county admin."""
        return await self._owned(actor_id, reminder_id)

    async def target_chat(self, record_id: int | None) -> ChatRecord | None:
        """The chat a 'chat' reminder goes to, by its stable record id."""
        return await self.chats.by_id(record_id)

    async def visible_to(self, actor_id: int) -> list[ReminderRecord]:
        """The reminders this person may manage (`may_manage`): their own personal ones and every
        reminder into the groups of the organisations they manage."""
        if await self.permissions.is_county_admin(actor_id):
            return await self.reminders.visible()
        candidates = await self.reminders.visible(
            created_by=actor_id, chat_record_ids=await self._managed_chat_ids(actor_id)
        )
        return [reminder for reminder in candidates if await self.may_manage(actor_id, reminder)]

    async def _managed_chat_ids(self, actor_id: int) -> list[int]:
        chat_ids = []
        for org_id in await self.permissions.managed_org_ids(actor_id):
            group = await self.chats.of_org(org_id)
            if group is not None:
                chat_ids.append(group.id)
        return chat_ids

    # ---- when -----------------------------------------------------------------------------
    def send_time(self, reminder: ReminderRecord) -> datetime:
        due = reminder.due_at
        if self.quiet is None or reminder.urgent:
            return due
        return self.quiet.release(due, self.zone)

    def release_time(self, due: datetime, *, urgent: bool = False) -> datetime:
        """When an occurrence due at `due` is sent: quiet hours hold back non-urgent ones."""
        if self.quiet is None or urgent:
            return due
        return self.quiet.release(due, self.zone)

    async def next_wake(self) -> datetime | None:
        times = [self.send_time(r) for r in await self.reminders.active()]
        return min(times) if times else None

    # ---- delivering -------------------------------------------------------------------------
    async def deliver_due(self, drain: Drain) -> list[Outcome]:
        """Queue every occurrence whose send time has come, then have the outbox send them;
        safe to call at any time, repeatedly. The outcomes say how each chat's delivery stands
        once the outbox has nothing more to send now ('sending': it will try again later)."""
        now = self.clock.now()
        queued: list[tuple[ReminderRecord, int, str]] = []
        for reminder in await self.reminders.active():
            if self.send_time(reminder) <= now:
                queued.append(await self._queue_occurrence(reminder, now))
        if any(outcome != "skipped" for _, _, outcome in queued):
            await drain()
        return [
            Outcome(reminder.id, reminder.due_at, outcome, await self.reminders.deliveries(occurrence_id))
            for reminder, occurrence_id, outcome in queued
        ]

    async def _queue_occurrence(self, reminder: ReminderRecord, now: datetime) -> tuple[ReminderRecord, int, str]:
        due = reminder.due_at
        lateness = now - self.send_time(reminder)
        if lateness > self.grace:
            outcome = "skipped"
            log.warning(
                "reminder %s occurrence %s is %s late (grace %s): skipped",
                reminder.id,
                due.isoformat(),
                lateness,
                self.grace,
            )
        else:
            outcome = "late" if lateness > LATE_AFTER else "sent"
        async with self.db.transaction():
            occurrence_id = await self.reminders.claim_occurrence(reminder.id, due, "sending", now)
            if occurrence_id is None:  # claimed by an older version that died mid-send: resume it
                occurrence_id = written(
                    await self.reminders.occurrence_id(reminder.id, due), f"occurrence {due} of reminder {reminder.id}"
                )
            if outcome != "skipped":
                await self._queue_messages(reminder, occurrence_id, late=outcome == "late")
            await self.reminders.finish_occurrence(occurrence_id, outcome, now)
            await self._advance(reminder)
        return reminder, occurrence_id, outcome

    async def _queue_messages(self, reminder: ReminderRecord, occurrence_id: int, *, late: bool) -> None:
        """One message per chat with no delivery record yet, each recorded as 'sending'."""
        already = await self.reminders.delivered_chats(occurrence_id)
        priority = Priority.NOTICE if reminder.urgent else Priority.BACKGROUND
        for chat_id in await self.targets(reminder):
            if chat_id in already or not await self.reminders.start_delivery(occurrence_id, chat_id, self.clock.now()):
                continue
            await self.outbox.enqueue(
                Notice(
                    REMINDER,
                    chat_id,
                    key=f"reminder:{occurrence_id}:{chat_id}",
                    params={"reminder": reminder.id, "occurrence": occurrence_id, "chat": chat_id, "late": late},
                    priority=priority,
                )
            )

    async def _delivery_ended(self, message: OutboxMessage, delivery: Delivery) -> None:
        """The outbox is done with one chat's message: its delivery record says how."""
        if delivery.state is OutboxState.SENT:
            status = SendStatus.SENT
        elif delivery.state is OutboxState.SKIPPED:
            status = SendStatus.NOTHING_TO_SAY
        elif delivery.gone:
            status = SendStatus.CHAT_GONE
            # The bot was removed (or the chat is no more): stop sending there.
            await self.chats.set_active(message.chat_id, False, self.clock.now())
        else:
            status = SendStatus.FAILED
        await self.reminders.finish_delivery(
            message.param("occurrence"),
            message.param("chat"),
            status,
            delivery.message_id,
            delivery.detail,
            self.clock.now(),
        )

    async def as_occurring(self, message: OutboxMessage) -> ReminderRecord | None:
        """The reminder of a queued message as it was at that occurrence (due then: its words
        may depend on the day), for the outbox's sender to word; None when it is gone."""
        reminder = await self.reminders.get(message.param("reminder"))
        due = await self.reminders.occurrence_due(message.param("occurrence"))
        if reminder is None or due is None:
            return None
        return replace(reminder, next_due_at=due)

    async def _advance(self, reminder: ReminderRecord) -> None:
        schedule = Schedule.from_json(reminder.schedule)
        # Stored times have whole seconds; step past the stored due time's whole second so that a
        # schedule holding finer times can never yield the same occurrence again.
        following = next_occurrence(schedule, after=reminder.due_at + timedelta(seconds=1) - _EPSILON, zone=self.zone)
        # A recurring reminder long overdue skips straight to its next future occurrence.
        while following is not None and following < self.clock.now() - self.grace:
            following = next_occurrence(schedule, after=following, zone=self.zone)
        current = await self.reminders.get(reminder.id)
        if current is None or current.state != "active":
            return
        await self.reminders.set_state(reminder.id, "active" if following else "finished", following)

    async def targets(self, reminder: ReminderRecord) -> list[int]:
        audience = self.audiences.get(reminder.subject_key or "")
        if audience is not None:
            return await audience(reminder)
        if reminder.target_kind == "person":
            return [] if reminder.target_id is None else [reminder.target_id]
        if reminder.target_kind == "hub":
            hub = await self.chats.hub()
            return [hub.chat_id] if hub and hub.active else []
        if reminder.target_kind == "all_groups":
            return [chat.chat_id for chat in await self.chats.bound() if chat.active]
        chat = await self.chats.by_id(reminder.target_id)
        return [chat.chat_id] if chat and chat.active else []
