"""What the parts of the attendance service share: dependencies, the window, the credit rule."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.activities import ActivityService
from bot.domain.attendance.records import AttendanceLine
from bot.domain.clock import Clock
from bot.domain.config import ActivitiesConfig
from bot.model.activity import Activity, AttendanceRecord, SignupStatus, Timed
from storage.activities import ActivityRepository
from storage.audit import AuditRepository
from storage.chats import ChatRepository
from storage.db import Database


class AttendanceCore:
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

    async def _walk_in(self, activity_id: int, user_id: int) -> bool:
        signup = await self.repo.signup(activity_id, user_id)
        return signup is None or signup.status is not SignupStatus.SIGNED

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
