"""`AttendanceService`: check-in, corrections and the reading of sheets and summaries, as one service."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.domain.attendance.checkin import CheckIns
from bot.domain.attendance.corrections import Corrections
from bot.domain.attendance.records import ActivitySummary, AttendanceLine, MyYear


class AttendanceService(CheckIns, Corrections):
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
