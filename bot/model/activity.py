"""Service activities, sign-ups and attendance records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Category(StrEnum):
    TUTORING = "tutoring"
    COUNSELLING = "counselling"
    INTEREST = "interest"
    DEVELOPMENT = "development"
    VISIT = "visit"
    CLINIC = "clinic"
    ELDER_CARE = "elder_care"
    OTHER = "other"


@dataclass(frozen=True)
class Place:
    text: str
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int | None = None


@dataclass(frozen=True)
class Activity:
    id: int
    code: str
    org_id: int
    title: str
    category: Category
    starts_at: datetime
    ends_at: datetime
    place: Place
    slots: int
    expected_served: int
    served_confirmed: int | None
    counts_as_deed: bool
    also_hub: bool
    state: str
    created_by: int
    summary_sent: bool

    @property
    def cancelled(self) -> bool:
        return self.state == "cancelled"


class Timed(Protocol):
    """What the volunteer-time credit rule reads of an activity: when it starts and ends."""

    @property
    def starts_at(self) -> datetime: ...

    @property
    def ends_at(self) -> datetime: ...


@dataclass(frozen=True)
class Span:
    """An activity's start and end alone, as the report rows carry them: a `Timed`."""

    starts_at: datetime
    ends_at: datetime


class SignupStatus(StrEnum):
    """A volunteer's place at an activity, as stored."""

    SIGNED = "signed"
    WAITLISTED = "waitlisted"
    WITHDRAWN = "withdrawn"


class SignupOutcome(StrEnum):
    """What a tap on 报名 did (the toast's catalog key is `activities.toast_<value>`)."""

    SIGNED = "signed"
    WAITLISTED = "waitlisted"
    ALREADY_SIGNED = "already_signed"
    ALREADY_WAITLISTED = "already_waitlisted"


@dataclass(frozen=True)
class SignupRecord:
    id: int
    activity_id: int
    user_id: int
    status: SignupStatus
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AttendanceRecord:
    id: int
    activity_id: int
    user_id: int
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    walk_in: bool
    no_show: bool
    method: str
    removed_at: datetime | None

    @property
    def present(self) -> bool:
        """Counts as attended: checked in, not marked a no-show, not removed by the organiser."""
        return self.checked_in_at is not None and not self.no_show and self.removed_at is None
