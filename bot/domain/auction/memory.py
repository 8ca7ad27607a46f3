"""What the claim path keeps in memory: sessions with their lots, and each live session's ledger.

Lots never change after creation and a session changes only through the service's `open` /
`close` / `cancel`, which forget the cached copy. The ledger is a cache of committed claims; the
database stays the judge (see `Ledger`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from bot.domain.errors import DomainError
from bot.model.auction import AuctionSession, Outcome
from bot.model.wish import Wish
from storage.auction import AuctionRepository


@dataclass
class Ledger:
    """Who holds which lot of a live session, mirrored in memory from committed claims.

    Most taps in a rush are on lots already taken: the ledger answers them without touching the
    database. A lot being claimed right now has a `pending` future: other taps on it wait for
    that outcome instead of racing it. The caps are foreseen with `Caps.refusal` over the claims
    held and pending, the same comparison the database makes (storage.wishes' CLAIM_UPDATE, the
    authority: a claim is won only by that conditional UPDATE, and the ledger follows)."""

    holders: dict[int, tuple[int, int]]  # wish id → (organisation, person)
    pending: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    claimed: dict[int, Wish] = field(default_factory=dict)  # the wishes won through this ledger, as committed
    org_held: Counter[int] = field(default_factory=Counter)  # held and pending, per organisation
    user_held: Counter[int] = field(default_factory=Counter)  # held and pending, per person

    def __post_init__(self) -> None:
        for org_id, user_id in self.holders.values():
            self.org_held[org_id] += 1
            self.user_held[user_id] += 1

    def cap_refusal(self, session: AuctionSession, org_id: int, user_id: int) -> tuple[Outcome, int] | None:
        return session.caps.refusal(self.org_held[org_id], self.user_held[user_id])

    def reserve(self, wish_id: int, org_id: int, user_id: int) -> asyncio.Future[None]:
        """A claim of this lot goes to the database: it counts against the caps meanwhile."""
        attempt: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending[wish_id] = attempt
        self.org_held[org_id] += 1
        self.user_held[user_id] += 1
        return attempt

    def settle(self, wish_id: int, org_id: int, user_id: int, *, won: bool, wish: Wish | None = None) -> None:
        """The database answered: the lot is held (won; `wish` as committed) or the reservation ends."""
        if won:
            self.holders[wish_id] = (org_id, user_id)
            if wish is not None:
                self.claimed[wish_id] = wish
        else:
            self.org_held[org_id] -= 1
            self.user_held[user_id] -= 1
        self.pending.pop(wish_id).set_result(None)


@dataclass
class CachedSession:
    session: AuctionSession
    positions: dict[int, int]  # wish id → position (0-based order of release)
    ledger: Ledger | None = None
    ledger_loading: asyncio.Future[None] | None = None
    loaded_at: float = 0.0


# With several instances on one PostgreSQL database another one claims and releases too: a
# session and its ledger are read again after this long, so a refusal foreseen from memory is
# at most this old (a claim is still won only by the database's conditional UPDATE).
SHARED_MAX_AGE_SECONDS = 1.0


class SessionCache:
    def __init__(self, repo: AuctionRepository) -> None:
        self.repo = repo
        self.max_age = SHARED_MAX_AGE_SECONDS if repo.shared else None
        self._cache: dict[int, CachedSession] = {}
        self._loading: dict[int, asyncio.Future[CachedSession | None]] = {}
        self._generation = 0  # bumped by every state change, so a load racing one is not kept

    def forget(self, session_id: int) -> None:
        self._generation += 1
        self._cache.pop(session_id, None)

    async def get(self, session_id: int) -> CachedSession | None:
        cached = self._cache.get(session_id)
        if cached is not None and self._fresh(cached):
            return cached
        pending = self._loading.get(session_id)
        if pending is not None:  # a burst of first taps: one load for all
            loaded = await asyncio.shield(pending)
            if loaded is not None:
                return loaded
        future: asyncio.Future[CachedSession | None] = asyncio.get_running_loop().create_future()
        self._loading[session_id] = future
        generation = self._generation
        loaded = None
        try:
            found = await self.repo.with_lots(session_id)
            if found is not None:
                loaded = CachedSession(*found, loaded_at=asyncio.get_running_loop().time())
                if generation == self._generation:
                    self._cache[session_id] = loaded
        finally:
            if self._loading.get(session_id) is future:
                del self._loading[session_id]
            future.set_result(loaded)
        return loaded

    def _fresh(self, cached: CachedSession) -> bool:
        return self.max_age is None or asyncio.get_running_loop().time() - cached.loaded_at < self.max_age

    async def session(self, session_id: int) -> AuctionSession:
        cached = await self.get(session_id)
        if cached is None:
            raise DomainError("auction.err_not_found")
        return cached.session

    async def ledger(self, cached: CachedSession) -> Ledger:
        """The session's ledger, loaded once however many taps arrive before it is ready."""
        while cached.ledger is None:
            if cached.ledger_loading is not None:
                await asyncio.shield(cached.ledger_loading)
                continue
            loading: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            cached.ledger_loading = loading
            try:
                cached.ledger = Ledger(dict(await self.repo.holders(cached.session.id)))
            finally:
                loading.set_result(None)
                cached.ledger_loading = None
        return cached.ledger

    def wish_changed(self, wish_id: int) -> None:
        """A wish changed outside a claim (released, reassigned, cancelled): ledgers reload."""
        for cached in self._cache.values():
            if wish_id in cached.positions:
                cached.ledger = None  # a claim in flight still updates the old ledger: harmless
