"""Volunteer check-in and check-out from a group chat, the time credited, organiser corrections.

Check-in window: from `checkin_opens_before_minutes` before the start to
`checkin_closes_after_minutes` after the end. The activities a group chat can check in to are
those of the organisation bound to it (for the hub: those published with `also_hub`).

Credit rule: check-out − check-in, the check-in counted from the start at the earliest, the
check-out to the end at the latest; a missing check-out counts up to the end when
`credit_missing_checkout`, else as nothing; rounded down to whole `credit_rounding_minutes`.

Catalog keys raised (handlers/locales/<lang>/activities_errors.toml, table [checkin]):

    checkin.err_reason_required          max
    checkin.err_reason_too_long          length, max
    checkin.err_checkin_time_required    -
    checkin.err_time_outside_window      opens, closes     (local "YYYY-MM-DD HH:MM")
    checkin.err_time_in_future           now
    checkin.err_checkout_before_checkin  -
    checkin.err_unknown_person           -
    checkin.err_no_record                -
    checkin.err_not_signed_up            -
    checkin.err_already_checked_in       -
    checkin.err_no_show_too_early        start
and from bot/activities.py: activities.err_not_organiser, activities.err_cancelled, activities.err_not_found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.activities import ActivityService
from bot.domain.clock import Clock
from bot.domain.config import ActivitiesConfig
from bot.domain.errors import DomainError, PermissionDenied
from bot.model.activity import Activity, AttendanceRecord, Timed
from bot.model.organisation import Binding, ChatRecord
from storage.activities import ActivityRepository
from storage.audit import AuditRepository
from storage.chats import ChatRepository
from storage.db import Database

MAX_REASON = 200
EARTH_RADIUS_M = 6_371_000.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class CheckInResult:
    # "checked_in" | "already" | "not_open" | "closed" | "ambiguous" | "none_open" | "outside_radius"
    # | "unknown_code" | "no_location"
    outcome: str
    activity: Activity | None = None
    walk_in: bool = False
    opens_at: datetime | None = None
    codes: tuple[str, ...] = ()
    distance_m: int | None = None


@dataclass(frozen=True)
class CheckOutResult:
    # "checked_out" | "already" | "not_checked_in" | "closed" | "ambiguous" | "none_open" | "unknown_code"
    outcome: str
    activity: Activity | None = None
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttendanceLine:
    user_id: int
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    walk_in: bool
    no_show: bool
    credited_minutes: int


@dataclass(frozen=True)
class ActivitySummary:
    volunteers: int  # people who attended (checked in, not a no-show, not removed)
    volunteer_minutes: int  # credited minutes, all volunteers together
    served: int  # confirmed number served, else the expected number
    no_shows: int
    walk_ins: int  # of the volunteers, how many had not signed up


@dataclass(frozen=True)
class MyYear:
    activities: tuple[tuple[Activity, int], ...]  # (activity, credited minutes), by start
    total_minutes: int
    person_times: int  # activities attended


class AttendanceService:
    def __init__(
        self,
        db: Database,
        repo: ActivityRepository,
        activities: ActivityService,
        chats: ChatRepository,
        audit: AuditRepository,
        clock: Clock,
        settings: ActivitiesConfig,
    ) -> None:
        self.db = db
        self.repo = repo
        self.activities = activities
        self.chats = chats
        self.audit = audit
        self.clock = clock
        self.settings = settings

    # ---- the window -----------------------------------------------------------------------
    def opens_at(self, activity: Activity) -> datetime:
        return activity.starts_at - timedelta(minutes=self.settings.checkin_opens_before_minutes)

    def closes_at(self, activity: Activity) -> datetime:
        return activity.ends_at + timedelta(minutes=self.settings.checkin_closes_after_minutes)

    def is_open(self, activity: Activity, now: datetime) -> bool:
        return self.opens_at(activity) <= now <= self.closes_at(activity)

    def _today(self, moment: datetime, now: datetime) -> bool:
        zone = self.activities.zone
        return moment.astimezone(zone).date() == now.astimezone(zone).date()

    @staticmethod
    def _belongs(activity: Activity, chat: ChatRecord) -> bool:
        if activity.cancelled:
            return False
        if chat.binding is Binding.ORG:
            return activity.org_id == chat.org_id
        return chat.binding is Binding.HUB and activity.also_hub

    async def _chat(self, chat_id: int) -> ChatRecord | None:
        chat = await self.chats.get(chat_id)
        return chat if chat is not None and chat.binding is not None else None

    async def _around(self, chat: ChatRecord, now: datetime) -> list[Activity]:
        """This chat's activities overlapping the day around now (enough for today's questions)."""
        return await self.repo.published_around(
            org_id=chat.org_id if chat.binding is Binding.ORG else None,
            hub=chat.binding is Binding.HUB,
            ends_after=now - timedelta(days=1),
            starts_before=now + timedelta(days=1),
        )

    async def _by_code(self, chat: ChatRecord, code: str) -> Activity | None:
        try:
            activity = await self.activities.by_code(code)
        except DomainError:
            return None
        return activity if self._belongs(activity, chat) else None

    def _not_open_yet_or_closed(self, around: list[Activity], now: datetime) -> CheckInResult:
        """Nothing open now: the next one today (when it opens), else the last one closed today."""
        later = [a for a in around if now < self.opens_at(a) and self._today(a.starts_at, now)]
        if later:
            first = min(later, key=lambda a: (self.opens_at(a), a.id))
            return CheckInResult("not_open", first, opens_at=self.opens_at(first))
        closed = [a for a in around if self.closes_at(a) < now and self._today(self.closes_at(a), now)]
        if closed:
            return CheckInResult("closed", max(closed, key=lambda a: (self.closes_at(a), a.id)))
        return CheckInResult("none_open")

    # ---- check-in -------------------------------------------------------------------------
    async def check_in(
        self,
        user_id: int,
        chat_id: int,
        *,
        code: str | None = None,
        location: tuple[float, float] | None = None,
        method: str,
    ) -> CheckInResult:
        """Idempotent: a second check-in answers "already" and changes nothing."""
        now = self.clock.now()
        chat = await self._chat(chat_id)
        if chat is None:
            return CheckInResult("none_open")
        around = await self._around(chat, now)
        open_now = [a for a in around if self.is_open(a, now)]
        codes = tuple(a.code for a in open_now)
        if code is not None:
            activity = await self._by_code(chat, code)
            if activity is None:
                return CheckInResult("unknown_code", codes=codes)
            if now < self.opens_at(activity):
                return CheckInResult("not_open", activity, opens_at=self.opens_at(activity))
            if now > self.closes_at(activity):
                return CheckInResult("closed", activity)
        elif not open_now:
            return self._not_open_yet_or_closed(around, now)
        elif len(open_now) == 1:
            activity = open_now[0]
        else:
            activity = self._located(open_now, location)
            if activity is None:
                return CheckInResult("ambiguous", codes=codes)
            # With a location outside every circle, `activity` is the nearest: reported below.
        if location is not None:
            if activity.place.radius_m is None:
                return CheckInResult("no_location", activity)
            distance = self._distance(activity, location)
            if distance > activity.place.radius_m:
                return CheckInResult("outside_radius", activity, distance_m=round(distance))
        return await self._record_check_in(user_id, activity, method, now)

    def _distance(self, activity: Activity, location: tuple[float, float]) -> float:
        return distance_m(activity.place.latitude, activity.place.longitude, location[0], location[1])

    def _located(self, open_now: list[Activity], location: tuple[float, float] | None) -> Activity | None:
        """Several open: a shared location picks the activity whose circle it falls in, or (outside
        them all) the nearest one with a circle; None when that does not single one out."""
        if location is None:
            return None
        circled = sorted((self._distance(a, location), a.id, a) for a in open_now if a.place.radius_m is not None)
        inside = [a for distance, _, a in circled if distance <= a.place.radius_m]
        if len(inside) == 1:
            return inside[0]
        if not inside and circled:
            return circled[0][2]
        return None

    async def _record_check_in(self, user_id: int, activity: Activity, method: str, now: datetime) -> CheckInResult:
        async with self.db.transaction():
            record = await self.repo.attendance(activity.id, user_id)
            if record is not None and record.present:
                return CheckInResult("already", activity, walk_in=record.walk_in)
            # A first check-in, or after the organiser removed the record or marked a no-show:
            # the volunteer is here now, so it counts (the organiser can still correct it).
            walk_in = await self._walk_in(activity.id, user_id)
            await self.repo.put_attendance(
                activity.id,
                user_id,
                checked_in_at=now,
                checked_out_at=None,
                walk_in=walk_in,
                no_show=False,
                method=method,
            )
        return CheckInResult("checked_in", activity, walk_in=walk_in)

    async def _walk_in(self, activity_id: int, user_id: int) -> bool:
        signup = await self.repo.signup(activity_id, user_id)
        return signup is None or signup.status != "signed"

    # ---- check-out ------------------------------------------------------------------------
    async def check_out(self, user_id: int, chat_id: int, *, code: str | None = None, method: str) -> CheckOutResult:
        now = self.clock.now()
        chat = await self._chat(chat_id)
        if chat is None:
            return CheckOutResult("none_open")
        around = await self._around(chat, now)
        open_now = [a for a in around if self.is_open(a, now)]
        if code is not None:
            activity = await self._by_code(chat, code)
            if activity is None:
                return CheckOutResult("unknown_code", codes=tuple(a.code for a in open_now))
            if now > self.closes_at(activity):
                return CheckOutResult("closed", activity)
        else:
            mine = [(a, await self.repo.attendance(a.id, user_id)) for a in open_now]
            mine = [(a, record) for a, record in mine if record is not None and record.present]
            if not mine:
                if open_now:
                    return CheckOutResult("not_checked_in", open_now[0] if len(open_now) == 1 else None)
                closed = [a for a in around if self.closes_at(a) < now and self._today(self.closes_at(a), now)]
                return CheckOutResult("closed", closed[-1]) if closed else CheckOutResult("none_open")
            pending = [a for a, record in mine if record.checked_out_at is None]
            if len(pending) > 1:
                return CheckOutResult("ambiguous", codes=tuple(a.code for a in pending))
            if not pending:
                return CheckOutResult("already", mine[0][0] if len(mine) == 1 else None)
            activity = pending[0]
        async with self.db.transaction():
            record = await self.repo.attendance(activity.id, user_id)
            if record is None or not record.present:
                return CheckOutResult("not_checked_in", activity)
            if record.checked_out_at is not None:
                return CheckOutResult("already", activity)
            await self.repo.check_out(activity.id, user_id, now)
        return CheckOutResult("checked_out", activity)

    # ---- credit ---------------------------------------------------------------------------
    def credited_minutes(self, activity: Timed, checked_in_at: datetime | None, checked_out_at: datetime | None) -> int:
        if checked_in_at is None:
            return 0
        begin = max(checked_in_at, activity.starts_at)
        if checked_out_at is None:
            if not self.settings.credit_missing_checkout:
                return 0
            finish = activity.ends_at
        else:
            finish = min(checked_out_at, activity.ends_at)
        minutes = int((finish - begin).total_seconds() // 60)
        if minutes <= 0:
            return 0
        return minutes - minutes % self.settings.credit_rounding_minutes

    def _line(self, activity: Activity, record: AttendanceRecord) -> AttendanceLine:
        credited = (
            0 if not record.present else self.credited_minutes(activity, record.checked_in_at, record.checked_out_at)
        )
        return AttendanceLine(
            record.user_id, record.checked_in_at, record.checked_out_at, record.walk_in, record.no_show, credited
        )

    # ---- organiser corrections ------------------------------------------------------------
    @staticmethod
    def check_reason(text: str | None) -> str:
        reason = " ".join(str(text or "").split())
        if not reason:
            raise DomainError("checkin.err_reason_required", max=MAX_REASON)
        if len(reason) > MAX_REASON:
            raise DomainError("checkin.err_reason_too_long", length=len(reason), max=MAX_REASON)
        return reason

    async def _organised(self, actor_id: int, activity_id: int) -> Activity:
        activity = await self.activities.get(activity_id)
        if not await self.activities.can_organise(actor_id, activity):
            raise PermissionDenied("activities.err_not_organiser", title=activity.title)
        if activity.cancelled:
            raise DomainError("activities.err_cancelled", title=activity.title, code=activity.code)
        return activity

    async def add_or_correct(
        self,
        actor_id: int,
        activity_id: int,
        user_id: int,
        checked_in_at: datetime | None,
        checked_out_at: datetime | None,
        reason: str,
    ) -> AttendanceLine:
        """Organiser: record or correct one volunteer's times (within the check-in window)."""
        reason = self.check_reason(reason)
        activity = await self._organised(actor_id, activity_id)
        if checked_in_at is None:
            raise DomainError("checkin.err_checkin_time_required")
        checked_in_at = checked_in_at.astimezone(UTC).replace(microsecond=0)
        if checked_out_at is not None:
            checked_out_at = checked_out_at.astimezone(UTC).replace(microsecond=0)
        now = self.clock.now()
        local = self.activities.local_text
        opens, closes = self.opens_at(activity), self.closes_at(activity)
        for moment in (checked_in_at, checked_out_at):
            if moment is None:
                continue
            if not opens <= moment <= closes:
                raise DomainError("checkin.err_time_outside_window", opens=local(opens), closes=local(closes))
            if moment > now:
                raise DomainError("checkin.err_time_in_future", now=local(now))
        if checked_out_at is not None and checked_out_at <= checked_in_at:
            raise DomainError("checkin.err_checkout_before_checkin")
        if not await self.repo.person_exists(user_id):
            raise DomainError("checkin.err_unknown_person")
        async with self.db.transaction():
            old = await self.repo.attendance(activity_id, user_id)
            walk_in = await self._walk_in(activity_id, user_id)
            await self.repo.put_attendance(
                activity_id,
                user_id,
                checked_in_at=checked_in_at,
                checked_out_at=checked_out_at,
                walk_in=walk_in,
                no_show=False,
                method="organiser",
            )
            action = "attendance.add" if old is None or not old.present else "attendance.correct"
            await self.audit.record(
                now,
                actor_id,
                action,
                f"activity:{activity_id}",
                user=user_id,
                reason=reason,
                old_in=_iso(old.checked_in_at) if old else None,
                old_out=_iso(old.checked_out_at) if old else None,
                new_in=_iso(checked_in_at),
                new_out=_iso(checked_out_at),
            )
            record = await self.repo.attendance(activity_id, user_id)
        return self._line(activity, record)

    async def remove(self, actor_id: int, activity_id: int, user_id: int, reason: str) -> None:
        reason = self.check_reason(reason)
        await self._organised(actor_id, activity_id)
        async with self.db.transaction():
            old = await self.repo.attendance(activity_id, user_id)
            if old is None or not await self.repo.remove_attendance(activity_id, user_id, self.clock.now()):
                raise DomainError("checkin.err_no_record")
            await self.audit.record(
                self.clock.now(),
                actor_id,
                "attendance.remove",
                f"activity:{activity_id}",
                user=user_id,
                reason=reason,
                old_in=_iso(old.checked_in_at),
                old_out=_iso(old.checked_out_at),
                no_show=old.no_show,
            )

    async def mark_no_show(self, actor_id: int, activity_id: int, user_id: int, reason: str) -> None:
        """A signed-up volunteer who never came (only once the activity has started)."""
        reason = self.check_reason(reason)
        activity = await self._organised(actor_id, activity_id)
        now = self.clock.now()
        if now < activity.starts_at:
            raise DomainError("checkin.err_no_show_too_early", start=self.activities.local_text(activity.starts_at))
        async with self.db.transaction():
            signup = await self.repo.signup(activity_id, user_id)
            if signup is None or signup.status != "signed":
                raise DomainError("checkin.err_not_signed_up")
            record = await self.repo.attendance(activity_id, user_id)
            if record is not None and record.present:
                raise DomainError("checkin.err_already_checked_in")
            await self.repo.put_attendance(
                activity_id,
                user_id,
                checked_in_at=None,
                checked_out_at=None,
                walk_in=False,
                no_show=True,
                method="organiser",
            )
            await self.audit.record(
                now, actor_id, "attendance.no_show", f"activity:{activity_id}", user=user_id, reason=reason
            )

    # ---- reading --------------------------------------------------------------------------
    async def attendance_of(self, activity_id: int, user_id: int) -> AttendanceLine | None:
        activity = await self.activities.get(activity_id)
        record = await self.repo.attendance(activity_id, user_id)
        if record is None or record.removed_at is not None:
            return None
        return self._line(activity, record)

    async def sheet(self, activity_id: int) -> list[AttendanceLine]:
        activity = await self.activities.get(activity_id)
        return [self._line(activity, record) for record in await self.repo.sheet(activity_id)]

    async def summary(self, activity_id: int) -> ActivitySummary:
        activity = await self.activities.get(activity_id)
        lines = await self.sheet(activity_id)
        present = [line for line in lines if line.checked_in_at is not None and not line.no_show]
        served = activity.served_confirmed if activity.served_confirmed is not None else activity.expected_served
        return ActivitySummary(
            volunteers=len(present),
            volunteer_minutes=sum(line.credited_minutes for line in present),
            served=served,
            no_shows=sum(1 for line in lines if line.no_show),
            walk_ins=sum(1 for line in present if line.walk_in),
        )

    async def my_year(self, user_id: int, year: int, zone: ZoneInfo) -> MyYear:
        """Activities (not cancelled) starting in that local calendar year that the person attended."""
        starts_from = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
        starts_before = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
        attended = await self.repo.attended_by(user_id, starts_from, starts_before)
        items = tuple(
            (activity, self.credited_minutes(activity, record.checked_in_at, record.checked_out_at))
            for activity, record in attended
        )
        return MyYear(items, sum(minutes for _, minutes in items), len(items))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
