"""What the auction service takes and gives: the creation draft, a tap's outcome, the read models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.model.auction import AuctionSession, Outcome
from bot.model.wish import Wish, WishCategory


@dataclass(frozen=True)
class LotSelection:
    """Which open wishes become the lots. Every non-empty field narrows the choice (they combine);
    with none, all open wishes. `all_open` only says the creator chose "all": all_open=False with
    no narrowing field selects nothing."""

    all_open: bool = True
    collector_org_ids: tuple[int, ...] = ()
    categories: tuple[WishCategory, ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    codes: tuple[str, ...] = ()

    @property
    def narrowed(self) -> bool:
        return bool(
            self.collector_org_ids
            or self.categories
            or self.codes
            or self.min_value is not None
            or self.max_value is not None
        )


@dataclass(frozen=True, kw_only=True)
class SessionDraft:
    """What the creation conversation collects (keyword arguments only)."""

    title: str
    starts_at: datetime  # aware
    duration_minutes: int = 30
    selection: LotSelection = LotSelection()
    cap_per_org: int | None = None
    cap_per_person: int | None = None
    deadline_days: int = 14
    wave_size: int | None = None
    wave_every_minutes: int | None = None


@dataclass(frozen=True)
class ClaimOutcome:
    """What a tap did (`outcome`, see `Outcome`).

    wish: the wish as its claim left it (won, already_yours), or as it is now when the database
    was asked (taken, caps: only when the in-memory ledger could not answer), else None.
    taken_by_org: the name of the organisation holding it (taken). org_id: the organisation
    claimed for (won, already_yours, cap_org, cap_person) or the one holding the lot (taken).
    cap: the cap reached."""

    outcome: Outcome
    wish: Wish | None = None
    taken_by_org: str | None = None
    org_id: int | None = None
    cap: int | None = None

    @property
    def won(self) -> bool:
        return self.outcome is Outcome.WON


@dataclass(frozen=True)
class BoardState:
    session: AuctionSession
    claimed: int  # lots claimed in this session and still held
    left: int  # lots still open (released or not)
    released: int  # how many lots the waves have released so far (all without waves)
    latest: tuple[tuple[str, str], ...]  # (code, organisation), newest first, at most 5
    leaders: tuple[tuple[str, int], ...]  # (organisation, claims), most first, at most 5
    seconds_left: int


@dataclass(frozen=True)
class CloseSummary:
    session: AuctionSession
    claimed: int
    total: int
    minutes: int  # from the start to the close
    per_org: tuple[tuple[str, int], ...]  # every claiming organisation, most first
    unclaimed: int  # lots still open: back in the pool
    unclaimed_codes: tuple[str, ...]


@dataclass(frozen=True)
class LotPage:
    items: tuple[Wish, ...]
    total: int
    page: int  # 1-based, clamped to 1..pages
    pages: int  # at least 1
