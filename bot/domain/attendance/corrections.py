"""Organiser corrections: record or correct a volunteer's times, remove a record, mark a no-show.

Each needs a reason and is audited with the old and new values."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.attendance.core import AttendanceCore
from bot.domain.attendance.records import AttendanceLine, CheckInMethod
from bot.domain.errors import DomainError, PermissionDenied
from bot.model.activity import Activity, SignupStatus

MAX_REASON = 200


class Corrections(AttendanceCore):
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
                method=CheckInMethod.ORGANISER,
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
        if record is None:  # just written in the same transaction
            raise RuntimeError(f"attendance of {user_id} at activity {activity_id} not stored")
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
            if signup is None or signup.status is not SignupStatus.SIGNED:
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
                method=CheckInMethod.ORGANISER,
            )
            await self.audit.record(
                now, actor_id, "attendance.no_show", f"activity:{activity_id}", user=user_id, reason=reason
            )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
