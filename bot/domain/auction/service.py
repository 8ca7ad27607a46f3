"""`AuctionService`: the one entry to the auction. It owns a session's life and who may change it,
and hands the claim path (claims.py) and the read models (browsing.py) their parts.

Life of a session: scheduled → live (`open`, at the start) → closed (`close`, at the end or
early by a county admin); or scheduled → cancelled. Every change is a conditional UPDATE naming
the state it expects, and forgets the in-memory copy. The fulfilment deadline is fixed at
creation: the end (23:59:59, in the configured zone) of the day that is the deadline days after
the scheduled end; it is shown as that date. At the close, unclaimed lots simply stay
open wishes ("back in the pool"). Reminders to the hub go out 1 day, 1 hour and 5 minutes
before the start through the persistent scheduler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.formatting import local_text
from bot.domain.orgs import OrganisationService
from bot.domain.outbox import Outbox
from bot.domain.permissions import Permissions
from bot.domain.reminders import ReminderService
from bot.domain.schedule_grammar import Schedule
from bot.domain.wishes import ClaimChange, WishService, clean_reason
from bot.model.auction import CANCELLED, CLOSED, LIVE, SCHEDULED, AuctionSession, ClaimRow, LotFacets, LotFilter
from bot.model.organisation import Organisation, Person
from bot.model.wish import Wish, wish_code
from storage.auction import AuctionRepository
from storage.audit import AuditRepository
from storage.chats import ChatRepository
from storage.db import Database

from . import rules
from .browsing import Browsing
from .claims import ClaimDesk
from .memory import SessionCache
from .records import BoardState, ClaimOutcome, CloseSummary, LotPage, LotSelection, SessionDraft

UNAVAILABLE_SHOWN = 10
END_OF_DAY = time(23, 59, 59)  # a deadline is a date: it ends with that day (stored to the second)
# Reminders to the hub before the start: subject suffix, how long before, text key.
REMINDERS = (
    ("1d", timedelta(days=1), "auction.reminder_1d"),
    ("1h", timedelta(hours=1), "auction.reminder_1h"),
    ("5m", timedelta(minutes=5), "auction.reminder_5m"),
)

# (catalog key, params) → plain text; Services.build wires it to the configured language's catalog.
RenderReminder = Callable[[str, dict[str, object]], str]


def fulfilment_deadline(ends_at: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The end of the local day `days` days after the session's end: people read a deadline as a
    date, so it lasts all that day, and a claim is overdue only once that day is over. (The
    claimers' reminders 3 days and 1 day before it then fall at 23:59:59, inside the default
    quiet hours: they go out when those end, the next morning.)"""
    day = (ends_at.astimezone(zone) + timedelta(days=days)).date()
    return datetime.combine(day, END_OF_DAY, tzinfo=zone).astimezone(ends_at.tzinfo)


def subject_keys(session_id: int) -> tuple[str, ...]:
    """The persistent reminders' subject keys of one session."""
    return tuple(f"auction:{session_id}:{suffix}" for suffix, _, _ in REMINDERS)


