"""Auction sessions, the records of their claims, and what a claim tap can come to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.model.wish import Wish, WishCategory

SCHEDULED, LIVE, CLOSED, CANCELLED = "scheduled", "live", "closed", "cancelled"


class Outcome(StrEnum):
    """What a claim tap did (`ClaimOutcome.outcome`); each has its toast `auction.toast_<value>`."""

    WON = "won"
    TAKEN = "taken"  # another organisation holds the lot
    ALREADY_YOURS = "already_yours"  # a double tap: the tapper holds it
    CAP_ORG = "cap_org"  # the organisation holds the session's cap per organisation
    CAP_PERSON = "cap_person"  # the person holds the session's cap per person
    NOT_CADRE = "not_cadre"  # the tapper holds no role in an active organisation
    NOT_LIVE = "not_live"  # the session has not started
    CLOSED = "closed"  # the session is over (or closing)
    NOT_RELEASED = "not_released"  # a later wave's lot
    NOT_A_LOT = "not_a_lot"  # no lot of this session (forged, or withdrawn by its collector)


@dataclass(frozen=True)
class Caps:
    """A session's caps on the claims held in it: per organisation and per person (None: no cap).

    Where the cap rule lives: storage/wishes.py's CLAIM_UPDATE applies it in the database, and
    that conditional UPDATE is the authority (a claim is won there or not at all). `refusal` is
    the same comparison for the two places that must explain or foresee the database's answer
    without another query: the auction's in-memory ledger (its counts of held and pending
    claims) and the explanation of a refused claim (the counts read in the claim's own
    transaction, by the same SQL the UPDATE counts with)."""

    per_org: int | None = None
    per_person: int | None = None

    def refusal(self, org_held: int, user_held: int) -> tuple[Outcome, int] | None:
        """The cap a claim would break, with the counts of claims held (organisation, person)
        before it: (CAP_ORG or CAP_PERSON, the cap), the organisation's checked first; None when
        both allow it. CLAIM_UPDATE's condition: held < cap, or no cap."""
        if self.per_org is not None and org_held >= self.per_org:
            return Outcome.CAP_ORG, self.per_org
        if self.per_person is not None and user_held >= self.per_person:
            return Outcome.CAP_PERSON, self.per_person
        return None


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

    @property
    def caps(self) -> Caps:
        return Caps(self.cap_per_org, self.cap_per_person)


@dataclass(frozen=True)
class LotFilter:
    """Which lots a cadre browses; every field narrows, None means "any"."""

    category: WishCategory | None = None
    collector_org_id: int | None = None
    grade: str | None = None
    min_value: int | None = None
    max_value: int | None = None


@dataclass(frozen=True)
class LotFacets:
    """What the browsing filters can choose among the released lots still open: the collecting
    organisations (id, name), by name, and the grades, sorted."""

    collectors: tuple[tuple[int, str], ...] = ()
    grades: tuple[str, ...] = ()


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
