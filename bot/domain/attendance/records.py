"""What the attendance service answers: check-in and check-out outcomes, sheet lines, summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.model.activity import Activity


class CheckInMethod(StrEnum):
    """How an attendance record came about (stored with it)."""

    TEXT = "text"  # `签到` typed in the group
    COMMAND = "command"  # /checkin, for groups where privacy mode hides plain messages
    LOCATION = "location"  # a location shared in the group
    ORGANISER = "organiser"  # added or corrected by an organiser
    QR = "qr"  # the activity's QR code scanned, in private chat (bot/domain/records/qr.py)


class CheckInOutcome(StrEnum):
    """What a check-in came to; the value names the group's answer (catalog `checkin.<value>`)."""

    CHECKED_IN = "checked_in"
    ALREADY = "already"  # checked in before: nothing changed
    NOT_OPEN = "not_open"  # the window opens later (`opens_at`)
    CLOSED = "closed"
    AMBIGUOUS = "ambiguous"  # several open: a code is needed (`codes`)
    NONE_OPEN = "none_open"
    OUTSIDE_RADIUS = "outside_radius"  # the shared location is `distance_m` away
    UNKNOWN_CODE = "unknown_code"  # no such activity in this chat (`codes`: the open ones)
    NO_LOCATION = "no_location"  # a location shared for an activity without a place on the map


class CheckOutOutcome(StrEnum):
    """What a check-out came to; the value names the group's answer (catalog `checkin.<value>`)."""

    CHECKED_OUT = "checked_out"
    ALREADY = "already"  # checked out before: nothing changed
    NOT_CHECKED_IN = "not_checked_in"
    CLOSED = "closed"
    AMBIGUOUS = "ambiguous"  # checked in to several still open: a code is needed (`codes`)
    NONE_OPEN = "none_open"
    UNKNOWN_CODE = "unknown_code"  # no such activity in this chat (`codes`: the open ones)


@dataclass(frozen=True)
class CheckInResult:
    outcome: CheckInOutcome
    activity: Activity | None = None
    walk_in: bool = False
    opens_at: datetime | None = None
    codes: tuple[str, ...] = ()
    distance_m: int | None = None

    @property
    def done(self) -> bool:
        """The volunteer is checked in now (just now, or before)."""
        return self.outcome in (CheckInOutcome.CHECKED_IN, CheckInOutcome.ALREADY)


@dataclass(frozen=True)
class CheckOutResult:
    outcome: CheckOutOutcome
    activity: Activity | None = None
    codes: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        """The volunteer is checked out now (just now, or before)."""
        return self.outcome in (CheckOutOutcome.CHECKED_OUT, CheckOutOutcome.ALREADY)


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
