"""Volunteer check-in and check-out from a group chat, the time credited, organiser corrections.

records.py: what the service answers; core.py: the window and the credit rule; checkin.py:
check-in and check-out; corrections.py: the organiser's; service.py: `AttendanceService`.

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
and from bot/domain/activities.py: activities.err_not_organiser, activities.err_cancelled, activities.err_not_found.
"""

from __future__ import annotations

from bot.domain.attendance.checkin import EARTH_RADIUS_M, distance_m
from bot.domain.attendance.corrections import MAX_REASON
from bot.domain.attendance.records import (
    ActivitySummary,
    AttendanceLine,
    CheckInMethod,
    CheckInOutcome,
    CheckInResult,
    CheckOutOutcome,
    CheckOutResult,
    MyYear,
)
from bot.domain.attendance.service import AttendanceService

__all__ = [
    "EARTH_RADIUS_M",
    "MAX_REASON",
    "ActivitySummary",
    "AttendanceLine",
    "AttendanceService",
    "CheckInMethod",
    "CheckInOutcome",
    "CheckInResult",
    "CheckOutOutcome",
    "CheckOutResult",
    "MyYear",
    "distance_m",
]
