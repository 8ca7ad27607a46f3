"""Deeds and the row-level records behind the statistics, exports and charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Deed:
    id: int
    org_id: int
    title: str
    done_on: date
    activity_id: int | None
    evidence_file_id: str | None
    note: str | None
    created_by: int
    created_at: datetime


@dataclass(frozen=True)
class Presence:
    """The attendances that count (checked in, not a no-show, not removed) at counted activities:
    how many, by how many people, and their credited minutes (summed in the database)."""

    person_times: int
    volunteers: int
    credited_minutes: int


# ---- row-level reads behind the exports and the charts (part R) ------------------------------------
@dataclass(frozen=True)
class ActivitySheetRow:
    id: int
    code: str | None
    org_id: int
    org_name: str
    title: str
    category: str
    starts_at: str  # stored UTC text; the caller converts to the local zone
    ends_at: str
    place: str
    state: str
    slots: int
    expected_served: int
    served_confirmed: int | None
    counts_as_deed: bool
    person_times: int  # attendances that count (the `present` rule)


@dataclass(frozen=True)
class AttendanceSheetRow:
    activity_id: int
    code: str | None
    title: str
    org_name: str
    starts_at: str
    ends_at: str
    user_id: int
    display_name: str
    checked_in_at: str | None
    checked_out_at: str | None
    walk_in: bool
    no_show: bool
    removed: bool
    method: str
    credited_minutes: int = 0  # by the credit rule; 0 for a no-show, a removed row, no check-in


@dataclass(frozen=True)
class WishSheetRow:
    """Public fields of a wish, with the organisations' names."""

    id: int
    alias: str
    grade: str
    text: str
    category: str
    value_yuan: int
    status: str
    consent: bool
    collector_org_id: int
    collector_name: str
    claimed_by_org: int | None
    claimer_name: str | None
    claimed_by_user: int | None
    created_at: str
    claimed_at: str | None
    deadline: str | None
    delivered_at: str | None
    confirmed_at: str | None


@dataclass(frozen=True)
class DeedSheetRow:
    id: int
    org_name: str
    title: str
    done_on: str
    activity_code: str | None
    has_evidence: bool
    note: str | None


@dataclass(frozen=True)
class DeedCandidate:
    """An ended, not cancelled activity marked as a deed that has no deed yet."""

    activity_id: int
    code: str
    title: str
    starts_at: datetime
