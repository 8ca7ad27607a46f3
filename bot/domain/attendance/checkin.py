"""Check-in and check-out from a group chat: which activity, whether its window is open, the radius."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from bot.domain.attendance.core import AttendanceCore
from bot.domain.attendance.records import (
    CheckInMethod,
    CheckInOutcome,
    CheckInResult,
    CheckOutOutcome,
    CheckOutResult,
)
from bot.domain.errors import DomainError
from bot.model.activity import Activity, AttendanceRecord
from bot.model.organisation import Binding, ChatRecord

EARTH_RADIUS_M = 6_371_000.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _circle(activity: Activity) -> tuple[float, float, int] | None:
    """The activity's check-in circle (latitude, longitude, radius in metres), if it has one."""
    place = activity.place
    if place.latitude is None or place.longitude is None or place.radius_m is None:
        return None
    return place.latitude, place.longitude, place.radius_m


class CheckIns(AttendanceCore):
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
            return CheckInResult(CheckInOutcome.NOT_OPEN, first, opens_at=self.opens_at(first))
        closed = [a for a in around if self.closes_at(a) < now and self._today(self.closes_at(a), now)]
        if closed:
            return CheckInResult(CheckInOutcome.CLOSED, max(closed, key=lambda a: (self.closes_at(a), a.id)))
        return CheckInResult(CheckInOutcome.NONE_OPEN)

    # ---- check-in -------------------------------------------------------------------------
    async def check_in(
        self,
        user_id: int,
        chat_id: int,
        *,
        code: str | None = None,
        location: tuple[float, float] | None = None,
        method: CheckInMethod,
    ) -> CheckInResult:
        """Idempotent: a second check-in answers "already" and changes nothing."""
        now = self.clock.now()
        chat = await self._chat(chat_id)
        if chat is None:
            return CheckInResult(CheckInOutcome.NONE_OPEN)
        around = await self._around(chat, now)
        open_now = [a for a in around if self.is_open(a, now)]
        codes = tuple(a.code for a in open_now)
        if code is not None:
            activity = await self._by_code(chat, code)
            if activity is None:
                return CheckInResult(CheckInOutcome.UNKNOWN_CODE, codes=codes)
            if now < self.opens_at(activity):
                return CheckInResult(CheckInOutcome.NOT_OPEN, activity, opens_at=self.opens_at(activity))
            if now > self.closes_at(activity):
                return CheckInResult(CheckInOutcome.CLOSED, activity)
        elif not open_now:
            return self._not_open_yet_or_closed(around, now)
        elif len(open_now) == 1:
            activity = open_now[0]
        else:
            activity = self._located(open_now, location)
            if activity is None:
                return CheckInResult(CheckInOutcome.AMBIGUOUS, codes=codes)
            # With a location outside every circle, `activity` is the nearest: reported below.
        if location is not None:
            circle = _circle(activity)
            if circle is None:
                return CheckInResult(CheckInOutcome.NO_LOCATION, activity)
            distance = distance_m(circle[0], circle[1], *location)
            if distance > circle[2]:
                return CheckInResult(CheckInOutcome.OUTSIDE_RADIUS, activity, distance_m=round(distance))
        return await self._record_check_in(user_id, activity, method, now)

    @staticmethod
    def _located(open_now: list[Activity], location: tuple[float, float] | None) -> Activity | None:
        """Several open: a shared location picks the activity whose circle it falls in, or (outside
        them all) the nearest one with a circle; None when that does not single one out."""
        if location is None:
            return None
        circled: list[tuple[float, int, int, Activity]] = []  # (distance, id, radius, activity)
        for activity in open_now:
            circle = _circle(activity)
            if circle is not None:
                circled.append((distance_m(circle[0], circle[1], *location), activity.id, circle[2], activity))
        circled.sort(key=lambda item: (item[0], item[1]))
        inside = [activity for distance, _, radius, activity in circled if distance <= radius]
        if len(inside) == 1:
            return inside[0]
        if not inside and circled:
            return circled[0][3]
        return None

    async def check_in_to(self, user_id: int, activity: Activity, method: CheckInMethod) -> CheckInResult:
        """Check in to one activity whose window and place the caller has checked (a QR code's scan)."""
        return await self._record_check_in(user_id, activity, method, self.clock.now())

    async def _record_check_in(
        self, user_id: int, activity: Activity, method: CheckInMethod, now: datetime
    ) -> CheckInResult:
        async with self.db.transaction():
            record = await self.repo.attendance(activity.id, user_id)
            if record is not None and record.present:
                return CheckInResult(CheckInOutcome.ALREADY, activity, walk_in=record.walk_in)
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
        return CheckInResult(CheckInOutcome.CHECKED_IN, activity, walk_in=walk_in)

    # ---- check-out ------------------------------------------------------------------------
    async def check_out(
        self, user_id: int, chat_id: int, *, code: str | None = None, method: CheckInMethod
    ) -> CheckOutResult:
        now = self.clock.now()
        chat = await self._chat(chat_id)
        if chat is None:
            return CheckOutResult(CheckOutOutcome.NONE_OPEN)
        around = await self._around(chat, now)
        open_now = [a for a in around if self.is_open(a, now)]
        if code is not None:
            activity = await self._by_code(chat, code)
            if activity is None:
                return CheckOutResult(CheckOutOutcome.UNKNOWN_CODE, codes=tuple(a.code for a in open_now))
            if now > self.closes_at(activity):
                return CheckOutResult(CheckOutOutcome.CLOSED, activity)
        else:
            mine: list[tuple[Activity, AttendanceRecord]] = []
            for each in open_now:
                record = await self.repo.attendance(each.id, user_id)
                if record is not None and record.present:
                    mine.append((each, record))
            if not mine:
                if open_now:
                    return CheckOutResult(CheckOutOutcome.NOT_CHECKED_IN, open_now[0] if len(open_now) == 1 else None)
                closed = [a for a in around if self.closes_at(a) < now and self._today(self.closes_at(a), now)]
                return (
                    CheckOutResult(CheckOutOutcome.CLOSED, closed[-1])
                    if closed
                    else CheckOutResult(CheckOutOutcome.NONE_OPEN)
                )
            pending = [a for a, record in mine if record.checked_out_at is None]
            if len(pending) > 1:
                return CheckOutResult(CheckOutOutcome.AMBIGUOUS, codes=tuple(a.code for a in pending))
            if not pending:
                return CheckOutResult(CheckOutOutcome.ALREADY, mine[0][0] if len(mine) == 1 else None)
            activity = pending[0]
        async with self.db.transaction():
            record = await self.repo.attendance(activity.id, user_id)
            if record is None or not record.present:
                return CheckOutResult(CheckOutOutcome.NOT_CHECKED_IN, activity)
            if record.checked_out_at is not None:
                return CheckOutResult(CheckOutOutcome.ALREADY, activity)
            await self.repo.check_out(activity.id, user_id, now)
        return CheckOutResult(CheckOutOutcome.CHECKED_OUT, activity)
