"""Sunshine Home (阳光家园): children, their private details, volunteers' profiles, pairs, contacts.

Public records (`Child`, `Pair`, `Contact`) hold nothing private: they may be shown to any cadre
of the organisation, in a group or an export. `ChildPrivate` lives in its own table and type, and
its repr never shows a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class ChildStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class LeaveReason(StrEnum):
    """Why a child left the programme; counted (the seed's "245 entered high school")."""

    MOVED = "moved"
    AGED_OUT = "aged_out"
    HIGH_SCHOOL = "high_school"
    OTHER = "other"


class VolunteerKind(StrEnum):
    TEACHER = "teacher"
    DOCTOR = "doctor"
    LEGAL = "legal"
    STUDENT = "student"
    RETURNING = "returning"
    COUNSELLOR = "counsellor"
    OTHER = "other"


class Origin(StrEnum):
    """Volunteers who come from Hong Kong, Macau or Taiwan (counted apart in the figures)."""

    HK = "hk"
    MO = "mo"
    TW = "tw"


class Availability(StrEnum):
    WEEKDAYS = "weekdays"
    WEEKENDS = "weekends"
    HOLIDAYS = "holidays"


class Support(StrEnum):
    """The kind of support a pair gives (the seed's four strands)."""

    TUTORING = "tutoring"
    COUNSELLING = "counselling"
    INTEREST = "interest"
    DEVELOPMENT = "development"


class PairStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    DECLINED = "declined"
    ENDED = "ended"


# A pair that holds its place: one per child and support, and counted against the volunteer's maximum.
LIVE = (PairStatus.PROPOSED, PairStatus.ACTIVE)


class EndReason(StrEnum):
    FINISHED = "finished"
    VOLUNTEER_LEFT = "volunteer_left"
    CHILD_LEFT = "child_left"


class ContactKind(StrEnum):
    VISIT = "visit"
    CALL = "call"
    ONLINE = "online"
    GROUP = "group"


def child_code(child_id: int) -> str:
    return f"C{child_id:04d}"


def pair_code(pair_id: int) -> str:
    return f"P{pair_id:04d}"


@dataclass(frozen=True)
class Child:
    """Public fields only: safe to show to the organisation's cadres, in a group or an export."""

    id: int
    org_id: int
    alias: str
    grade: str
    needs: tuple[str, ...]
    consent: bool
    status: ChildStatus
    left_at: datetime | None
    left_reason: LeaveReason | None
    private_purged_at: datetime | None
    created_at: datetime

    @property
    def code(self) -> str:
        return child_code(self.id)

    @property
    def public_label(self) -> str:
        """The child as the public sees them: "小华 · 五年级"."""
        return f"{self.alias} · {self.grade}"

    @property
    def active(self) -> bool:
        return self.status is ChildStatus.ACTIVE


@dataclass(frozen=True)
class ChildDraft:
    """A child to add (typed in a conversation, or one row of an import)."""

    org_id: int
    alias: str
    grade: str
    needs: tuple[str, ...]
    consent: bool
    private: ChildPrivate | None = None


_PRIVATE_FIELDS = ("real_name", "birth_date", "guardian", "guardian_phone", "address", "notes")


@dataclass(frozen=True)
class ChildPrivate:
    """What only the organisation's cadres and the paired volunteer may see, every view audited."""

    real_name: str | None = None
    birth_date: date | None = None
    guardian: str | None = None
    guardian_phone: str | None = None
    address: str | None = None
    notes: str | None = None

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in _PRIVATE_FIELDS)

    def filled_fields(self) -> list[str]:
        """The names (never the values) of the fields that hold something: for audit lines."""
        return [name for name in _PRIVATE_FIELDS if getattr(self, name)]

    def __repr__(self) -> str:
        # A stray log line or traceback must not print a child's details.
        return f"ChildPrivate(<{', '.join(self.filled_fields()) or 'empty'}>)"


@dataclass(frozen=True)
class VolunteerProfile:
    user_id: int
    kind: VolunteerKind | None = None
    employer: str | None = None
    skills: tuple[str, ...] = ()
    availability: tuple[Availability, ...] = ()
    home_area: str | None = None
    origin: Origin | None = None
    counsellor_confirmed: bool = False


@dataclass(frozen=True)
class Pair:
    id: int
    child_id: int
    volunteer_id: int
    org_id: int
    support: Support
    rhythm_days: int
    status: PairStatus
    proposed_by: int
    proposed_at: datetime
    started_on: date | None
    ended_at: datetime | None
    end_reason: EndReason | None
    reminded_for: date | None
    escalated_for: date | None

    @property
    def code(self) -> str:
        return pair_code(self.id)

    @property
    def live(self) -> bool:
        return self.status in LIVE


@dataclass(frozen=True)
class QuietPair:
    """An active pair and the day its quiet spell began (the last contact, or the start)."""

    pair: Pair
    since: date


@dataclass(frozen=True)
class Contact:
    id: int
    pair_id: int
    contact_on: date
    kind: ContactKind
    minutes: int
    note: str | None
    photo_file_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class ContactDraft:
    pair_id: int
    contact_on: date
    kind: ContactKind
    minutes: int
    note: str | None = None
    photo_file_id: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """A volunteer the bot suggests for a child, with the reasons (catalog keys and params)."""

    volunteer_id: int
    score: int
    reasons: tuple[tuple[str, str], ...]  # (reason kind, the matching value)
