"""The live wish auction (认领会): sessions of lots that cadres claim for their organisation.

A county admin creates a session (title, start, duration, which open wishes are its lots, caps
per organisation / per person, the fulfilment deadline, optional waves). The lots are a
snapshot taken at creation, ordered by wish id; `position` is the order of release. A wish is a
lot of at most one session that is not over (scheduled or live): the selection skips wishes
that already are, and a list of codes naming one is refused. Reminders to the hub go out 1 day,
1 hour and 5 minutes before the start through the persistent scheduler.

Life of a session: scheduled → live (`open`, at the start) → closed (`close`, at the end or
early by a county admin); or scheduled → cancelled. Every change is a conditional UPDATE naming
the state it expects. The fulfilment deadline is fixed at creation: the scheduled end plus the
deadline days. At the close, unclaimed lots simply stay open wishes ("back in the pool").

Claiming (`claim`, the hot path, ~400 a second in the benchmark):
- the session and its lots (wish id → position) come from memory: lots never change after
  creation and the session only changes through `open` / `close` / `cancel` here, which drop
  the cached copy;
- the organisation a person claims for is the one they hold a role in (org admin or cadre) in
  an organisation that is not archived; with several, the one where they are org admin first,
  then the oldest membership (the repository's cached memberships: one query per person, made
  once however many of their taps arrive together, and for every cadre by `warm_up` when the
  session opens). Nobody in any organisation: "not_cadre";
- then one conditional UPDATE that also enforces the session's caps, audited, as WishService.claim
  does it; the claims of all the taps waiting at that moment go to the database together, in one
  transaction (`AuctionRepository.claim_many`), and each tap gets its own outcome once it is
  committed;
- only when it fails, one read (in the same transaction) tells why: taken (by which
  organisation), already yours, or a cap.
Closing refuses new claims at once and waits for the claims already under way, so the summary
and the claims table agree with what the claimers were told.

Catalog keys (handlers/locales/<lang>/auction_errors.toml, table [auction]):

    errors (DomainError key, params)
        auction.err_not_found                    -
        auction.err_title_empty                  -
        auction.err_title_too_long               length, max
        auction.err_start_in_past                start, now          (local "YYYY-MM-DD HH:MM")
        auction.err_duration_not_number          value, min, max
        auction.err_duration_out_of_range        value, min, max
        auction.err_cap_not_number               value, min, max
        auction.err_cap_out_of_range             value, min, max
        auction.err_deadline_not_number          value, min, max
        auction.err_deadline_out_of_range        value, min, max
        auction.err_waves_format                 value
        auction.err_wave_size_out_of_range       value, min, max
        auction.err_wave_every_out_of_range      value, min, max
        auction.err_waves_too_slow               released, lots, minutes
        auction.err_value_negative               value
        auction.err_value_range                  min, max
        auction.err_code_invalid                 value
        auction.err_codes_unavailable            codes, count
        auction.err_no_lots                      -
        auction.err_not_scheduled                title               (open / cancel a session not scheduled)
        auction.err_not_live                     title               (close a session not live)
        auction.err_group_unknown                -                   (set_board in a chat never seen)
    PermissionDenied: errors.county_admin_only (create, cancel, close early, admin release, reassign);
    release and reassignment refusals are WishService's (wishes.*).
    reminder texts (rendered through `render_reminder`, stored as plain text)
        auction.reminder_1d / auction.reminder_1h / auction.reminder_5m    title, when
"""

from __future__ import annotations

import asyncio
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.errors import DomainError, one_line
from bot.domain.orgs import OrganisationService
from bot.domain.permissions import Permissions
from bot.domain.reminders import ReminderService
from bot.domain.schedule_grammar import Schedule
from bot.domain.wishes import ClaimChange, WishService, clean_reason, parse_code
from bot.domain.xlsx import XlsxWriter
from bot.model.auction import (
    CANCELLED,
    CLOSED,
    LIVE,
    SCHEDULED,
    AuctionSession,
    ClaimRequest,
    ClaimResult,
    ClaimRow,
    LotFilter,
)
from bot.model.organisation import Membership, Role
from bot.model.wish import Wish, WishCategory, WishStatus, wish_code
from storage.auction import AuctionRepository
from storage.audit import AuditRepository
from storage.chats import ChatRepository
from storage.db import Database

