"""Service records: what a volunteer did (lines by kind), certificates, QR check-in codes.

A `ServiceLine` is one traceable piece of service (an activity attended, a wish delivered, …);
a `ServiceRecord` adds lines up by kind and by year; a `Certificate` is a frozen snapshot of one
record for a period, with a signed serial.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class ServiceKind(StrEnum):
    """A kind of service; each is one source of lines (bot/domain/records/sources.py). The order
    here is the order in which records and certificates list them."""

    ACTIVITY = "activity"
    CONTACT = "contact"  # a pairing contact (#16)
    VISIT = "visit"  # a verification visit (#17)
    WISH = "wish"  # a micro-wish delivered


@dataclass(frozen=True)
class ServiceLine:
    """One piece of service, traceable to what it came from (`reference`: an activity's code,
    a wish's code, …). `correction` is the reason of an organiser's latest correction, if any."""

    kind: ServiceKind
    user_id: int
    day: date  # local date of the service
    minutes: int
    org_name: str
    reference: str
    title: str
    correction: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def key(self) -> tuple[str, int, str, str]:
        return (self.day.isoformat(), list(ServiceKind).index(self.kind), self.reference, self.title)


@dataclass(frozen=True)
class KindTotal:
    kind: ServiceKind
    minutes: int
    person_times: int


def totals_of(lines: Iterable[ServiceLine]) -> tuple[KindTotal, ...]:
    """Minutes and person-times by kind, in `ServiceKind` order; kinds without lines left out."""
    minutes: dict[ServiceKind, int] = {}
    times: dict[ServiceKind, int] = {}
    for line in lines:
        minutes[line.kind] = minutes.get(line.kind, 0) + line.minutes
        times[line.kind] = times.get(line.kind, 0) + 1
    return tuple(KindTotal(kind, minutes[kind], times[kind]) for kind in ServiceKind if kind in times)


@dataclass(frozen=True)
class ServiceRecord:
    user_id: int
    lines: tuple[ServiceLine, ...]  # by day

    @property
    def totals(self) -> tuple[KindTotal, ...]:
        return totals_of(self.lines)

    @property
    def minutes(self) -> int:
        return sum(line.minutes for line in self.lines)

    @property
    def person_times(self) -> int:
        return len(self.lines)

    def years(self) -> list[tuple[int, tuple[KindTotal, ...]]]:
        """(year, totals by kind), newest year first."""
        by_year: dict[int, list[ServiceLine]] = {}
        for line in self.lines:
            by_year.setdefault(line.day.year, []).append(line)
        return [(year, totals_of(by_year[year])) for year in sorted(by_year, reverse=True)]

    def fingerprint(self) -> str:
        """A digest of what the lines say: equal records, equal digests (a correction changes it)."""
        canonical = [
            [line.kind.value, line.day.isoformat(), line.minutes, line.reference, line.title] for line in self.lines
        ]
        return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Certificate:
    """A certificate as issued: the snapshot is what it says, whatever happens to the record later."""

    id: int
    serial: str
    user_id: int
    period_start: date
    period_end: date
    name_shown: str
    real_name: bool
    totals: tuple[KindTotal, ...]
    lines: tuple[ServiceLine, ...]
    fingerprint: str
    issued_at: datetime
    revoked_at: datetime | None = None
    revoke_reason: str | None = None

    @property
    def minutes(self) -> int:
        return sum(total.minutes for total in self.totals)

    @property
    def person_times(self) -> int:
        return sum(total.person_times for total in self.totals)


class VerifyOutcome(StrEnum):
    """What /verify found (catalog `records.verify_<value>`)."""

    GENUINE = "genuine"
    SUPERSEDED = "superseded"  # genuine, but the record changed after issue
    REVOKED = "revoked"
    NOT_FOUND = "not_found"  # mistyped, forged or unknown: all look the same


@dataclass(frozen=True)
class Verification:
    outcome: VerifyOutcome
    certificate: Certificate | None = None
    newer: tuple[str, ...] = ()  # serials issued later for the same person and period


class ScanOutcome(StrEnum):
    """What scanning an activity's QR code came to (catalog `records.scan_<value>`)."""

    CHECKED_IN = "checked_in"
    ALREADY = "already"  # checked in before: nothing changed, check-out offered
    CHECKED_OUT = "checked_out"
    ALREADY_OUT = "already_out"
    NOT_CHECKED_IN = "not_checked_in"
    STALE = "stale"  # an old code (a new one was made, or its hour has passed)
    INVALID = "invalid"  # forged or mangled
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    NEEDS_LOCATION = "needs_location"  # the activity has a radius: share a location
    OUTSIDE_RADIUS = "outside_radius"


@dataclass(frozen=True)
class QrTicket:
    """What an activity's QR code carries: the activity, the code's generation and time slot, and
    a signature over the three (so a code cannot be made up)."""

    activity_id: int
    generation: int
    slot: int
    signature: str

    def payload(self) -> str:
        """The /start deep-link parameter (Telegram allows A-Z a-z 0-9 _ -, up to 64)."""
        return f"q_{self.activity_id}_{self.generation}_{self.slot}_{self.signature}"


@dataclass(frozen=True)
class AttendedRow:
    """One person's attendance at one activity, as the record reads it (storage/records.py)."""

    activity_id: int
    code: str
    title: str
    org_name: str
    starts_at: datetime
    ends_at: datetime
    user_id: int
    checked_in_at: datetime
    checked_out_at: datetime | None


@dataclass(frozen=True)
class ContactRow:
    """A contact a paired volunteer logged with their child (Sunshine Home)."""

    contact_id: int
    pair_id: int
    org_name: str
    user_id: int
    day: date
    minutes: int


@dataclass(frozen=True)
class VisitedRow:
    """A verification visit a person filed and a reviewer approved."""

    visit_id: int
    campaign_title: str
    org_name: str
    user_id: int
    submitted_at: datetime


@dataclass(frozen=True)
class DeliveredRow:
    """A wish a person delivered (status delivered or confirmed)."""

    wish_id: int
    text: str
    org_name: str
    user_id: int
    delivered_at: datetime


@dataclass(frozen=True)
class Identity:
    """An identity document's type and number, supplied by the volunteer with consent. The repr
    never shows the number."""

    user_id: int
    id_type: str
    id_number: str
    consented_at: datetime

    def __repr__(self) -> str:
        return f"Identity(user_id={self.user_id}, id_type={self.id_type!r}, id_number=<hidden>)"
