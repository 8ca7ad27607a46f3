"""Practical deeds (实事): recorded from a finished activity marked as a deed, or entered directly;
each organisation's yearly quota (organisations.deeds_quota, from its kind, editable) against
what it has done, and who is behind their pace.

Behind pace, on a given day of the year: fewer deeds done than the quota times the share of the
year elapsed, rounded down (a quota of 3 needs 1 by the 5th month, 2 by the 9th), or none done at
all from 1 July on (mid-year) while a quota is owed.

Catalog keys raised (handlers/locales/<lang>/stats_errors.toml, table [stats]):

    stats.err_deed_title_empty            max
    stats.err_deed_title_too_long         length, max
    stats.err_deed_note_too_long          length, max
    stats.err_deed_date_in_future         date, today
    stats.err_deed_date_too_old           date
    stats.err_deed_not_member             org
    stats.err_deed_activity_not_deed      title, code
    stats.err_deed_activity_not_ended     title, code, end
and activities.err_not_organiser, activities.err_cancelled, activities.err_not_found,
orgs.not_found, orgs.archived from the services used.

Behind-pace reminders (`PaceReminders`): one recurring system reminder (subject `deeds:behind`,
schedule `[deeds] behind_reminders`, default 09:00 on 1 July and 1 October) whose audience and
words are computed when it is due: each organisation behind its pace on that day is told in its
bound group, or, without an active group, through its admins privately; county admins get the
list of everyone behind. Delivery is the reminder scheduler's (exactly once per chat).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from bot.domain.activities import ActivityService
from bot.domain.clock import Clock
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.orgs import OrganisationService
from bot.domain.permissions import Permissions
from bot.domain.reminders import ReminderService
from bot.domain.schedule_grammar import parse_schedule
from bot.model.organisation import Binding, Organisation, Role
from bot.model.reminder import ReminderRecord
from bot.model.report import Deed, DeedCandidate
from storage.audit import AuditRepository
from storage.chats import ChatRepository
from storage.db import Database
from storage.memberships import MembershipRepository
from storage.reports import DeedCandidateRepository, DeedRepository

MAX_TITLE = 60
MAX_NOTE = 500
OLDEST_YEAR = 2000
BEHIND_SUBJECT = "deeds:behind"


@dataclass(frozen=True)
class DeedProgress:
    org: Organisation
    quota: int
    done: int
    behind: bool


def due_by(quota: int, year: int, today: date) -> int:
    """Deeds that should be done by `today` at an even pace: quota × elapsed share, rounded down."""
    if today.year < year:
        return 0
    if today.year > year:
        return quota
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    elapsed = (today - date(year, 1, 1)).days + 1
    return math.floor(quota * elapsed / days)


def expected_by(quota: int, done: int, year: int, today: date) -> int:
    """What an organisation behind its pace should have done by `today`: the pace's due count,
    and at least one from 1 July on (the mid-year rule); 0 when it is not behind."""
    if not is_behind(quota, done, year, today):
        return 0
    return max(due_by(quota, year, today), 1)


def is_behind(quota: int, done: int, year: int, today: date) -> bool:
    if quota <= 0:
        return False
    if done < due_by(quota, year, today):
        return True
    return done == 0 and today >= date(year, 7, 1)


class DeedService:
    def __init__(
        self,
        db: Database,
        deeds: DeedRepository,
        activities: ActivityService,
        orgs: OrganisationService,
        permissions: Permissions,
        audit: AuditRepository,
        clock: Clock,
        zone: ZoneInfo,
    ) -> None:
        self.db = db
        self.deeds = deeds
        self.activities = activities
        self.orgs = orgs
        self.permissions = permissions
        self.audit = audit
        self.clock = clock
        self.zone = zone
        self.candidates = DeedCandidateRepository(db)

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    # ---- validation ---------------------------------------------------------------------------
    @staticmethod
    def check_title(text: str) -> str:
        title = " ".join(str(text or "").split())
        if not title:
            raise DomainError("stats.err_deed_title_empty", max=MAX_TITLE)
        if len(title) > MAX_TITLE:
            raise DomainError("stats.err_deed_title_too_long", length=len(title), max=MAX_TITLE)
        return title

    @staticmethod
    def check_note(text: str | None) -> str | None:
        note = str(text or "").strip()
        if len(note) > MAX_NOTE:
            raise DomainError("stats.err_deed_note_too_long", length=len(note), max=MAX_NOTE)
        return note or None

    def check_date(self, done_on: date) -> date:
        today = self.today()
        if done_on > today:
            raise DomainError("stats.err_deed_date_in_future", date=done_on.isoformat(), today=today.isoformat())
        if done_on.year < OLDEST_YEAR:
            raise DomainError("stats.err_deed_date_too_old", date=done_on.isoformat())
        return done_on

    # ---- recording ----------------------------------------------------------------------------
    async def record_from_activity(self, actor_id: int, activity_id: int) -> Deed:
        """The deed of an ended, not cancelled activity marked as a deed; recording it twice gives
        back the first deed. Its organiser, the organisation's admins and county admins may."""
        activity = await self.activities.get(activity_id)
        if not await self.activities.can_organise(actor_id, activity):
            raise PermissionDenied("activities.err_not_organiser", title=activity.title)
        existing = await self.deeds.by_activity(activity_id)
        if existing is not None:
            return existing
        if activity.cancelled:
            raise DomainError("activities.err_cancelled", title=activity.title, code=activity.code)
        if not activity.counts_as_deed:
            raise DomainError("stats.err_deed_activity_not_deed", title=activity.title, code=activity.code)
        now = self.clock.now()
        if activity.ends_at > now:
            raise DomainError(
                "stats.err_deed_activity_not_ended",
                title=activity.title,
                code=activity.code,
                end=self.activities.local_text(activity.ends_at),
            )
        done_on = activity.starts_at.astimezone(self.zone).date()
        async with self.db.transaction():
            deed, made = await self.deeds.add_of_activity(
                org_id=activity.org_id,
                title=activity.title,
                done_on=done_on,
                activity_id=activity.id,
                created_by=actor_id,
                now=now,
            )
            if not made:  # recorded meanwhile by someone else
                return deed
            await self.audit.record(
                now, actor_id, "deed.record", f"deed:{deed.id}", org=deed.org_id, activity=activity.id
            )
        return deed

    async def record(
        self,
        actor_id: int,
        org_id: int,
        title: str,
        done_on: date,
        evidence_file_id: str | None = None,
        note: str | None = None,
    ) -> Deed:
        """A deed entered directly: by the organisation's members (cadres, admins) or county admins."""
        org = await self.orgs.get(org_id)
        if not await self.permissions.can_act_for_org(actor_id, org_id):
            raise PermissionDenied("stats.err_deed_not_member", org=org.name)
        await self.orgs.get_active(org_id)
        title = self.check_title(title)
        note = self.check_note(note)
        done_on = self.check_date(done_on)
        evidence = str(evidence_file_id).strip() if evidence_file_id else None
        now = self.clock.now()
        async with self.db.transaction():
            deed = await self.deeds.add(
                org_id=org_id,
                title=title,
                done_on=done_on,
                evidence_file_id=evidence,
                note=note,
                created_by=actor_id,
                now=now,
            )
            await self.audit.record(now, actor_id, "deed.record", f"deed:{deed.id}", org=org_id)
        return deed

    async def of_org(self, org_id: int, year: int) -> list[Deed]:
        return await self.deeds.between(date(year, 1, 1), date(year, 12, 31), org_id)

    # ---- progress -------------------------------------------------------------------------------
    async def progress(self, year: int, today: date | None = None) -> list[DeedProgress]:
        """Every active organisation that owes deeds (or has done some) that year, by id."""
        today = today or self.today()
        done = await self.deeds.counts(date(year, 1, 1), date(year, 12, 31))
        return [
            DeedProgress(
                org, org.deeds_quota, done.get(org.id, 0), is_behind(org.deeds_quota, done.get(org.id, 0), year, today)
            )
            for org in await self.orgs.list()
            if org.deeds_quota > 0 or done.get(org.id, 0) > 0
        ]

    async def county_progress(self, actor_id: int, year: int, today: date | None = None) -> list[DeedProgress]:
        """`progress`, asked by a person: the county's list is for county admins."""
        await self.permissions.require_county_admin(actor_id)
        return await self.progress(year, today)

    async def behind(self, year: int, today: date) -> list[DeedProgress]:
        return [item for item in await self.progress(year, today) if item.behind]

    async def org_progress(self, org_id: int, year: int, today: date | None = None) -> DeedProgress:
        today = today or self.today()
        org = await self.orgs.get(org_id)
        done = (await self.deeds.counts(date(year, 1, 1), date(year, 12, 31))).get(org_id, 0)
        return DeedProgress(org, org.deeds_quota, done, is_behind(org.deeds_quota, done, year, today))

    # ---- who ------------------------------------------------------------------------------------
    async def oversees_county(self, user_id: int) -> bool:
        """Whether /deeds shows this person the county's list (county admins) rather than their own."""
        return await self.permissions.is_county_admin(user_id)

    async def own_org_ids(self, user_id: int) -> list[int]:
        """The organisations whose deeds /deeds shows this person: each they are a member of,
        archived ones too (what was done stays readable), and the village branches of the
        township committees they administer (bot/domain/permissions.py's tree rule)."""
        return await self.permissions.acting_org_ids(user_id)

    async def orgs_for(self, user_id: int) -> list[Organisation]:
        """Organisations this person may record deeds for (county admins: every active one)."""
        return await self.activities.organisations_for(user_id)

    async def unrecorded_activities(self, actor_id: int, org_id: int) -> list[DeedCandidate]:
        """The organisation's ended activities marked as deeds that have no deed yet, newest first."""
        org = await self.orgs.get(org_id)
        if not await self.permissions.can_act_for_org(actor_id, org_id):
            raise PermissionDenied("stats.err_deed_not_member", org=org.name)
        return await self.candidates.unrecorded(org_id, self.clock.now())


