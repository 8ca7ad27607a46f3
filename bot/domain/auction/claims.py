"""The claim (the hot path, ~400 taps a second in the benchmark) and the organisation claimed for.

- the session and its lots (wish id → position) come from memory (memory.py);
- the organisation a person claims for is the one they hold a role in (org admin or cadre) in
  an organisation that is not archived; with several, the one where they are org admin first,
  then the oldest membership (the repository's cached memberships: one query per person, made
  once however many of their taps arrive together, and for every cadre by `warm_up` when the
  session opens). Nobody in any organisation: NOT_CADRE;
- a tap on a lot the ledger knows as held, or over a cap by the ledger's counts, is answered
  from memory;
- otherwise one conditional UPDATE that also enforces the session's caps, with its audit entry
  (storage.wishes' CLAIM_UPDATE and CLAIM_AUDIT, as WishService.claim does it); the claims of all
  the taps waiting at that moment go to the database together, in one transaction
  (`AuctionRepository.claim_many`), and each tap gets its own outcome once it is committed;
- only when it fails, one read (in the same transaction) tells why: taken (by which
  organisation), already yours, or a cap (`Caps.refusal` over the counts the UPDATE used);
- a win queues the winner's private message in the outbox in the same transaction (WON_CLAIM),
  so a crash after the commit cannot leave a winner untold.
Closing refuses new claims at once (`closing`) and waits for the claims already under way
(`drain`), so the summary and the claims table agree with what the claimers were told.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.domain.clock import Clock
from bot.domain.orgs import OrganisationService
from bot.domain.outbox import WON_CLAIM, Outbox
from bot.domain.permissions import Permissions
from bot.domain.wishes import WishService
from bot.model.auction import LIVE, SCHEDULED, AuctionSession, ClaimRequest, ClaimResult, Outcome
from bot.model.organisation import Membership, Role
from bot.model.outbox import Priority
from bot.model.wish import WishStatus
from storage.auction import AuctionRepository

from .memory import CachedSession, Ledger, SessionCache
from .records import ClaimOutcome
from .rules import released

CLAIMS_PER_TRANSACTION = 200  # a longer batch would hold the database from everyone else for too long
_ATTEMPTS = 3  # a claim refused although open and under the caps (released meanwhile) is tried again


class ClaimDesk:
    def __init__(
        self,
        repo: AuctionRepository,
        sessions: SessionCache,
        wishes: WishService,
        orgs: OrganisationService,
        permissions: Permissions,
        clock: Clock,
        outbox: Outbox,
    ) -> None:
        self.repo = repo
        self.outbox = outbox
        repo.queue_winners_notice(WON_CLAIM, Priority.NOTICE)  # each win queues its winner's message
        self.sessions = sessions
        self.wishes = wishes
        self.orgs = orgs
        self.permissions = permissions
        self.clock = clock
        self.closing: set[int] = set()  # sessions being closed: their taps are refused
        self._in_flight: dict[int, int] = {}
        self._drained: dict[int, asyncio.Event] = {}
        self._claims_waiting: list[tuple[ClaimRequest, asyncio.Future[ClaimResult]]] = []
        self._claims_writer: asyncio.Task[None] | None = None
        self._memberships_loading: dict[int, asyncio.Future[None]] = {}

    async def claim(self, user_id: int, session_id: int, wish_id: int) -> ClaimOutcome:
        now = self.clock.now()
        cached = await self.sessions.get(session_id)
        if cached is None:
            return ClaimOutcome(Outcome.NOT_A_LOT)
        session = cached.session
        if session.state == SCHEDULED:
            return ClaimOutcome(Outcome.NOT_LIVE)
        if session.state != LIVE or now >= session.ends_at or session_id in self.closing:
            return ClaimOutcome(Outcome.CLOSED)
        position = cached.positions.get(wish_id)
        if position is None:
            return ClaimOutcome(Outcome.NOT_A_LOT)
        self._in_flight[session_id] = self._in_flight.get(session_id, 0) + 1
        try:
            return await self._claim(user_id, cached, wish_id, position, now)
        finally:
            self._in_flight[session_id] -= 1
            if not self._in_flight[session_id]:
                del self._in_flight[session_id]
                drained = self._drained.pop(session_id, None)
                if drained is not None:
                    drained.set()

    async def drain(self, session_id: int) -> None:
        """Wait until no claim of the session is under way."""
        while self._in_flight.get(session_id):
            event = self._drained.setdefault(session_id, asyncio.Event())
            await event.wait()

    async def _claim(
        self, user_id: int, cached: CachedSession, wish_id: int, position: int, now: datetime
    ) -> ClaimOutcome:
        session = cached.session
        org_id = await self.claiming_org(user_id)
        if org_id is None:
            return ClaimOutcome(Outcome.NOT_CADRE)
        if position >= released(session, now):
            return ClaimOutcome(Outcome.NOT_RELEASED, org_id=org_id)
        ledger = await self.sessions.ledger(cached)
        while (pending := ledger.pending.get(wish_id)) is not None:
            await asyncio.shield(pending)  # someone is claiming it this instant: their outcome first
        known = await self._answer_from_ledger(ledger, session, wish_id, org_id, user_id)
        if known is not None:
            return known
        ledger.reserve(wish_id, org_id, user_id)
        outcome = ClaimOutcome(Outcome.TAKEN, org_id=org_id)
        try:
            outcome = await self._claim_in_database(user_id, org_id, session, wish_id, now)
        finally:
            ledger.settle(wish_id, org_id, user_id, won=outcome.won, wish=outcome.wish)
        return outcome

    async def _answer_from_ledger(
        self, ledger: Ledger, session: AuctionSession, wish_id: int, org_id: int, user_id: int
    ) -> ClaimOutcome | None:
        holder = ledger.holders.get(wish_id)
        if holder is not None:
            holder_org, holder_user = holder
            if holder_user == user_id:  # a double tap: the wish as claimed, read only if this ledger did not see it
                wish = ledger.claimed.get(wish_id) or await self.wishes.get(wish_id)
                return ClaimOutcome(Outcome.ALREADY_YOURS, wish=wish, org_id=holder_org)
            org = await self.orgs.get(holder_org)
            return ClaimOutcome(Outcome.TAKEN, taken_by_org=org.name, org_id=holder_org)
        refusal = ledger.cap_refusal(session, org_id, user_id)
        if refusal is not None:
            kind, cap = refusal
            return ClaimOutcome(kind, org_id=org_id, cap=cap)
        return None

    async def _claim_in_database(
        self, user_id: int, org_id: int, session: AuctionSession, wish_id: int, now: datetime
    ) -> ClaimOutcome:
        if not await self.permissions.is_member(user_id, org_id):  # the membership ended a moment ago
            return ClaimOutcome(Outcome.NOT_CADRE)
        request = ClaimRequest(
            wish_id=wish_id,
            user_id=user_id,
            org_id=org_id,
            session_id=session.id,
            deadline=session.fulfilment_deadline,
            now=now,
            max_per_org=session.cap_per_org,
            max_per_user=session.cap_per_person,
        )
        wish = None
        for _attempt in range(_ATTEMPTS):
            result = await self._write_claim(request)
            if result.won:
                return ClaimOutcome(Outcome.WON, wish=result.wish, org_id=org_id)
            why = result.why
            wish = why.wish if why is not None else None
            if why is None or wish is None or wish.status is WishStatus.CANCELLED:
                return ClaimOutcome(Outcome.NOT_A_LOT)  # withdrawn by its collector meanwhile
            if wish.status is not WishStatus.OPEN:
                if wish.claimed_by_user == user_id:
                    return ClaimOutcome(Outcome.ALREADY_YOURS, wish=wish, org_id=wish.claimed_by_org)
                return ClaimOutcome(
                    Outcome.TAKEN, wish=wish, taken_by_org=why.holder_org_name, org_id=wish.claimed_by_org
                )
            refusal = session.caps.refusal(why.org_held, why.user_held)
            if refusal is not None:
                kind, cap = refusal
                return ClaimOutcome(kind, wish=wish, org_id=org_id, cap=cap)
            # Open and under the caps: released or uncapped meanwhile. Try again.
        return ClaimOutcome(Outcome.TAKEN, wish=wish, org_id=org_id)

    async def _write_claim(self, request: ClaimRequest) -> ClaimResult:
        """The claim, committed together with the others waiting: one transaction for them all."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[ClaimResult] = loop.create_future()
        self._claims_waiting.append((request, done))
        if self._claims_writer is None:
            self._claims_writer = loop.create_task(self._write_claims())
        return await done

    async def _write_claims(self) -> None:
        """While claims wait: commit them in batches, in the order they came. The claims arriving
        during one batch's transaction form the next one."""
        batch: list[tuple[ClaimRequest, asyncio.Future[ClaimResult]]] = []
        try:
            while self._claims_waiting:
                batch = self._claims_waiting[:CLAIMS_PER_TRANSACTION]
                del self._claims_waiting[:CLAIMS_PER_TRANSACTION]
                try:
                    results = await self.repo.claim_many([request for request, _ in batch])
                except Exception as error:  # noqa: BLE001 - nothing was committed: every tap of the batch gets it
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                    continue
                if any(result.won for result in results):
                    self.outbox.wake()
                for (_, done), result in zip(batch, results, strict=True):
                    if not done.done():
                        done.set_result(result)
        except BaseException:  # cancelled (the loop is closing): nobody may wait for ever
            for _, done in batch + self._claims_waiting:
                done.cancel()
            self._claims_waiting.clear()
            raise
        finally:
            self._claims_writer = None

    # ---- who claims for which organisation ----------------------------------------------------
    async def claiming_org(self, user_id: int) -> int | None:
        """The organisation a person claims for: where they are org admin, else their oldest
        membership; archived organisations do not count. From cached memberships: no query."""
        memberships = await self._memberships(user_id)
        if len(memberships) > 1:
            memberships = sorted(memberships, key=lambda m: (m.role is not Role.ORG_ADMIN, m.started_at, m.id))
        for membership in memberships:
            org = await self.orgs.orgs.get(membership.org_id)
            if org is not None and org.active:
                return org.id
        return None

    async def warm_up(self, session_id: int) -> None:
        """At the start of a live session, before the rush: the session and its lots, who holds
        what, and every cadre's memberships (read person by person, as their first tap would) in
        memory, so that the first taps of a rush do not queue at the database one by one."""
        cached = await self.sessions.get(session_id)
        if cached is None or cached.session.state != LIVE:
            return
        await self.sessions.ledger(cached)
        for user_id in await self.repo.cadre_ids():
            await self._memberships(user_id)

    async def _memberships(self, user_id: int) -> list[Membership]:
        """A person's memberships (cached by the repository), read once however many of their
        taps arrive before the first read is answered: a rush starts with every cadre's first
        taps at once, and each would otherwise queue its own query."""
        while (loading := self._memberships_loading.get(user_id)) is not None:
            await asyncio.shield(loading)
        waiting: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._memberships_loading[user_id] = waiting
        try:
            return await self.permissions.memberships_of(user_id)
        finally:
            del self._memberships_loading[user_id]
            waiting.set_result(None)
