"""Micro-wishes: the public record, the private details kept apart, filters.

The private details live in their own table and type; `PrivateDetails`' repr never shows a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class WishStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    PURCHASED = "purchased"
    DELIVERED = "delivered"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


# A claim is held (by claimed_by_user for claimed_by_org) in these states.
HELD = (WishStatus.CLAIMED, WishStatus.PURCHASED, WishStatus.DELIVERED, WishStatus.CONFIRMED)


# A claim that is still being fulfilled; past its deadline it is overdue.
IN_PROGRESS = (WishStatus.CLAIMED, WishStatus.PURCHASED)


class WishCategory(StrEnum):
    STATIONERY = "stationery"
    BOOKS = "books"
    SPORTS = "sports"
    TOYS = "toys"
    CLOTHING = "clothing"
    EXPERIENCE = "experience"
    OTHER = "other"


@dataclass(frozen=True)
class PrivateDetails:
    """The child's details only the collector (and, once claimed, the claimer) may see."""

    real_name: str | None = None
    guardian_phone: str | None = None
    address: str | None = None
    notes: str | None = None

    @property
    def empty(self) -> bool:
        return not any((self.real_name, self.guardian_phone, self.address, self.notes))

    def filled_fields(self) -> list[str]:
        """The names (never the values) of the fields that hold something: for audit lines."""
        return [name for name in ("real_name", "guardian_phone", "address", "notes") if getattr(self, name)]

    def __repr__(self) -> str:
        # A stray log line or traceback must not print a child's details.
        return f"PrivateDetails(<{', '.join(self.filled_fields()) or 'empty'}>)"


def wish_code(wish_id: int) -> str:
    return f"W{wish_id:04d}"


@dataclass(frozen=True)
class Wish:
    """Public fields only: safe to show to any cadre, in a group or an export."""

    id: int
    collector_org_id: int
    alias: str
    grade: str
    text: str
    category: WishCategory
    value_yuan: int
    photo_file_id: str | None
    status: WishStatus
    consent: bool
    consent_recorded_at: datetime
    consent_recorded_by: int
    private_purged_at: datetime | None
    claimed_by_user: int | None
    claimed_by_org: int | None
    claimed_at: datetime | None
    session_id: int | None
    deadline: datetime | None
    purchased_at: datetime | None
    delivered_at: datetime | None
    delivery_proof_file_id: str | None
    confirmed_at: datetime | None
    confirmed_by: int | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_by: int
    created_at: datetime

    @property
    def code(self) -> str:
        return wish_code(self.id)

    @property
    def public_label(self) -> str:
        """The child as the public sees them: "小明 · 三年级"."""
        return f"{self.alias} · {self.grade}"

    @property
    def private_purged(self) -> bool:
        return self.private_purged_at is not None

    def is_overdue(self, now: datetime) -> bool:
        return self.status in IN_PROGRESS and self.deadline is not None and self.deadline < now


@dataclass(frozen=True)
class WishFilter:
    """Which wishes to list; every field narrows, None (or empty) means "any"."""

    status: WishStatus | tuple[WishStatus, ...] | None = None
    collector_org_id: int | None = None
    category: WishCategory | None = None
    grade: str | None = None
    min_value: int | None = None
    max_value: int | None = None
    session_id: int | None = None
    text: str | None = None  # searched in the wish, the alias, the collector's name and the code
    codes: tuple[str, ...] = ()  # "W0012", "w12", "12"…; unreadable ones match nothing
    claimed_by_org: int | None = None
    claimed_by_user: int | None = None
    ids: tuple[int, ...] = field(default=(), repr=False)  # filled from `codes` by the service

    def statuses(self) -> tuple[WishStatus, ...]:
        if self.status is None:
            return ()
        if isinstance(self.status, WishStatus):
            return (self.status,)
        return tuple(self.status)
