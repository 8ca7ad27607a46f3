"""QR check-in: an organiser's code for an activity; a volunteer scans it, the bot opens in private
chat, and they are checked in (and, at the end, out) there.

The code is the deep link `/start q_<activity>_<generation>_<slot>_<signature>`. The signature
(bot/domain/records/signing.py) makes codes impossible to make up; the generation changes when
the organiser asks for a new code (every older one goes stale); with `[records] qr_rotate_minutes`
above 0 the slot changes every that many minutes too, so a photo of an old code checks no one in.
The activity's check-in window and its radius (when it has a place on the map: the volunteer
shares a location) are enforced as in the group (bot/domain/attendance/).

Catalog keys raised: activities.err_not_organiser, activities.err_cancelled, activities.err_not_found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.domain.activities import ActivityService
from bot.domain.attendance import AttendanceService, CheckInMethod, CheckInOutcome, distance_m
from bot.domain.clock import Clock
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.records.signing import Signer
from bot.model.activity import Activity
from bot.model.records import QrTicket, ScanOutcome
from storage.audit import AuditRepository
from storage.records import RecordRepository

SIGNATURE = 10  # base32 characters (50 bits)
_PAYLOAD = re.compile(r"^q_([0-9]{1,12})_([0-9]{1,6})_([0-9]{1,10})_([A-Z2-7]{10})$")


@dataclass(frozen=True)
class Scan:
    outcome: ScanOutcome
    activity: Activity | None = None
    at: datetime | None = None  # check-in time (already), or when the window opens (not open)
    distance_m: int | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True)
class IssuedCode:
    ticket: QrTicket
    activity: Activity
    valid_until: datetime | None  # None: until the organiser makes a new one


class QrCheckIns:
    def __init__(
        self,
        repo: RecordRepository,
        signer: Signer,
        activities: ActivityService,
        attendance: AttendanceService,
        audit: AuditRepository,
        clock: Clock,
        rotate_minutes: int,
    ) -> None:
        self.repo = repo
        self.signer = signer
        self.activities = activities
        self.attendance = attendance
        self.audit = audit
        self.clock = clock
        self.rotate_minutes = rotate_minutes

    def _slot(self, now: datetime) -> int:
        return 0 if not self.rotate_minutes else int(now.timestamp() // (self.rotate_minutes * 60))

    def _slot_end(self, slot: int) -> datetime | None:
        if not self.rotate_minutes:
            return None
        return datetime.fromtimestamp((slot + 1) * self.rotate_minutes * 60, tz=self.clock.now().tzinfo)

    async def _ticket(self, activity_id: int, generation: int, slot: int) -> QrTicket:
        text = f"qr:{activity_id}:{generation}:{slot}"
        return QrTicket(activity_id, generation, slot, Signer.tag(await self.signer.key(), text, SIGNATURE))

    # ---- the organiser ---------------------------------------------------------------------------
    async def code(self, actor_id: int, code: str, *, renew: bool = False) -> IssuedCode:
        """The activity's current code (its first is made on the first ask); `renew` makes a new
        generation, so every code shown or printed before is refused from now on."""
        activity = await self.activities.by_code(code)
        if not await self.activities.can_organise(actor_id, activity):
            raise PermissionDenied("activities.err_not_organiser", title=activity.title)
        if activity.cancelled:
            raise DomainError("activities.err_cancelled", title=activity.title, code=activity.code)
        now = self.clock.now()
        generation = await self.repo.qr_generation(activity.id)
        if generation is None or renew:
            async with self.attendance.db.transaction():
                generation = await self.repo.new_qr_generation(activity.id, actor_id, now)
                await self.audit.record(now, actor_id, "qr.new", f"activity:{activity.id}", generation=generation)
        slot = self._slot(now)
        return IssuedCode(await self._ticket(activity.id, generation, slot), activity, self._slot_end(slot))

    # ---- the volunteer ----------------------------------------------------------------------------
    async def _read(self, payload: str) -> tuple[Activity, QrTicket] | Scan:
        match = _PAYLOAD.match(payload)
        if match is None:
            return Scan(ScanOutcome.INVALID)
        activity_id, generation, slot = int(match.group(1)), int(match.group(2)), int(match.group(3))
        ticket = await self._ticket(activity_id, generation, slot)
        if not Signer.same(ticket.signature, match.group(4)):
            return Scan(ScanOutcome.INVALID)
        try:
            activity = await self.activities.get(activity_id)
        except DomainError:
            return Scan(ScanOutcome.INVALID)
        return activity, ticket

    async def scan(self, user_id: int, payload: str, location: tuple[float, float] | None = None) -> Scan:
        """A scanned code: check in, or say why not (never a second record)."""
        read = await self._read(payload)
        if isinstance(read, Scan):
            return read
        activity, ticket = read
        now = self.clock.now()
        if activity.cancelled:
            return Scan(ScanOutcome.CANCELLED, activity)
        if ticket.generation != await self.repo.qr_generation(activity.id) or ticket.slot != self._slot(now):
            return Scan(ScanOutcome.STALE, activity)
        record = await self.attendance.repo.attendance(activity.id, user_id)
        if record is not None and record.present:
            return Scan(ScanOutcome.ALREADY, activity, at=record.checked_in_at)
        if now < self.attendance.opens_at(activity):
            return Scan(ScanOutcome.NOT_OPEN, activity, at=self.attendance.opens_at(activity))
        if now > self.attendance.closes_at(activity):
            return Scan(ScanOutcome.CLOSED, activity)
        place = activity.place
        if place.latitude is not None and place.longitude is not None and place.radius_m is not None:
            if location is None:
                return Scan(ScanOutcome.NEEDS_LOCATION, activity)
            distance = distance_m(place.latitude, place.longitude, *location)
            if distance > place.radius_m:
                return Scan(ScanOutcome.OUTSIDE_RADIUS, activity, distance_m=round(distance))
        result = await self.attendance.check_in_to(user_id, activity, CheckInMethod.QR)
        if not result.done:
            raise RuntimeError(f"QR check-in of {user_id} at activity {activity.id} came to {result.outcome}")
        return Scan(
            ScanOutcome.CHECKED_IN if result.outcome is CheckInOutcome.CHECKED_IN else ScanOutcome.ALREADY, activity
        )

    async def check_out(self, user_id: int, activity_id: int) -> Scan:
        """The check-out button under a QR check-in: while the window is open, once."""
        activity = await self.activities.get(activity_id)
        now = self.clock.now()
        if now > self.attendance.closes_at(activity):
            return Scan(ScanOutcome.CLOSED, activity)
        async with self.attendance.db.transaction():
            record = await self.attendance.repo.attendance(activity.id, user_id)
            if record is None or not record.present:
                return Scan(ScanOutcome.NOT_CHECKED_IN, activity)
            if record.checked_out_at is not None:
                return Scan(ScanOutcome.ALREADY_OUT, activity, at=record.checked_out_at)
            await self.attendance.repo.check_out(activity.id, user_id, now)
        return Scan(ScanOutcome.CHECKED_OUT, activity, at=now)
