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

Catching up after downtime (one pass, one transaction, oldest first), like the summaries'
catch-up (bot/domain/catch_up.py), with the same window (`[catch_up] window_hours`):
- an occurrence found more than two minutes after its send time is late; at most the window late,
  it is still sent: a chat owed one late occurrence gets the usual message, marked late; a chat
  owed several gets one message listing them, oldest first (20 to a message), each delivery
  recorded 'sending' as always and ended by that listing's outcome (`_listing_ended`);
- an occurrence more than the window late is not sent (recorded as skipped); the county admins
  get one message listing those (the first 20 by their words, and the count);
- a recurring reminder that missed several occurrences is caught up by its latest one only.
`[reminders] grace_minutes` no longer decides anything (the window does); a config that sets it
still loads. Non-urgent occurrences due in the quiet hours are sent when the quiet hours end.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.catch_up import REMINDERS_TOGETHER, STALE_REMINDERS, listing, parse_ids, per_chat_notices
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
OCCURRENCES = "occurrences"  # a listing's param: the occurrence ids it names


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
        window: timedelta,
        county_admins: Sequence[int],
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
        self.window = window  # how late an occurrence is still sent ([catch_up] window_hours)
        self.county_admins = tuple(county_admins)
        self.quiet = quiet
        self.outbox = outbox
        outbox.listen(REMINDER, self._delivery_ended)
        outbox.listen(REMINDERS_TOGETHER, self._listing_ended)
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
        """Queue every occurrence whose send time has come (all in one transaction, so a chat's
        late ones can be listed together), then have the outbox send them; safe to call at any
        time, repeatedly. The outcomes say how each chat's delivery stands once the outbox has
        nothing more to send now ('sending': it will try again later)."""
        now = self.clock.now()
        async with self.db.transaction():
            taken = await self._take_due(now)
            await self._queue(taken, now)
        if any(item.outcome != "skipped" for item in taken):
            await drain()
        return [
            Outcome(
                item.reminder.id,
                item.reminder.due_at,
                item.outcome,
                await self.reminders.deliveries(item.occurrence_id),
            )
            for item in taken
        ]

    async def _take_due(self, now: datetime) -> list[_Taken]:
        """Claim each occurrence whose send time has come and say what it gets, oldest first."""
        taken = []
        for reminder in await self.reminders.active():
            if self.send_time(reminder) > now:
                continue
            reminder = await self._latest_missed(reminder, now)
            if self.send_time(reminder) > now:
                continue
            lateness = now - self.send_time(reminder)
            if lateness <= LATE_AFTER:
                outcome = "sent"
            elif lateness <= self.window:
                outcome = "late"
            else:
                outcome = "skipped"
                log.warning(
                    "reminder %s occurrence %s is %s late (catch-up window %s): not sent",
                    reminder.id,
                    reminder.due_at.isoformat(),
                    lateness,
                    self.window,
                )
            due = reminder.due_at
            occurrence_id = await self.reminders.claim_occurrence(reminder.id, due, "sending", now)
            if occurrence_id is None:  # claimed by an older version that died mid-send: resume it
                occurrence_id = written(
                    await self.reminders.occurrence_id(reminder.id, due), f"occurrence {due} of reminder {reminder.id}"
                )
            taken.append(_Taken(reminder, occurrence_id, outcome))
        return sorted(taken, key=lambda item: (item.reminder.due_at, item.occurrence_id))

    async def _latest_missed(self, reminder: ReminderRecord, now: datetime) -> ReminderRecord:
        """A recurring reminder that missed several occurrences is caught up by its latest one:
        "每日安全提示" once, not once per day the bot was down (the earlier ones are passed over)."""
        schedule = Schedule.from_json(reminder.schedule)
        due = reminder.due_at
        following = self._following(schedule, due)
        while following is not None and following <= now:
            due, following = following, self._following(schedule, following)
        if due == reminder.due_at:
            return reminder
        log.info("reminder %s: occurrences %s to %s passed over for the latest", reminder.id, reminder.due_at, due)
        await self.reminders.set_state(reminder.id, "active", due)
        return replace(reminder, next_due_at=due)

    async def _queue(self, taken: Sequence[_Taken], now: datetime) -> None:
        """Each chat's messages, as the module says; then each occurrence is finished and its
        reminder moves on."""
        late_per_chat: dict[int, list[_Taken]] = {}
        for item in taken:
            if item.outcome == "skipped":
                continue
            chats = await self._open_chats(item, now)
            # Urgent occurrences stay their own message, at their own priority (a notice, ahead
            # of broadcasts): listed with the rest they would wait at the listing's background
            # priority and read like one more line. Digests and computed texts have no words of
            # their own to list; they are worded per chat when sent.
            if item.outcome == "late" and not item.reminder.urgent and self._has_words(item.reminder):
                for chat_id in chats:
                    late_per_chat.setdefault(chat_id, []).append(item)
                continue
            for chat_id in chats:
                await self.outbox.enqueue(_notice(item, chat_id))
        # A chat owed one late occurrence gets the usual message, marked late; several, a listing.
        for notice in per_chat_notices(late_per_chat, lambda chat_id, item: _notice(item, chat_id), _together):
            await self.outbox.enqueue(notice)
        stale = [item for item in taken if item.outcome == "skipped" and self._has_words(item.reminder)]
        if stale:
            ids = [item.occurrence_id for item in stale]
            for admin in self.county_admins:
                key = f"reminders:stale:{ids[0]}-{ids[-1]}:{admin}"
                await self.outbox.enqueue(listing(STALE_REMINDERS, admin, key, OCCURRENCES, ids, Priority.BACKGROUND))
        for item in taken:
            await self.reminders.finish_occurrence(item.occurrence_id, item.outcome, now)
            await self._advance(item.reminder)

    def _has_words(self, reminder: ReminderRecord) -> bool:
        """Its own text, the same for every chat (not a digest, nor a text computed when due)."""
        return (
            reminder.content_kind == "text"
            and bool(reminder.text.strip())
            and (reminder.subject_key or "") not in self.audiences
        )

    async def _open_chats(self, item: _Taken, now: datetime) -> list[int]:
        """The chats this occurrence goes to with no delivery record yet, each now recorded as
        'sending' (a chat with any record is never sent this occurrence again)."""
        already = await self.reminders.delivered_chats(item.occurrence_id)
        return [
            chat_id
            for chat_id in await self.targets(item.reminder)
            if chat_id not in already and await self.reminders.start_delivery(item.occurrence_id, chat_id, now)
        ]

    async def _delivery_ended(self, message: OutboxMessage, delivery: Delivery) -> None:
        """The outbox is done with one chat's message: its delivery record says how."""
        await self._record_end([message.param("occurrence")], message, delivery)

    async def _listing_ended(self, message: OutboxMessage, delivery: Delivery) -> None:
        """A chat's listing of late occurrences ended: so did each listed occurrence's delivery."""
        await self._record_end(parse_ids(message.params.get(OCCURRENCES)), message, delivery)

    async def _record_end(self, occurrence_ids: Sequence[int], message: OutboxMessage, delivery: Delivery) -> None:
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
        for occurrence_id in occurrence_ids:
            await self.reminders.finish_delivery(
                occurrence_id, message.param("chat"), status, delivery.message_id, delivery.detail, self.clock.now()
            )

    async def as_occurring(self, message: OutboxMessage) -> ReminderRecord | None:
        """The reminder of a queued message as it was at that occurrence (due then: its words
        may depend on the day), for the outbox's sender to word; None when it is gone."""
        return await self.occurring(message.param("occurrence"))

    async def occurring(self, occurrence_id: int) -> ReminderRecord | None:
        """The reminder as it was at this occurrence (`next_due_at` is when it was due); None
        when it is gone."""
        found = await self.reminders.occurrence(occurrence_id)
        reminder = None if found is None else await self.reminders.get(found[0])
        if found is None or reminder is None:
            return None
        return replace(reminder, next_due_at=found[1])

    def _following(self, schedule: Schedule, due: datetime) -> datetime | None:
        # Stored times have whole seconds; step past the stored due time's whole second so that a
        # schedule holding finer times can never yield the same occurrence again.
        return next_occurrence(schedule, after=due + timedelta(seconds=1) - _EPSILON, zone=self.zone)

    async def _advance(self, reminder: ReminderRecord) -> None:
        following = self._following(Schedule.from_json(reminder.schedule), reminder.due_at)
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


@dataclass(frozen=True)
class _Taken:
    """An occurrence claimed in this pass: the reminder as at it, and what it gets."""

    reminder: ReminderRecord  # next_due_at: this occurrence's due time
    occurrence_id: int
    outcome: str  # sent | late | skipped


def _together(chat_id: int, listed: Sequence[_Taken]) -> Notice:
    """One chat's listing of several late occurrences, oldest first."""
    key = f"reminders:{listed[0].occurrence_id}-{listed[-1].occurrence_id}:{chat_id}"
    ids = [item.occurrence_id for item in listed]
    return listing(REMINDERS_TOGETHER, chat_id, key, OCCURRENCES, ids, Priority.BACKGROUND, chat=chat_id)


def _notice(item: _Taken, chat_id: int) -> Notice:
    """One chat's message for one occurrence."""
    return Notice(
        REMINDER,
        chat_id,
        key=f"reminder:{item.occurrence_id}:{chat_id}",
        params={
            "reminder": item.reminder.id,
            "occurrence": item.occurrence_id,
            "chat": chat_id,
            "late": item.outcome == "late",
        },
        priority=Priority.NOTICE if item.reminder.urgent else Priority.BACKGROUND,
    )