__all__ = [
    "AuctionService",
    "AuctionSession",
    "BoardState",
    "ClaimOutcome",
    "ClaimRow",
    "CloseSummary",
    "LotFilter",
    "LotPage",
    "LotSelection",
    "SessionDraft",
    "subject_keys",
]

TITLE_MAX = 60
DURATION_MIN, DURATION_MAX = 5, 240
CAP_MIN, CAP_MAX = 1, 500
DEADLINE_MIN, DEADLINE_MAX = 1, 90
WAVE_SIZE_MIN, WAVE_SIZE_MAX = 1, 500
WAVE_EVERY_MIN, WAVE_EVERY_MAX = 1, 60
START_GRACE = timedelta(minutes=5)  # the creation conversation takes a while: "now" may have passed
PAGE_SIZE_MAX = 50
CLAIMS_PER_TRANSACTION = 200  # a longer batch would hold the database from everyone else for too long
BOARD_LATEST = 5
BOARD_LEADERS = 5
UNAVAILABLE_SHOWN = 10
# Reminders to the hub before the start: subject suffix, how long before, text key.
REMINDERS = (
    ("1d", timedelta(days=1), "auction.reminder_1d"),
    ("1h", timedelta(hours=1), "auction.reminder_1h"),
    ("5m", timedelta(minutes=5), "auction.reminder_5m"),
)
# The claims table as a spreadsheet: its columns (headers: catalog keys auction.claims_col_*) and widths.
CLAIMS_COLUMNS = (
    ("code", 10),
    ("child", 18),
    ("wish", 30),
    ("value", 10),
    ("org", 24),
    ("claimer", 16),
    ("claimed_at", 18),
)
_WAVES = re.compile(r"(\d+)\s*(?:[\s,，/、xX×*]|每)\s*(\d+)\s*(?:分钟|分|min|m)?")

# (catalog key, params) → plain text; Services.build wires it to the configured language's catalog.
RenderReminder = Callable[[str, dict], str]


def subject_keys(session_id: int) -> tuple[str, ...]:
    """The persistent reminders' subject keys of one session."""
    return tuple(f"auction:{session_id}:{suffix}" for suffix, _, _ in REMINDERS)


# ---- records ---------------------------------------------------------------------------------
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
    """What a tap did. outcome: "won" | "taken" | "cap_org" | "cap_person" | "not_cadre" | "not_live"
    | "closed" | "not_released" | "not_a_lot" | "already_yours".

    wish: the wish as its claim left it (won, already_yours), or as it is now when the database
    was asked (taken, caps: only when the in-memory mirror could not answer), else None. taken_by_org: the
    name of the organisation holding it (taken). org_id: the organisation claimed for (won,
    already_yours, cap_org, cap_person) or the one holding the lot (taken). cap: the cap reached."""

    outcome: str
    wish: Wish | None = None
    taken_by_org: str | None = None
    org_id: int | None = None
    cap: int | None = None

    @property
    def won(self) -> bool:
        return self.outcome == "won"


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


@dataclass
class _Cached:
    session: AuctionSession
    positions: dict[int, int]  # wish id → position (0-based order of release)
    ledger: _Ledger | None = None
    ledger_loading: asyncio.Future | None = None


@dataclass
class _Ledger:
    """Who holds which lot of a live session, mirrored in memory from committed claims.

    Most taps in a rush are on lots already taken: the mirror answers them without touching the
    database. A lot being claimed right now has a `pending` future: other taps on it wait for
    that outcome instead of racing it. Caps count held and pending claims. The database stays
    the judge: a claim is won only by its conditional UPDATE, and the mirror follows."""

    holders: dict[int, tuple[int, int]]  # wish id → (organisation, person)
    pending: dict[int, asyncio.Future] = field(default_factory=dict)
    claimed: dict[int, Wish] = field(default_factory=dict)  # the wishes won through this mirror, as committed
    org_held: Counter = field(default_factory=Counter)
    user_held: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for org_id, user_id in self.holders.values():
            self.org_held[org_id] += 1
            self.user_held[user_id] += 1

    def hold(self, wish_id: int, org_id: int, user_id: int, wish: Wish | None = None) -> None:
        self.holders[wish_id] = (org_id, user_id)
        if wish is not None:
            self.claimed[wish_id] = wish


