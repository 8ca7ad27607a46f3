"""Activities: create, edit, cancel; sign-up with a waitlist. The two reminders before the start
are bot/domain/activity_reminders.py, kept in step here.

Catalog keys (handlers/locales/<lang>/activities_errors.toml, table [activities]):

    errors (DomainError key, params)
        activities.err_title_empty               -
        activities.err_title_too_long            length, max
        activities.err_place_empty               -
        activities.err_place_too_long            length, max
        activities.err_bad_location              -
        activities.err_end_not_after_start       start, end         (local "YYYY-MM-DD HH:MM")
        activities.err_start_in_past             start, now
        activities.err_end_in_past               end, now
        activities.err_span_too_long             days
        activities.err_slots_not_number          value
        activities.err_slots_out_of_range        value, max
        activities.err_slots_below_signed        slots, signed
        activities.err_expected_not_number       value
        activities.err_expected_out_of_range     value, max
        activities.err_served_not_number         value
        activities.err_served_out_of_range       value, max
        activities.err_radius_not_number         value
        activities.err_radius_out_of_range       value, min, max
        activities.err_not_member                org            (PermissionDenied)
        activities.err_not_organiser             title          (PermissionDenied)
        activities.err_not_found                 -
        activities.err_unknown_code              code
        activities.err_cancelled                 title, code
        activities.err_ended                     title, code
        activities.err_group_unknown             -
        activities.err_signup_elsewhere          -              (PermissionDenied)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import bounds
from bot.domain.activity_notices import promoted_notice, summary_notices
from bot.domain.activity_reminders import ActivityReminders
from bot.domain.activity_values import bounded, count_change, typed_change, typed_people, utc_second
from bot.domain.clock import Clock
from bot.domain.config import ActivitiesConfig
from bot.domain.errors import DomainError, PermissionDenied, one_line
from bot.domain.formatting import RenderText, local_text
from bot.domain.orgs import OrganisationService
from bot.domain.outbox import Outbox
from bot.domain.permissions import Permissions
from bot.domain.reminders import ReminderService
from bot.model.activity import Activity, Category, Place, SignupOutcome, SignupStatus
from bot.model.organisation import Organisation
from storage.activities import ActivityRepository
from storage.audit import AuditRepository
from storage.chats import ChatRepository
from storage.db import Database

__all__ = [
    "Activity",
    "ActivityDraft",
    "ActivityService",
    "Category",
    "Place",
    "Roster",
    "SignupResult",
    "WithdrawResult",
]

MAX_TITLE = 60
MAX_PLACE = 100
MAX_SLOTS = 500
MAX_EXPECTED = 10000
MIN_RADIUS, MAX_RADIUS = 50, 5000
MAX_SPAN_DAYS = 3
EDITABLE = frozenset(
    {"title", "category", "starts_at", "ends_at", "place", "slots", "expected_served", "counts_as_deed"}
)


@dataclass(frozen=True)
class ActivityDraft:
    """What the creation conversation collects."""

    org_id: int
    title: str
    category: Category
    starts_at: datetime  # aware
    ends_at: datetime
    place: Place
    slots: int
    expected_served: int
    counts_as_deed: bool
    also_hub: bool = False


@dataclass(frozen=True)
class Roster:
    signed: tuple[int, ...]  # user ids, in the order they got their place
    waitlist: tuple[int, ...]  # user ids, first in line first

    @property
    def count(self) -> int:
        return len(self.signed)


@dataclass(frozen=True)
class SignupResult:
    status: SignupOutcome
    roster: Roster


@dataclass(frozen=True)
class WithdrawResult:
    withdrew: bool
    promoted_user_id: int | None
    roster: Roster


class ActivityService:
    def __init__(
        self,
        db: Database,
        repo: ActivityRepository,
        orgs: OrganisationService,
        chats: ChatRepository,
        reminders: ReminderService,
        permissions: Permissions,
        audit: AuditRepository,
        clock: Clock,
        zone: ZoneInfo,
        settings: ActivitiesConfig,
        *,
        render_reminder: RenderText,
        outbox: Outbox,
    ) -> None:
        self.db = db
        self.repo = repo
        self.outbox = outbox
        self.orgs = orgs
        self.chats = chats
        self.permissions = permissions
        self.audit = audit
        self.clock = clock
        self.zone = zone
        self.settings = settings
        self.announcer = ActivityReminders(repo, chats, reminders, zone, render_reminder)

    def local_text(self, moment: datetime) -> str:
        """ "2026-11-28 09:00" in the configured zone (attendance and deeds word times with it)."""
        return local_text(moment, self.zone)

    # ---- validation (used by the conversation too) ----------------------------------------
    def check_title(self, text: str) -> str:
        return one_line(
            text,
            max_length=MAX_TITLE,
            empty_key="activities.err_title_empty",
            too_long_key="activities.err_title_too_long",
        )

    def check_place_text(self, text: str) -> str:
        return one_line(
            text,
            max_length=MAX_PLACE,
            empty_key="activities.err_place_empty",
            too_long_key="activities.err_place_too_long",
        )

    def check_place(self, place: Place) -> Place:
        text = self.check_place_text(place.text)
        latitude, longitude, radius = place.latitude, place.longitude, place.radius_m
        if (latitude is None) != (longitude is None):
            raise DomainError("activities.err_bad_location")
        if latitude is not None and longitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise DomainError("activities.err_bad_location")
        if radius is not None:
            if latitude is None:
                raise DomainError("activities.err_bad_location")
            radius = self.check_radius(radius)
        return Place(text, latitude, longitude, radius)

    def check_times(self, starts_at: datetime, ends_at: datetime) -> None:
        """End after start; start not in the past; at most three days long."""
        self._check_times(utc_second(starts_at), utc_second(ends_at), new_start=True)

    def _check_times(self, starts_at: datetime, ends_at: datetime, *, new_start: bool) -> None:
        for moment in (starts_at, ends_at):  # within the bot's dates, whoever computed them
            bounds.check_moment(moment)
        now = self.clock.now()
        if ends_at <= starts_at:
            raise DomainError(
                "activities.err_end_not_after_start", start=self.local_text(starts_at), end=self.local_text(ends_at)
            )
        if new_start and starts_at < now:
            raise DomainError(
                "activities.err_start_in_past", start=self.local_text(starts_at), now=self.local_text(now)
            )
        if ends_at <= now:
            raise DomainError("activities.err_end_in_past", end=self.local_text(ends_at), now=self.local_text(now))
        if ends_at - starts_at > timedelta(days=MAX_SPAN_DAYS):
            raise DomainError("activities.err_span_too_long", days=MAX_SPAN_DAYS)

    def check_slots(self, text: str | int) -> int:
        return bounded(text, "slots", 1, MAX_SLOTS)

    def check_expected(self, text: str | int) -> int:
        """People expected to be served, as typed: `30`, `30人`, `约 30 人`, `~30` are all 30."""
        return bounded(typed_people(text).number, "expected", 0, MAX_EXPECTED)

    def check_served(self, text: str | int) -> int:
        """People served, typed as `check_expected` reads it."""
        return bounded(typed_people(text).number, "served", 0, MAX_EXPECTED)

    def check_radius(self, text: str | int) -> int:
        return bounded(text, "radius", MIN_RADIUS, MAX_RADIUS, min=MIN_RADIUS)

    # ---- who ------------------------------------------------------------------------------
    async def organisations_for(self, user_id: int) -> list[Organisation]:
        """Organisations this person may create activities for (county admins: every active one)."""
        if await self.permissions.is_county_admin(user_id):
            return await self.orgs.list()
        found = []
        for org_id in await self.permissions.member_org_ids(user_id):
            org = await self.orgs.get(org_id)
            if org.active:
                found.append(org)
        return found

    async def can_organise(self, user_id: int, activity: Activity) -> bool:
        return await self.permissions.can_organise_activity(user_id, activity.org_id, activity.created_by)

    async def may_post_in_hub(self, user_id: int) -> bool:
        """Whether /newactivity offers (and accepts) posting in the county's hub group too."""
        return await self.permissions.is_county_admin(user_id)

    async def check_organiser(self, user_id: int, activity: Activity) -> None:
        """Asked before an organiser's screen (outside a transaction, so that a refusal, e.g. a
        departed organiser's old button, stays in the audit log)."""
        if not await self.can_organise(user_id, activity):
            raise await self.permissions.refused(
                user_id, "activities.err_not_organiser", f"activity:{activity.id}", title=activity.title
            )

    async def _require_organiser(self, user_id: int, activity: Activity) -> None:
        if not await self.can_organise(user_id, activity):
            raise PermissionDenied("activities.err_not_organiser", title=activity.title)

    def _require_running(self, activity: Activity) -> None:
        """Not cancelled and not over: sign-ups, withdrawals and edits are still possible."""
        if activity.cancelled:
            raise DomainError("activities.err_cancelled", title=activity.title, code=activity.code)
        if activity.ends_at <= self.clock.now():
            raise DomainError("activities.err_ended", title=activity.title, code=activity.code)

    # ---- lookup ---------------------------------------------------------------------------
    async def get(self, activity_id: int) -> Activity:
        activity = await self.repo.get(activity_id)
        if activity is None:
            raise DomainError("activities.err_not_found")
        return activity

    async def by_code(self, code: str) -> Activity:
        cleaned = unicodedata.normalize("NFKC", str(code)).strip().upper()
        activity = await self.repo.by_code(cleaned) if cleaned else None
        if activity is None:
            raise DomainError("activities.err_unknown_code", code=cleaned[:20])
        return activity

    async def upcoming_for_org(self, org_id: int) -> list[Activity]:
        return await self.repo.upcoming(self.clock.now(), org_ids=[org_id])

    async def list_for_user(self, user_id: int) -> list[Activity]:
        """Not cancelled, not ended: those of the person's organisations and those they signed up for
        (county admins: all)."""
        now = self.clock.now()
        if await self.permissions.is_county_admin(user_id):
            return await self.repo.upcoming(now)
        return await self.repo.upcoming(now, org_ids=await self.permissions.member_org_ids(user_id), user_id=user_id)

    # ---- create, edit, cancel -------------------------------------------------------------
    async def create(self, actor_id: int, draft: ActivityDraft) -> Activity:
        org = await self.orgs.get(draft.org_id)
        if not await self.permissions.can_create_activity(actor_id, draft.org_id):
            raise PermissionDenied("activities.err_not_member", org=org.name)
        await self.orgs.get_active(draft.org_id)
        title = self.check_title(draft.title)
        starts_at, ends_at = utc_second(draft.starts_at), utc_second(draft.ends_at)
        self._check_times(starts_at, ends_at, new_start=True)
        place = self.check_place(draft.place)
        slots = self.check_slots(draft.slots)
        expected = self.check_expected(draft.expected_served)
        category = Category(draft.category)
        now = self.clock.now()
        async with self.db.transaction():
            activity = await self.repo.add(
                org_id=draft.org_id,
                title=title,
                category=category,
                starts_at=starts_at,
                ends_at=ends_at,
                place=place,
                slots=slots,
                expected_served=expected,
                counts_as_deed=draft.counts_as_deed,
                also_hub=draft.also_hub,
                created_by=actor_id,
                now=now,
            )
            await self.audit.record(
                now,
                actor_id,
                "activity.create",
                f"activity:{activity.id}",
                org=draft.org_id,
                title=title,
                starts_at=self.local_text(starts_at),
            )
            await self.announcer.keep(activity)
        return activity

    async def edit(self, actor_id: int, activity_id: int, **changes: object) -> tuple[Activity, list[str], list[int]]:
        """Apply the changes; returns the activity, the names of the fields that really changed and
        the volunteers promoted from the waitlist (when slots were raised)."""
        unknown = changes.keys() - EDITABLE
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        async with self.db.transaction():
            activity = await self.get(activity_id)
            await self._require_organiser(actor_id, activity)
            self._require_running(activity)
            fields: dict[str, object] = {}
            changed: list[str] = []

            def put(name: str, value: object) -> None:
                fields[name] = value
                changed.append(name)

            if "title" in changes:
                title = self.check_title(typed_change(changes, "title", str))
                if title != activity.title:
                    put("title", title)
            if "category" in changes:
                category = Category(typed_change(changes, "category", str))
                if category != activity.category:
                    put("category", category.value)
            starts_at = utc_second(typed_change(changes, "starts_at", datetime, activity.starts_at))
            ends_at = utc_second(typed_change(changes, "ends_at", datetime, activity.ends_at))
            if (starts_at, ends_at) != (activity.starts_at, activity.ends_at):
                self._check_times(starts_at, ends_at, new_start=starts_at != activity.starts_at)
                for name, old, new in (
                    ("starts_at", activity.starts_at, starts_at),
                    ("ends_at", activity.ends_at, ends_at),
                ):
                    if new != old:
                        put(name, new)
            if "place" in changes:
                place = self.check_place(typed_change(changes, "place", Place))
                if place != activity.place:
                    fields.update(
                        place=place.text, latitude=place.latitude, longitude=place.longitude, radius_m=place.radius_m
                    )
                    changed.append("place")
            if "slots" in changes:
                slots = self.check_slots(count_change(changes, "slots"))
                signed = await self.repo.signed_count(activity_id)
                if slots < signed:
                    raise DomainError("activities.err_slots_below_signed", slots=slots, signed=signed)
                if slots != activity.slots:
                    put("slots", slots)
            if "expected_served" in changes:
                expected = self.check_expected(count_change(changes, "expected_served"))
                if expected != activity.expected_served:
                    put("expected_served", expected)
            if "counts_as_deed" in changes:
                deed = bool(changes["counts_as_deed"])
                if deed != activity.counts_as_deed:
                    put("counts_as_deed", deed)
            if not changed:
                return activity, [], []
            await self.repo.update(activity_id, **fields)
            updated = await self.get(activity_id)
            promoted = await self._fill_from_waitlist(updated) if "slots" in changed else []
            await self.audit.record(
                self.clock.now(),
                actor_id,
                "activity.edit",
                f"activity:{activity_id}",
                changed=changed,
                promoted=promoted,
            )
            await self.announcer.keep(updated)
        return updated, changed, promoted

    async def cancel(self, actor_id: int, activity_id: int) -> Activity:
        async with self.db.transaction():
            activity = await self.get(activity_id)
            await self._require_organiser(actor_id, activity)
            self._require_running(activity)
            await self.repo.set_state(activity_id, "cancelled")
            await self.audit.record(self.clock.now(), actor_id, "activity.cancel", f"activity:{activity_id}")
            await self.announcer.cancel(activity_id)
        return await self.get(activity_id)

    async def confirm_served(self, actor_id: int, activity_id: int, n: int | str) -> Activity:
        """The organiser confirms how many people were served (feeds the person-time counts)."""
        served = self.check_served(n)
        async with self.db.transaction():
            activity = await self.get(activity_id)
            await self._require_organiser(actor_id, activity)
            if activity.cancelled:
                raise DomainError("activities.err_cancelled", title=activity.title, code=activity.code)
            await self.repo.set_served(activity_id, served)
            await self.audit.record(
                self.clock.now(),
                actor_id,
                "activity.served",
                f"activity:{activity_id}",
                old=activity.served_confirmed,
                new=served,
            )
        return await self.get(activity_id)

    # ---- sign-up --------------------------------------------------------------------------
    async def roster(self, activity_id: int) -> Roster:
        signed = await self.repo.signups(activity_id, SignupStatus.SIGNED)
        waiting = await self.repo.signups(activity_id, SignupStatus.WAITLISTED)
        return Roster(tuple(s.user_id for s in signed), tuple(s.user_id for s in waiting))

    async def sign_up(self, user_id: int, activity_id: int, *, chat_id: int) -> SignupResult:
        """`chat_id`: the chat where the sign-up button was tapped (see `_may_sign_up_from`)."""
        async with self.db.transaction():
            activity = await self.get(activity_id)
            if not await self._may_sign_up_from(user_id, activity, chat_id):
                raise PermissionDenied("activities.err_signup_elsewhere")
            self._require_running(activity)
            existing = await self.repo.signup(activity_id, user_id)
            if existing is not None and existing.status is SignupStatus.SIGNED:
                status = SignupOutcome.ALREADY_SIGNED
            elif existing is not None and existing.status is SignupStatus.WAITLISTED:
                status = SignupOutcome.ALREADY_WAITLISTED
            else:
                full = await self.repo.signed_count(activity_id) >= activity.slots
                place = SignupStatus.WAITLISTED if full else SignupStatus.SIGNED
                await self.repo.add_signup(activity_id, user_id, place, self.clock.now())
                status = SignupOutcome(place.value)
                if place is SignupStatus.SIGNED:
                    await self.announcer.keep(activity)
            roster = await self.roster(activity_id)
        return SignupResult(status, roster)

    async def _may_sign_up_from(self, user_id: int, activity: Activity, chat_id: int) -> bool:
        """Only someone who may see the activity's group signs up for it. A tap from a group the
        activity is posted in (or its organisation's group, or the hub when it is posted there)
        proves that: Telegram sends a button's tap only from the chat the message is in, to people
        in that chat, so no membership question to Telegram is needed. Anywhere else (a forged
        tap in the private chat or in another group) only its organisation's cadres and county
        admins may: they run that group. Withdrawing needs no such check: it touches only the
        person's own place."""
        shown_in = {posted_in for posted_in, _message in await self.repo.posts(activity.id)}
        group = await self.chats.of_org(activity.org_id)
        hub = await self.chats.hub() if activity.also_hub else None
        shown_in.update(chat.chat_id for chat in (group, hub) if chat is not None and chat.active)
        if chat_id in shown_in:
            return True
        if await self.permissions.is_county_admin(user_id):
            return True
        return activity.org_id in await self.permissions.member_org_ids(user_id)

    async def withdraw(self, user_id: int, activity_id: int) -> WithdrawResult:
        """Give the place up; the first on the waitlist gets it (the caller tells them privately)."""
        async with self.db.transaction():
            activity = await self.get(activity_id)
            self._require_running(activity)
            existing = await self.repo.signup(activity_id, user_id)
            if existing is None or existing.status is SignupStatus.WITHDRAWN:
                return WithdrawResult(False, None, await self.roster(activity_id))
            await self.repo.set_signup_status(activity_id, user_id, SignupStatus.WITHDRAWN, self.clock.now())
            promoted: int | None = None
            if existing.status is SignupStatus.SIGNED:
                moved = await self._fill_from_waitlist(activity)
                promoted = moved[0] if moved else None
                await self.announcer.keep(activity)
            roster = await self.roster(activity_id)
        return WithdrawResult(True, promoted, roster)

    async def _fill_from_waitlist(self, activity: Activity) -> list[int]:
        """The first on the waitlist take the free places, each told privately (the outbox)."""
        free = activity.slots - await self.repo.signed_count(activity.id)
        if free <= 0:
            return []
        moved = [s.user_id for s in (await self.repo.signups(activity.id, SignupStatus.WAITLISTED))[:free]]
        now = self.clock.now()
        for user_id in moved:
            await self.repo.set_signup_status(activity.id, user_id, SignupStatus.SIGNED, now)
            await self.outbox.enqueue(promoted_notice(activity.id, user_id, now))
        return moved

    # ---- reminders ------------------------------------------------------------------------
    async def follow_group(self, org_id: int) -> None:
        """The organisation's group was bound, replaced or released: its coming activities'
        reminders go to the group it has now, or nowhere."""
        await self.announcer.follow_group(org_id, self.clock.now())

    # ---- posts and summaries --------------------------------------------------------------
    async def record_post(self, activity_id: int, chat_id: int, message_id: int) -> None:
        chat = await self.chats.get(chat_id)
        if chat is None:
            raise DomainError("activities.err_group_unknown")
        await self.repo.record_post(activity_id, chat.id, message_id)

    async def posts(self, activity_id: int) -> list[tuple[int, int]]:
        """(current Telegram chat id, message id) of the announcements, following supergroup upgrades."""
        return await self.repo.posts(activity_id)

    async def due_summaries(self, now: datetime) -> list[Activity]:
        """Ended, not cancelled, no summary sent yet."""
        return await self.repo.ended_unsummarised(now)

    async def mark_summary_sent(self, activity_id: int) -> bool:
        """True for the first caller only, so a summary goes out once."""
        return await self.repo.mark_summary_sent(activity_id, self.clock.now())

    async def queue_summary(self, activity: Activity) -> bool:
        """The activity's summary, queued once (True for the first caller only): to every chat it
        was posted in, and the organiser's (asking how many were served) in private."""
        async with self.db.transaction():
            if not await self.mark_summary_sent(activity.id):
                return False
            chats = [chat_id for chat_id, _ in await self.repo.posts(activity.id)]
            for notice in summary_notices(activity, chats):
                await self.outbox.enqueue(notice)
        return True