@dataclass(frozen=True)
class PaceNotice:
    """What one chat is told on a behind-pace day: its organisations behind (its own group's, or
    those it administers without a group) and, for a county admin, everyone behind."""

    day: date
    own: list[DeedProgress]
    county: list[DeedProgress] | None  # None: not a county admin

    @property
    def empty(self) -> bool:
        return not self.own and not self.county


class PaceReminders:
    """The behind-pace reminder: kept as one system reminder; audience and words at send time."""

    def __init__(
        self,
        deeds: DeedService,
        reminders: ReminderService,
        chats: ChatRepository,
        memberships: MembershipRepository,
        permissions: Permissions,
        zone: ZoneInfo,
    ) -> None:
        self.deeds = deeds
        self.reminders = reminders
        self.chats = chats
        self.memberships = memberships
        self.permissions = permissions
        self.zone = zone

    async def keep(self, when: str) -> None:
        """ "" in the configuration switches the reminders off."""
        if not when:
            await self.reminders.cancel_subject(BEHIND_SUBJECT)
            return
        schedule = parse_schedule(when, now=self.reminders.clock.now(), zone=self.zone)
        await self.reminders.set_for_subject(BEHIND_SUBJECT, "all_groups", None, "", schedule)

    def day_of(self, reminder: ReminderRecord) -> date:
        """The local day the occurrence is due: a late send still speaks of that day."""
        return reminder.due_at.astimezone(self.zone).date()

    async def _reach(self, item: DeedProgress) -> tuple[int | None, list[int]]:
        """The organisation's active bound group, else its admins."""
        group = await self.chats.of_org(item.org.id)
        if group is not None and group.active:
            return group.chat_id, []
        return None, [m.user_id for m in await self.memberships.of_org(item.org.id, Role.ORG_ADMIN)]

    async def audience(self, reminder: ReminderRecord) -> list[int]:
        day = self.day_of(reminder)
        behind = await self.deeds.behind(day.year, day)
        if not behind:
            return []
        chat_ids: list[int] = []
        for item in behind:
            group, admins = await self._reach(item)
            chat_ids.extend([group] if group is not None else admins)
        chat_ids.extend(await self.permissions.county_admin_ids())
        return list(dict.fromkeys(chat_ids))

    async def notice_for(self, chat_id: int, day: date) -> PaceNotice:
        behind = await self.deeds.behind(day.year, day)
        chat = await self.chats.get(chat_id)
        if chat is not None:  # a group: only its own organisation, if bound to one
            own = [item for item in behind if chat.binding is Binding.ORG and item.org.id == chat.org_id]
            return PaceNotice(day, own, None)
        own = []
        for item in behind:
            group, admins = await self._reach(item)
            if group is None and chat_id in admins:
                own.append(item)
        county = behind if await self.permissions.is_county_admin(chat_id) else None
        return PaceNotice(day, own, county)