@dataclass(frozen=True)
class Reassignment:
    change: ClaimChange
    org: Organisation  # the organisation the claim now counts for


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
        *,
        outbox: Outbox,
    ) -> None:
        self.db = db
        self.repo = repo
        self.wishes = wishes
        self.orgs = orgs
        self.reminders = reminders
        self.permissions = permissions
        self.audit = audit
        self.clock = clock
        self.zone = zone
        self.render_reminder = render_reminder
        self.sessions = SessionCache(repo)
        self.claims = ClaimDesk(repo, self.sessions, wishes, orgs, permissions, clock, outbox)
        self.browsing = Browsing(repo, self.sessions, chats, clock, zone)
        wishes.add_listener(self.sessions.wish_changed)

    # ---- who may create, and what they enter (the conversation checks one step at a time) -------
    async def require_creator(self, actor_id: int) -> None:
        """Sessions are the county admins': checked before the creation conversation's first
        step, and again by `create`."""
        await self.permissions.require_county_admin(actor_id)

    def check_title(self, text: str) -> str:
        return rules.check_title(text)

    def check_start(self, starts_at: datetime) -> datetime:
        return rules.check_start(starts_at, self.clock.now(), self.zone)

    def check_duration(self, value: int | str) -> int:
        return rules.check_duration(value)

    def check_caps(self, value: int | str | None) -> int | None:
        return rules.check_caps(value)

    def check_deadline_days(self, value: int | str) -> int:
        return rules.check_deadline_days(value)

    def check_waves(
        self,
        value: str | int | rules.Waves | None,
        every: int | str | None = None,
        *,
        duration_minutes: int | None = None,
        lot_count: int | None = None,
    ) -> rules.Waves | None:
        return rules.check_waves(value, every, duration_minutes=duration_minutes, lot_count=lot_count)

    async def _select(self, selection: LotSelection) -> list[int]:
        """The lots' wish ids, by id; a code that is no open wish free of other sessions is refused."""
        where = rules.check_selection(selection)
        if where.ids:
            free = set(
                await self.repo.selectable_ids(
                    collector_org_ids=(), categories=(), min_value=None, max_value=None, ids=where.ids
                )
            )
            unavailable = [wish_code(wish_id) for wish_id in where.ids if wish_id not in free]
            if unavailable:
                shown = "、".join(unavailable[:UNAVAILABLE_SHOWN]) + (
                    "…" if len(unavailable) > UNAVAILABLE_SHOWN else ""
                )
                raise DomainError("auction.err_codes_unavailable", codes=shown, count=len(unavailable))
        return await self.repo.selectable_ids(**asdict(where))

    async def preview(self, selection: LotSelection) -> int:
        """How many open wishes the selection takes (not counting lots of other sessions not yet over)."""
        where = rules.check_selection(selection)
        if where.ids:
            return len(await self._select(selection))
        return await self.repo.count_selectable(**asdict(where))

    # ---- sessions -----------------------------------------------------------------------------
    async def get(self, session_id: int) -> AuctionSession:
        return await self.sessions.session(session_id)

    async def live_sessions(self) -> list[AuctionSession]:
        return await self.repo.in_states((LIVE,))

    async def upcoming_sessions(self) -> list[AuctionSession]:
        """Scheduled and live sessions, the soonest first."""
        return await self.repo.in_states((SCHEDULED, LIVE))

    async def create(self, actor_id: int, draft: SessionDraft) -> AuctionSession:
        await self.require_creator(actor_id)
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
        deadline = fulfilment_deadline(ends_at, deadline_days, self.zone)
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
            session = await self._read(session_id)
            await self.audit.record(
                now,
                actor_id,
                "auction.create",
                f"auction:{session_id}",
                title=title,
                starts_at=local_text(starts_at, self.zone),
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
            self.sessions.forget(session_id)
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
            self.sessions.forget(session_id)
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
        closing = self.claims.closing
        if session.state != LIVE or session_id in closing:  # over, or being closed right now
            raise DomainError("auction.err_not_live", title=session.title)
        closing.add(session_id)
        try:
            await self.claims.drain(session_id)
            now = self.clock.now()
            async with self.db.transaction():
                if not await self.repo.change_state(session_id, expect=LIVE, state=CLOSED, now=now):
                    raise DomainError("auction.err_not_live", title=session.title)
                self.sessions.forget(session_id)
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
            closing.discard(session_id)
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
        return rules.released(session, now)

    async def _set_reminders(self, session: AuctionSession) -> None:
        """1 day, 1 hour and 5 minutes before the start, to the hub; one already passed is dropped."""
        params: dict[str, object] = {"title": session.title, "when": local_text(session.starts_at, self.zone)}
        for suffix, before, key in REMINDERS:
            await self.reminders.set_for_subject(
                f"auction:{session.id}:{suffix}",
                "hub",
                None,
                self.render_reminder(key, params),
                Schedule(kind="once", at=session.starts_at - before, time=None),
            )

    async def _read(self, session_id: int) -> AuctionSession:
        session = await self.repo.get(session_id)
        if session is None:
            raise DomainError("auction.err_not_found")
        return session

    # ---- claiming (claims.py) ----------------------------------------------------------------
    async def claim(self, user_id: int, session_id: int, wish_id: int) -> ClaimOutcome:
        return await self.claims.claim(user_id, session_id, wish_id)

    async def claiming_org(self, user_id: int) -> int | None:
        return await self.claims.claiming_org(user_id)

    async def warm_up(self, session_id: int) -> None:
        await self.claims.warm_up(session_id)

    # ---- releases and reassignments (WishService checks and audits each) ----------------------
    def release_ends(self, wish: Wish) -> datetime | None:
        """The last moment the claimer may release `wish` themselves; None when it is not claimed."""
        return wish.claimed_at + self.wishes.release_window if wish.claimed_at is not None else None

    async def release(self, user_id: int, wish_id: int) -> ClaimChange:
        """The claimer, within the release window (2 minutes) of claiming."""
        return await self.wishes.release_claim(wish_id, user_id, None)

    async def admin_release(self, actor_id: int, wish_id: int, reason: str) -> ClaimChange:
        await self.permissions.require_county_admin(actor_id)
        return await self.wishes.release_claim(wish_id, actor_id, clean_reason(reason))

    async def reassign(self, actor_id: int, wish_id: int, to_user_id: int, to_org_id: int, reason: str) -> ClaimChange:
        return await self.wishes.reassign(actor_id, wish_id, to_user_id, to_org_id, reason)

    async def reassign_to(self, actor_id: int, wish_id: int, person: Person, reason: str) -> Reassignment:
        """/reassign: the claim moves to `person`, for the organisation their own tap would claim
        for (`claiming_org`), so it lands where their claim would have."""
        await self.permissions.require_county_admin(actor_id)
        org_id = await self.claiming_org(person.user_id)
        if org_id is None:
            raise DomainError("auction.err_reassign_not_cadre", name=person.display_name)
        change = await self.reassign(actor_id, wish_id, person.user_id, org_id, reason)
        return Reassignment(change, await self.orgs.get(org_id))

    # ---- what a session shows (browsing.py) ----------------------------------------------------
    async def board(self, session_id: int, now: datetime) -> BoardState:
        return await self.browsing.board(session_id, now)

    async def browse(
        self, session_id: int, user_id: int, filters: LotFilter | None = None, page: int = 1, page_size: int = 8
    ) -> LotPage:
        """Released lots still open, in the order of release; nothing unless the session is live.

        Anyone with the link may look (`user_id` is not checked); claiming checks who claims."""
        return await self.browsing.browse(session_id, filters, page, page_size)

    async def facets(self, session_id: int) -> LotFacets:
        """The browsing filters' choices: collecting organisations and grades of the open lots shown."""
        return await self.browsing.facets(session_id)

    async def claims_table(self, session_id: int) -> list[ClaimRow]:
        return await self.browsing.claims_table(session_id)

    async def claims_xlsx(self, session_id: int, labels: Callable[[str], str], zone: ZoneInfo | None = None) -> bytes:
        return await self.browsing.claims_xlsx(session_id, labels, zone)

    async def set_board(self, session_id: int, chat_id: int, message_id: int) -> None:
        await self.browsing.set_board(session_id, chat_id, message_id)

    async def board_message(self, session_id: int) -> tuple[int, int] | None:
        return await self.browsing.board_message(session_id)
