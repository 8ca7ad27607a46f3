"""Auction sessions and the records of their claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.model.wish import Wish, WishCategory

SCHEDULED, LIVE, CLOSED, CANCELLED = "scheduled", "live", "closed", "cancelled"


@dataclass(frozen=True)
class AuctionSession:
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    state: str  # scheduled | live | closed | cancelled
    cap_per_org: int | None
    cap_per_person: int | None
    fulfilment_deadline: datetime
    wave_size: int | None
    wave_every_minutes: int | None
    created_by: int
    lot_count: int
    closed_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.state == LIVE

    @property
    def over(self) -> bool:
        return self.state in (CLOSED, CANCELLED)

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def has_waves(self) -> bool:
        return bool(self.wave_size and self.wave_every_minutes)


@dataclass(frozen=True)
class LotFilter:
    """Which lots a cadre browses; every field narrows, None means "any"."""

    category: WishCategory | None = None
    collector_org_id: int | None = None
    grade: str | None = None
    min_value: int | None = None
    max_value: int | None = None


@dataclass(frozen=True)
class ClaimRow:
    """One claim of a session, public fields only (what the claims table and the XLSX show)."""

    code: str
    alias_grade: str
    text: str
    value_yuan: int
    org_name: str
    user_display_name: str
    claimed_at: datetime


@dataclass(frozen=True)
class ClaimExplanation:
    """Why a claim did not go through: the wish as it is now, and the claimer's counts."""

    wish: Wish | None
    holder_org_name: str | None
    org_held: int
    user_held: int


@dataclass(frozen=True)
class ClaimRequest:
    """One claim for `claim_many`: open → claimed for `org_id`, under the session's caps."""

    wish_id: int
    user_id: int
    org_id: int
    session_id: int
    deadline: datetime
    now: datetime
    max_per_org: int | None = None
    max_per_user: int | None = None


@dataclass(frozen=True)
class ClaimResult:
    """won: the wish as it is after the claim; otherwise `why`, read in the same transaction."""

    won: bool
    wish: Wish | None = None
    why: ClaimExplanation | None = None
