"""Cadre turnover: duties follow the role, and the registry every domain hands its duties through.

When a person stops acting for an organisation (a handover, a removal by an admin, leaving by
themselves), `TurnoverService.depart` ends their membership and, in the same transaction, moves
every duty they held on the organisation's behalf to a receiver: the successor in a handover,
otherwise the person making the change picks one of the organisation's members, and by default
one of its admins. Their access ends with the membership (bot/domain/permissions.py); a notice
period keeps read access for a few days, never to children's private details.

## The duty registry (the contract for every domain)

A domain that lets a person hold something for an organisation registers a `DutyKind`:

- `name`: a short stable key (stored with each transfer, used for the successor's message and
  its buttons: "claim", "reminder", "activity", "session", "join_request", …).
- `held(user_id, org_id) -> list[Duty]`: what the person holds for the organisation now. Called
  inside the departure's transaction, *before* the membership ends (so it may still ask the
  person's roles). Read only. Labels are public text (never a child's private details).
- `transfer(user_id, org_id, receiver_id, held) -> None`: move exactly the duties `held`
  returned to the receiver, *inside the caller's transaction* (never open a transaction that
  commits on its own; `db.transaction()` nests), after the membership ended. Use conditional
  updates (`… WHERE created_by = :user_id`) so a duty changed meanwhile is not taken from
  someone else. Raise DomainError to refuse the whole departure (everything rolls back).
- `after(moved_ids)`: optional, run after the commit (e.g. tell an in-memory mirror to reload).

Register once, when the services are assembled (bot/domain/duty_kinds.py registers the built-in
kinds): `registry.register(DutyKind("pairing", held=…, transfer=…))`. Order of registration is
the order the successor's message lists them in. A kind with nothing held costs one query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.outbox import Outbox
from bot.domain.permissions import Permissions
from bot.model.organisation import Membership, Role
from bot.model.outbox import Notice, Priority
from storage.audit import AuditRepository
from storage.db import Database
from storage.duties import DepartureRecord, DutyRepository, HeldItem, TransferRecord
from storage.memberships import MembershipRepository

# Outbox kinds (handlers/turnover_notes.py words them).
DUTIES_RECEIVED = "turnover.received"
COUNTY_NOTE = "turnover.county_note"

REASONS = ("handover", "removed", "left")
MAX_NOTICE_DAYS = 30

Duty = HeldItem
Held = Callable[[int, int], Awaitable[list[Duty]]]
Transfer = Callable[[int, int, int, list[Duty]], Awaitable[None]]
After = Callable[[list[int]], None]


@dataclass(frozen=True)
class DutyKind:
    name: str
    held: Held
    transfer: Transfer
    after: After | None = None


@dataclass
class DutyRegistry:
    kinds: list[DutyKind] = field(default_factory=list)

    def register(self, kind: DutyKind) -> None:
        if any(existing.name == kind.name for existing in self.kinds):
            raise ValueError(f"duty kind {kind.name!r} is registered already")
        self.kinds.append(kind)

    async def held(self, user_id: int, org_id: int) -> dict[str, list[Duty]]:
        """Every duty the person holds for the organisation, by kind (kinds holding none left out)."""
        found: dict[str, list[Duty]] = {}
        for kind in self.kinds:
            duties = await kind.held(user_id, org_id)
            if duties:
                found[kind.name] = duties
        return found


@dataclass(frozen=True)
class Departure:
    record: DepartureRecord
    moved: dict[str, list[Duty]]

    @property
    def count(self) -> int:
        return sum(len(duties) for duties in self.moved.values())


class TurnoverService:
    def __init__(
        self,
        db: Database,
        memberships: MembershipRepository,
        duties: DutyRepository,
        registry: DutyRegistry,
        permissions: Permissions,
        audit: AuditRepository,
        clock: Clock,
        *,
        outbox: Outbox,
    ) -> None:
        self.db = db
        self.memberships = memberships
        self.duties = duties
        self.registry = registry
        self.permissions = permissions
        self.audit = audit
        self.clock = clock
        self.outbox = outbox

    async def held(self, user_id: int, org_id: int) -> dict[str, list[Duty]]:
        return await self.registry.held(user_id, org_id)

    async def default_receiver(self, actor_id: int, org_id: int, user_id: int) -> int | None:
        """Who takes the duties when nobody is picked: the acting person when they are one of the
        organisation's admins, otherwise its longest-serving other admin; with no admin left, the
        acting county admin, or else the first county admin (nothing is left unanswered for).
        None only when the county has no admin at all."""
        admins = [m.user_id for m in await self.memberships.of_org(org_id, Role.ORG_ADMIN) if m.user_id != user_id]
        if actor_id in admins:
            return actor_id
        if admins:
            return admins[0]
        if await self.permissions.is_county_admin(actor_id):
            return actor_id
        county = [admin for admin in await self.permissions.county_admin_ids() if admin != user_id]
        return county[0] if county else None

    async def check_receiver(self, org_id: int, user_id: int, receiver_id: int) -> None:
        """A receiver picked by hand: a current member of the organisation, not the person leaving."""
        if receiver_id == user_id:
            raise DomainError("turnover.receiver_self")
        if await self.memberships.current(org_id, receiver_id) is None:
            raise DomainError("turnover.receiver_not_member")

    async def depart(
        self,
        actor_id: int,
        membership: Membership,
        reason: str,
        receiver_id: int | None,
        *,
        notice_days: int = 0,
    ) -> Departure:
        """End `membership` and move its holder's duties to `receiver_id` (None: the default
        receiver). Runs in the caller's transaction when there is one. Of two racing departures
        of the same membership exactly one ends it; the other is refused with nothing moved."""
        if reason not in REASONS:
            raise ValueError(f"unknown departure reason {reason!r}")
        if not 0 <= notice_days <= MAX_NOTICE_DAYS:
            raise DomainError("turnover.notice_out_of_range", max=MAX_NOTICE_DAYS)
        org_id, user_id = membership.org_id, membership.user_id
        async with self.db.transaction():
            now = self.clock.now()
            if receiver_id is None:
                receiver_id = await self.default_receiver(actor_id, org_id, user_id)
            elif reason != "handover":
                await self.check_receiver(org_id, user_id, receiver_id)
            held = await self.registry.held(user_id, org_id)
            if receiver_id is None:
                raise DomainError("turnover.no_receiver")
            read_until = now + timedelta(days=notice_days) if notice_days else None
            if not await self.memberships.end(membership.id, reason, now, read_until=read_until):
                raise DomainError("turnover.already_gone")
            record = await self.duties.add_departure(
                org_id=org_id,
                user_id=user_id,
                receiver_id=receiver_id,
                reason=reason,
                actor_id=actor_id,
                notice_days=notice_days,
                now=now,
            )
            for kind in self.registry.kinds:
                duties = held.get(kind.name, [])
                if not duties:
                    continue
                await kind.transfer(user_id, org_id, receiver_id, duties)
                await self.duties.add_transfers(record.id, kind.name, duties)
                for duty in duties:
                    await self.audit.record(
                        now,
                        actor_id,
                        "duty.transfer",
                        f"{kind.name}:{duty.subject_id}",
                        org=org_id,
                        from_user=user_id,
                        to_user=receiver_id,
                        departure=record.id,
                    )
            await self.audit.record(
                now,
                actor_id,
                f"departure.{reason}",
                f"org:{org_id}",
                user=user_id,
                receiver=receiver_id,
                notice_days=notice_days,
                duties=sum(len(duties) for duties in held.values()),
            )
            await self._tell(record, receiver_id, held)
        for kind in self.registry.kinds:
            if kind.after is not None and held.get(kind.name):
                kind.after([duty.subject_id for duty in held[kind.name]])
        return Departure(record, held)

    async def _tell(self, record: DepartureRecord, receiver_id: int, held: dict[str, list[Duty]]) -> None:
        """The receiver's one private message (when anything moved to someone else) and the
        county admins' one-line note; both worded by the outbox from the departure record."""
        if held and (receiver_id != record.actor_id or record.reason == "handover"):
            await self._note(DUTIES_RECEIVED, receiver_id, record)
        for admin_id in await self.permissions.county_admin_ids():
            if admin_id not in (record.actor_id, record.user_id):
                await self._note(COUNTY_NOTE, admin_id, record)

    async def _note(self, kind: str, chat_id: int, record: DepartureRecord) -> None:
        key = f"{kind}:{record.id}:{chat_id}"
        notice = Notice(kind, chat_id, key=key, params={"departure": record.id}, priority=Priority.NOTICE)
        await self.outbox.enqueue(notice)

    async def departure(self, departure_id: int) -> DepartureRecord:
        record = await self.duties.departure(departure_id)
        if record is None:
            raise DomainError("turnover.not_found")
        return record

    async def transfers(self, departure_id: int) -> list[TransferRecord]:
        return await self.duties.transfers(departure_id)

    async def refused(self, user_id: int | None, key: str) -> None:
        """Every refusal is audited: a departed cadre's old button as much as anyone's."""
        await self.audit.record(self.clock.now(), user_id, "access.refused", f"user:{user_id}", key=key)