# ---- helpers ----------------------------------------------------------------------------------
def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the auction service; pass an aware datetime")
    return moment.astimezone(UTC).replace(microsecond=0)


def _text(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def _whole_number(value: object, key: str, low: int, high: int, range_key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = _text(value)
        try:
            number = int(text)
        except ValueError:
            raise DomainError(key, value=text[:20], min=low, max=high) from None
    if not low <= number <= high:
        raise DomainError(range_key, value=number, min=low, max=high)
    return number


def _released(session: AuctionSession, now: datetime) -> int:
    if not session.has_waves:
        return session.lot_count
    elapsed = max(0.0, (now - session.starts_at).total_seconds())
    waves = 1 + int(elapsed // (session.wave_every_minutes * 60))
    return min(session.lot_count, session.wave_size * waves)


class AuctionService:
    def __init__(
        self,
        db: Database,
        repo: AuctionRepository,
        wishes: WishService,
        orgs: OrganisationService,
        chats: ChatRepository,
        reminders: ReminderService,
        permissions: Permissions,
        audit: AuditRepository,
        clock: Clock,
        zone: ZoneInfo,
        render_reminder: RenderReminder,
    ) -> None:
        self.db = db
        self.repo = repo
        self.wishes = wishes
        self.orgs = orgs
        self.chats = chats
        self.reminders = reminders
        self.permissions = permissions
        self.audit = audit
        self.clock = clock
        self.zone = zone
        self.render_reminder = render_reminder
        self._cache: dict[int, _Cached] = {}
        self._loading: dict[int, asyncio.Future] = {}
        self._generation = 0  # bumped by every state change, so a load racing one is not kept
        self._closing: set[int] = set()
        self._in_flight: dict[int, int] = {}
        self._drained: dict[int, asyncio.Event] = {}
        self._claims_waiting: list[tuple[ClaimRequest, asyncio.Future]] = []
        self._claims_writer: asyncio.Task | None = None
        self._memberships_loading: dict[int, asyncio.Future] = {}
        wishes.add_listener(self._wish_changed)

    def local_text(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    # ---- validation (the creation conversation uses these one step at a time) ---------------
    def check_title(self, text: str) -> str:
        return one_line(
            text, max_length=TITLE_MAX, empty_key="auction.err_title_empty", too_long_key="auction.err_title_too_long"
        )

    def check_start(self, starts_at: datetime) -> datetime:
        """Not in the past (a few minutes' grace: the conversation takes time). UTC, whole seconds."""
        start = _utc(starts_at)
        now = self.clock.now()
        if start < now - START_GRACE:
            raise DomainError("auction.err_start_in_past", start=self.local_text(start), now=self.local_text(now))
        return start

    def check_duration(self, value: int | str) -> int:
        return _whole_number(
            value, "auction.err_duration_not_number", DURATION_MIN, DURATION_MAX, "auction.err_duration_out_of_range"
        )

    def check_caps(self, value: int | str | None) -> int | None:
        """One cap (per organisation or per person): 1..500, or None (or "") for no cap."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return _whole_number(value, "auction.err_cap_not_number", CAP_MIN, CAP_MAX, "auction.err_cap_out_of_range")

    def check_deadline_days(self, value: int | str) -> int:
        return _whole_number(
            value, "auction.err_deadline_not_number", DEADLINE_MIN, DEADLINE_MAX, "auction.err_deadline_out_of_range"
        )

    def check_waves(
        self,
        value: str | int | tuple[int, int] | None,
        every: int | str | None = None,
        *,
        duration_minutes: int | None = None,
        lot_count: int | None = None,
    ) -> tuple[int, int] | None:
        """ "50 3", (50, 3) or (50, every=3): 50 lots every 3 minutes → (50, 3); None or "" → no waves.

        With the duration and the number of lots, also refuses a rhythm that would not release
        every lot before the end."""
        if every is not None:
            value = (value, every)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, tuple):
            size, every = value
        else:
            match = _WAVES.fullmatch(_text(value))
            if match is None:
                raise DomainError("auction.err_waves_format", value=_text(value)[:20])
            size, every = int(match.group(1)), int(match.group(2))
        size = _whole_number(
            size, "auction.err_waves_format", WAVE_SIZE_MIN, WAVE_SIZE_MAX, "auction.err_wave_size_out_of_range"
        )
        every = _whole_number(
            every, "auction.err_waves_format", WAVE_EVERY_MIN, WAVE_EVERY_MAX, "auction.err_wave_every_out_of_range"
        )
        if duration_minutes is not None and lot_count is not None:
            waves = 1 + (duration_minutes * 60 - 1) // (every * 60)  # the last one before the end
            if size * waves < lot_count:
                raise DomainError(
                    "auction.err_waves_too_slow", released=size * waves, lots=lot_count, minutes=duration_minutes
                )
        return size, every

    def _check_selection(self, selection: LotSelection) -> dict:
        for value in (selection.min_value, selection.max_value):
            if value is not None and value < 0:
                raise DomainError("auction.err_value_negative", value=value)
        if (
            selection.min_value is not None
            and selection.max_value is not None
            and selection.min_value > selection.max_value
        ):
            raise DomainError("auction.err_value_range", min=selection.min_value, max=selection.max_value)
        ids: list[int] | None = None
        if selection.codes:
            ids = []
            for code in selection.codes:
                wish_id = parse_code(code)
                if wish_id is None:
                    raise DomainError("auction.err_code_invalid", value=_text(code)[:20])
                ids.append(wish_id)
            ids = list(dict.fromkeys(ids))
        elif not selection.all_open and not selection.narrowed:
            ids = []
        return {
            "collector_org_ids": tuple(selection.collector_org_ids),
            "categories": tuple(WishCategory(category) for category in selection.categories),
            "min_value": selection.min_value,
            "max_value": selection.max_value,
            "ids": ids,
        }

    async def _select(self, selection: LotSelection) -> list[int]:
        """The lots' wish ids, by id; a code that is no open wish free of other sessions is refused."""
        where = self._check_selection(selection)
        if where["ids"]:
            free = set(
                await self.repo.selectable_ids(
                    collector_org_ids=(), categories=(), min_value=None, max_value=None, ids=where["ids"]
                )
            )
            unavailable = [wish_code(wish_id) for wish_id in where["ids"] if wish_id not in free]
            if unavailable:
                shown = "、".join(unavailable[:UNAVAILABLE_SHOWN]) + (
                    "…" if len(unavailable) > UNAVAILABLE_SHOWN else ""
                )
                raise DomainError("auction.err_codes_unavailable", codes=shown, count=len(unavailable))
        return await self.repo.selectable_ids(**where)

    async def preview(self, selection: LotSelection) -> int:
        """How many open wishes the selection takes (not counting lots of other sessions not yet over)."""
        where = self._check_selection(selection)
        if where["ids"]:
            return len(await self._select(selection))
        return await self.repo.count_selectable(**where)

    # ---- sessions ---------------------------------------------------------------------------
    async def get(self, session_id: int) -> AuctionSession:
        cached = await self._cached(session_id)
        if cached is None:
            raise DomainError("auction.err_not_found")
        return cached.session

    async def live_sessions(self) -> list[AuctionSession]:
        return await self.repo.in_states((LIVE,))

    async def upcoming_sessions(self) -> list[AuctionSession]:
        """Scheduled and live sessions, the soonest first."""
        return await self.repo.in_states((SCHEDULED, LIVE))

    async def create(self, actor_id: int, draft: SessionDraft) -> AuctionSession:
        await self.permissions.require_county_admin(actor_id)
        title = self.check_title(draft.title)
        starts_at = self.check_start(draft.starts_at)
        duration = self.check_duration(draft.duration_minutes)
        cap_org, cap_person = self.check_caps(draft.cap_per_org), self.check_caps(draft.cap_per_person)
        deadline_days = self.check_deadline_days(draft.deadline_days)
        waves = None
        if draft.wave_size is not None or draft.wave_every_minutes is not None:
            if draft.wave_size is None or draft.wave_every_minutes is None:
                raise DomainError("auction.err_waves_format", value=f"{draft.wave_size} {draft.wave_every_minutes}")
            waves = (draft.wave_size, draft.wave_every_minutes)
        ends_at = starts_at + timedelta(minutes=duration)
        deadline = ends_at + timedelta(days=deadline_days)
        now = self.clock.now()
        async with self.db.transaction():
            wish_ids = await self._select(draft.selection)
            if not wish_ids:
                raise DomainError("auction.err_no_lots")
            waves = self.check_waves(waves, duration_minutes=duration, lot_count=len(wish_ids))
            session_id = await self.repo.add(
                title=title,
                starts_at=starts_at,
                ends_at=ends_at,
                cap_per_org=cap_org,
                cap_per_person=cap_person,
                fulfilment_deadline=deadline,
                wave_size=waves[0] if waves else None,
                wave_every_minutes=waves[1] if waves else None,
                created_by=actor_id,
                now=now,
                wish_ids=wish_ids,
            )
            session = await self.repo.get(session_id)
            await self.audit.record(
                now,
                actor_id,
                "auction.create",
                f"auction:{session_id}",
                title=title,
                starts_at=self.local_text(starts_at),
                minutes=duration,
                lots=len(wish_ids),
                cap_per_org=cap_org,
                cap_per_person=cap_person,
                deadline_days=deadline_days,
                waves=list(waves) if waves else None,
            )
            await self._set_reminders(session)
        return session

    async def cancel(self, actor_id: int, session_id: int) -> AuctionSession:
        """A scheduled session only; a live one is closed (early) instead."""
        await self.permissions.require_county_admin(actor_id)
        async with self.db.transaction():
            session = await self._read(session_id)
            if not await self.repo.change_state(session_id, expect=SCHEDULED, state=CANCELLED, now=self.clock.now()):
                raise DomainError("auction.err_not_scheduled", title=session.title)
            await self.audit.record(self.clock.now(), actor_id, "auction.cancel", f"auction:{session_id}")
            for subject in subject_keys(session_id):
                await self.reminders.cancel_subject(subject)
            self._forget(session_id)
        return await self._read(session_id)

    async def due_to_open(self, now: datetime) -> list[AuctionSession]:
        return await self.repo.due_to_open(now)

    async def open(self, session_id: int) -> AuctionSession:
        """scheduled → live; a DomainError if it was not scheduled (already opened, or cancelled)."""
        async with self.db.transaction():
            session = await self._read(session_id)
            now = self.clock.now()
            if not await self.repo.change_state(session_id, expect=SCHEDULED, state=LIVE, now=now):
                raise DomainError("auction.err_not_scheduled", title=session.title)
            await self.audit.record(now, None, "auction.open", f"auction:{session_id}")
            self._forget(session_id)
        return await self._read(session_id)

    async def due_to_close(self, now: datetime) -> list[AuctionSession]:
        return await self.repo.due_to_close(now)

    async def close(self, actor_id: int | None, session_id: int) -> CloseSummary:
        """live → closed: at the end (actor None, the scheduler) or early by a county admin.

        New claims are refused from this moment; the claims already under way finish first, so
        the summary counts exactly the claims whose claimers were told they won."""
        if actor_id is not None:
            await self.permissions.require_county_admin(actor_id)
        session = await self._read(session_id)
        if session.state != LIVE or session_id in self._closing:  # over, or being closed right now
            raise DomainError("auction.err_not_live", title=session.title)
        self._closing.add(session_id)
        try:
            await self._drain(session_id)
            now = self.clock.now()
            async with self.db.transaction():
                if not await self.repo.change_state(session_id, expect=LIVE, state=CLOSED, now=now):
                    raise DomainError("auction.err_not_live", title=session.title)
                self._forget(session_id)
                claimed, _open = await self.repo.counts(session_id)
                per_org = tuple(await self.repo.per_org(session_id))
                unclaimed = tuple(wish_code(wish_id) for wish_id in await self.repo.open_lot_ids(session_id))
                minutes = max(1, round((now - session.starts_at).total_seconds() / 60))
                await self.audit.record(
                    now,
                    actor_id,
                    "auction.close",
                    f"auction:{session_id}",
                    claimed=claimed,
                    total=session.lot_count,
                    early=actor_id is not None,
                )
        finally:
            self._closing.discard(session_id)
        closed = await self._read(session_id)
        return CloseSummary(
            session=closed,
            claimed=claimed,
            total=closed.lot_count,
            minutes=minutes,
            per_org=per_org,
            unclaimed=len(unclaimed),
            unclaimed_codes=unclaimed,
        )

    def released_count(self, session: AuctionSession, now: datetime) -> int:
        """Waves: wave_size × (1 + whole wave periods since the start), at most every lot; no waves: all."""
        return _released(session, now)

    # ---- the claim (hot path) ---------------------------------------------------------------
    async def claim(self, user_id: int, session_id: int, wish_id: int) -> ClaimOutcome:
        now = self.clock.now()
        cached = await self._cached(session_id)
        if cached is None:
            return ClaimOutcome("not_a_lot")
        session = cached.session
        if session.state == SCHEDULED:
            return ClaimOutcome("not_live")
        if session.state != LIVE or now >= session.ends_at or session_id in self._closing:
            return ClaimOutcome("closed")
        position = cached.positions.get(wish_id)
        if position is None:
            return ClaimOutcome("not_a_lot")
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

    async def _claim(self, user_id: int, cached: _Cached, wish_id: int, position: int, now: datetime) -> ClaimOutcome:
        session = cached.session
        org_id = await self.claiming_org(user_id)
        if org_id is None:
            return ClaimOutcome("not_cadre")
        if position >= _released(session, now):
            return ClaimOutcome("not_released", org_id=org_id)
        ledger = await self._ledger(cached)
        while (pending := ledger.pending.get(wish_id)) is not None:
            await asyncio.shield(pending)  # someone is claiming it this instant: their outcome first
        known = await self._answer_from_ledger(ledger, session, wish_id, org_id, user_id)
        if known is not None:
            return known
        attempt = asyncio.get_running_loop().create_future()
        ledger.pending[wish_id] = attempt
        ledger.org_held[org_id] += 1
        ledger.user_held[user_id] += 1
        outcome = ClaimOutcome("taken", org_id=org_id)
        try:
            outcome = await self._claim_in_database(user_id, org_id, session, wish_id, now)
        finally:
            ledger.org_held[org_id] -= 1
            ledger.user_held[user_id] -= 1
            if outcome.outcome == "won":
                ledger.hold(wish_id, org_id, user_id, outcome.wish)
                ledger.org_held[org_id] += 1
                ledger.user_held[user_id] += 1
            del ledger.pending[wish_id]
            attempt.set_result(None)
        return outcome

    async def _answer_from_ledger(
        self, ledger: _Ledger, session: AuctionSession, wish_id: int, org_id: int, user_id: int
    ) -> ClaimOutcome | None:
        holder = ledger.holders.get(wish_id)
        if holder is not None:
            holder_org, holder_user = holder
            if holder_user == user_id:  # a double tap: the wish as claimed, read only if this mirror did not see it
                wish = ledger.claimed.get(wish_id) or await self.wishes.get(wish_id)
                return ClaimOutcome("already_yours", wish=wish, org_id=holder_org)
            org = await self.orgs.get(holder_org)
            return ClaimOutcome("taken", taken_by_org=org.name, org_id=holder_org)
        if session.cap_per_org is not None and ledger.org_held[org_id] >= session.cap_per_org:
            return ClaimOutcome("cap_org", org_id=org_id, cap=session.cap_per_org)
        if session.cap_per_person is not None and ledger.user_held[user_id] >= session.cap_per_person:
            return ClaimOutcome("cap_person", org_id=org_id, cap=session.cap_per_person)
        return None

    async def _claim_in_database(
        self, user_id: int, org_id: int, session: AuctionSession, wish_id: int, now: datetime
    ) -> ClaimOutcome:
        if not await self.permissions.is_member(user_id, org_id):  # the membership ended a moment ago
            return ClaimOutcome("not_cadre")
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
        for _attempt in range(3):
            result = await self._write_claim(request)
            if result.won:
                return ClaimOutcome("won", wish=result.wish, org_id=org_id)
            why = result.why
            wish = why.wish
            if wish is None or wish.status is WishStatus.CANCELLED:
                return ClaimOutcome("not_a_lot")  # withdrawn by its collector meanwhile
            if wish.status is not WishStatus.OPEN:
                if wish.claimed_by_user == user_id:
                    return ClaimOutcome("already_yours", wish=wish, org_id=wish.claimed_by_org)
                return ClaimOutcome("taken", wish=wish, taken_by_org=why.holder_org_name, org_id=wish.claimed_by_org)
            if session.cap_per_org is not None and why.org_held >= session.cap_per_org:
                return ClaimOutcome("cap_org", wish=wish, org_id=org_id, cap=session.cap_per_org)
            if session.cap_per_person is not None and why.user_held >= session.cap_per_person:
                return ClaimOutcome("cap_person", wish=wish, org_id=org_id, cap=session.cap_per_person)
            # Open and under the caps: released or uncapped meanwhile. Try again.
        return ClaimOutcome("taken", wish=wish, org_id=org_id)

    async def _write_claim(self, request: ClaimRequest) -> ClaimResult:
        """The claim, committed together with the others waiting: one transaction for them all."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._claims_waiting.append((request, done))
        if self._claims_writer is None:
            self._claims_writer = loop.create_task(self._write_claims())
        return await done

    async def _write_claims(self) -> None:
        """While claims wait: commit them in batches, in the order they came. The claims arriving
        during one batch's transaction form the next one."""
        batch: list[tuple[ClaimRequest, asyncio.Future]] = []
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
        cached = await self._cached(session_id)
        if cached is None or cached.session.state != LIVE:
            return
        await self._ledger(cached)
        for user_id in await self.repo.cadre_ids():
            await self._memberships(user_id)

    async def _memberships(self, user_id: int) -> list[Membership]:
        """A person's memberships (cached by the repository), read once however many of their
        taps arrive before the first read is answered: a rush starts with every cadre's first
        taps at once, and each would otherwise queue its own query."""
        while (loading := self._memberships_loading.get(user_id)) is not None:
            await asyncio.shield(loading)
        loading = self._memberships_loading[user_id] = asyncio.get_running_loop().create_future()
        try:
            return await self.permissions.memberships_of(user_id)
        finally:
            del self._memberships_loading[user_id]
            loading.set_result(None)

    async def _ledger(self, cached: _Cached) -> _Ledger:
        """The session's mirror, loaded once however many taps arrive before it is ready."""
        while cached.ledger is None:
            if cached.ledger_loading is not None:
                await asyncio.shield(cached.ledger_loading)
                continue
            cached.ledger_loading = asyncio.get_running_loop().create_future()
            try:
                cached.ledger = _Ledger(dict(await self.repo.holders(cached.session.id)))
            finally:
                cached.ledger_loading.set_result(None)
                cached.ledger_loading = None
        return cached.ledger

    def _wish_changed(self, wish_id: int) -> None:
        """A wish changed outside a claim (released, reassigned, cancelled): mirrors reload."""
        for cached in self._cache.values():
            if wish_id in cached.positions:
                cached.ledger = None  # a claim in flight still updates the old mirror: harmless

    # ---- releases and reassignments (WishService audits each) --------------------------------
    async def release(self, user_id: int, wish_id: int) -> ClaimChange:
        """The claimer, within the release window (2 minutes) of claiming."""
        return await self.wishes.release_claim(wish_id, user_id, None)

    async def admin_release(self, actor_id: int, wish_id: int, reason: str) -> ClaimChange:
        await self.permissions.require_county_admin(actor_id)
        return await self.wishes.release_claim(wish_id, actor_id, clean_reason(reason))

    async def reassign(self, actor_id: int, wish_id: int, to_user_id: int, to_org_id: int, reason: str) -> ClaimChange:
        return await self.wishes.reassign(actor_id, wish_id, to_user_id, to_org_id, reason)

    # ---- the board, browsing, the claims -------------------------------------------------------
    async def board(self, session_id: int, now: datetime) -> BoardState:
        session = await self.get(session_id)
        claimed, left = await self.repo.counts(session_id)
        return BoardState(
            session=session,
            claimed=claimed,
            left=left,
            released=_released(session, now),
            latest=tuple(await self.repo.latest(session_id, BOARD_LATEST)),
            leaders=tuple(await self.repo.per_org(session_id, BOARD_LEADERS)),
            seconds_left=max(0, int((session.ends_at - now).total_seconds())) if not session.over else 0,
        )

    async def browse(
        self, session_id: int, user_id: int, filters: LotFilter | None = None, page: int = 1, page_size: int = 8
    ) -> LotPage:
        """Released lots still open, in the order of release; nothing unless the session is live.

        Anyone with the link may look (`user_id` is not checked); claiming checks who claims."""
        session = await self.get(session_id)
        page_size = max(1, min(page_size, PAGE_SIZE_MAX))
        if session.state != LIVE:
            return LotPage(items=(), total=0, page=1, pages=1)
        released = _released(session, self.clock.now())
        lot_filter = filters or LotFilter()
        total = await self.repo.count_lots(session_id, released, lot_filter)
        pages = max(1, math.ceil(total / page_size))
        page = max(1, min(page, pages))
        items = await self.repo.lots(session_id, released, lot_filter, limit=page_size, offset=(page - 1) * page_size)
        return LotPage(items=tuple(items), total=total, page=page, pages=pages)

    async def claims_table(self, session_id: int) -> list[ClaimRow]:
        """The claims made in the session and still held, oldest first: public fields only."""
        await self.get(session_id)
        return await self.repo.claims(session_id)

    async def claims_xlsx(self, session_id: int, labels: Callable[[str], str], zone: ZoneInfo | None = None) -> bytes:
        """The claims table (public fields only) as XLSX; headers from `labels` (the reader's
        language), claim times as real dates in `zone`."""
        zone = zone or self.zone
        rows = await self.claims_table(session_id)
        book = XlsxWriter()
        header = [labels(f"auction.claims_col_{name}") for name, _ in CLAIMS_COLUMNS]
        with book.sheet(labels("auction.claims_sheet"), header, [width for _, width in CLAIMS_COLUMNS]) as sheet:
            for row in rows:
                sheet.row(
                    (
                        row.code,
                        row.alias_grade,
                        row.text,
                        row.value_yuan,
                        row.org_name,
                        row.user_display_name,
                        row.claimed_at.astimezone(zone).replace(tzinfo=None),
                    )
                )
        return book.close()

    async def set_board(self, session_id: int, chat_id: int, message_id: int) -> None:
        chat = await self.chats.get(chat_id)
        if chat is None:
            raise DomainError("auction.err_group_unknown")
        await self.repo.set_board(session_id, chat.id, message_id)

    async def board_message(self, session_id: int) -> tuple[int, int] | None:
        """(current chat id, message id) of the live board, or None before it is posted."""
        return await self.repo.board_message(session_id)

    # ---- reminders --------------------------------------------------------------------------
    async def _set_reminders(self, session: AuctionSession) -> None:
        """1 day, 1 hour and 5 minutes before the start, to the hub; one already passed is dropped."""
        params = {"title": session.title, "when": self.local_text(session.starts_at)}
        for suffix, before, key in REMINDERS:
            await self.reminders.set_for_subject(
                f"auction:{session.id}:{suffix}",
                "hub",
                None,
                self.render_reminder(key, params),
                Schedule(kind="once", at=session.starts_at - before, time=None),
            )

    # ---- the in-memory copy of sessions and their lots -------------------------------------------
    async def _read(self, session_id: int) -> AuctionSession:
        session = await self.repo.get(session_id)
        if session is None:
            raise DomainError("auction.err_not_found")
        return session

    def _forget(self, session_id: int) -> None:
        self._generation += 1
        self._cache.pop(session_id, None)

    async def _cached(self, session_id: int) -> _Cached | None:
        cached = self._cache.get(session_id)
        if cached is not None:
            return cached
        pending = self._loading.get(session_id)
        if pending is not None:  # a burst of first taps: one load for all
            loaded = await asyncio.shield(pending)
            if loaded is not None:
                return loaded
        future = asyncio.get_running_loop().create_future()
        self._loading[session_id] = future
        generation = self._generation
        loaded = None
        try:
            found = await self.repo.with_lots(session_id)
            if found is not None:
                loaded = _Cached(*found)
                if generation == self._generation:
                    self._cache[session_id] = loaded
        finally:
            if self._loading.get(session_id) is future:
                del self._loading[session_id]
            future.set_result(loaded)
        return loaded

    async def _drain(self, session_id: int) -> None:
        while self._in_flight.get(session_id):
            event = self._drained.setdefault(session_id, asyncio.Event())
            await event.wait()
