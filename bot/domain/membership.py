"""Joining an organisation, roles, and handing a role over when a cadre moves on.

Every action checks who may take it (the rules are bot/domain/permissions.py's) and refuses with
PermissionDenied; the `check_*` methods ask the same before a conversation asks for more, so a
refusal comes first, and the action asks again when it runs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from bot.domain.clock import Clock
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.orgs import OrganisationService
from bot.domain.outbox import HANDOVER_ANSWERED, HANDOVER_REQUEST, HANDOVER_UNREACHABLE, Delivery, Outbox
from bot.domain.permissions import Permissions
from bot.domain.turnover import Departure, TurnoverService
from bot.model.organisation import Handover, JoinRequest, Membership, Organisation, Person, Role
from bot.model.outbox import Notice, OutboxMessage, OutboxState, Priority
from storage.audit import AuditRepository
from storage.db import Database
from storage.memberships import MembershipRepository
from storage.people import PeopleRepository


class Standing(IntEnum):
    """A person's highest role, ordered: a county admin also holds what an org admin holds, and so on."""

    EVERYONE = 0
    CADRE = 1
    ORG_ADMIN = 2
    COUNTY_ADMIN = 3


@dataclass(frozen=True)
class RemovalPreview:
    duties: int  # how many duties would move
    receiver_id: int | None  # to whom (None: nobody left; only a county admin may go on, taking them)
    last_admin: bool
    county: bool  # the person removing is a county admin


@dataclass(frozen=True)
class Decision:
    request: JoinRequest
    approved: bool


class MembershipService:
    def __init__(
        self,
        db: Database,
        memberships: MembershipRepository,
        people: PeopleRepository,
        orgs: OrganisationService,
        audit: AuditRepository,
        permissions: Permissions,
        clock: Clock,
        *,
        outbox: Outbox,
        turnover: TurnoverService,
    ) -> None:
        self.db = db
        self.memberships = memberships
        self.people = people
        self.orgs = orgs
        self.audit = audit
        self.permissions = permissions
        self.clock = clock
        self.outbox = outbox
        self.turnover = turnover
        outbox.listen(HANDOVER_REQUEST, self._request_ended)

    async def memberships_of(self, user_id: int) -> list[Membership]:
        return await self.memberships.of_user(user_id)

    async def members(self, org_id: int) -> list[Membership]:
        return await self.memberships.of_org(org_id)

    async def history(self, org_id: int) -> list[Membership]:
        return await self.memberships.history(org_id)

    async def current(self, org_id: int, user_id: int) -> Membership | None:
        """The person's membership of the organisation now, or None."""
        return await self.memberships.current(org_id, user_id)

    async def standing(self, user_id: int) -> Standing:
        """The person's highest role anywhere (what /start and /help show them)."""
        if await self.permissions.is_county_admin(user_id):
            return Standing.COUNTY_ADMIN
        roles = {m.role for m in await self.memberships.of_user(user_id)}
        if Role.ORG_ADMIN in roles:
            return Standing.ORG_ADMIN
        return Standing.CADRE if roles else Standing.EVERYONE

    async def needs_user_id(self, user_id: int) -> bool:
        """Whether /start should tell this person their Telegram user id: only county admins use
        it (to configure others), and, on a fresh install with none configured, whoever is
        about to become the first."""
        return await self.permissions.is_county_admin(user_id) or not await self.permissions.county_admin_ids()

    # ---- managing an organisation's members -------------------------------------------------
    async def may_appoint(self, user_id: int) -> bool:
        """County admins appoint organisations' admins (and manage every organisation's members)."""
        return await self.permissions.is_county_admin(user_id)

    async def check_manager(self, actor_id: int, org_id: int) -> Organisation:
        """The active organisation whose members `actor_id` may manage: its admins, county admins."""
        org = await self.orgs.get_active(org_id)
        await self.permissions.require_org_manager(actor_id, org_id)
        return org

    async def roster(self, actor_id: int, org_id: int) -> list[Membership]:
        """The organisation's members now, for those who manage them."""
        await self.permissions.require_org_manager(actor_id, org_id)
        return await self.memberships.of_org(org_id)

    async def managed_member(self, actor_id: int, org_id: int, user_id: int) -> Membership:
        """One member's membership, for those who manage the organisation."""
        await self.permissions.require_org_manager(actor_id, org_id)
        membership = await self.memberships.current(org_id, user_id)
        if membership is None:
            raise DomainError("roles.not_member")
        return membership

    # ---- joining ------------------------------------------------------------------------
    async def check_join(self, user_id: int, org_id: int) -> Organisation:
        """The active organisation `user_id` may apply to: not one they are a member of already."""
        org = await self.orgs.get_active(org_id)
        if await self.memberships.current(org_id, user_id) is not None:
            raise DomainError("join.already_member", org=org.name)
        return org

    async def request_join(self, user_id: int, org_id: int) -> JoinRequest:
        async with self.db.transaction():
            org = await self.check_join(user_id, org_id)
            if await self.memberships.pending_request(org_id, user_id) is not None:
                raise DomainError("join.already_pending", org=org.name)
            request = await self.memberships.open_request(org_id, user_id, self.clock.now())
            await self.audit.record(self.clock.now(), user_id, "join.request", f"org:{org_id}")
        return request

    async def check_inviter(self, actor_id: int, org_id: int) -> Organisation:
        """The active organisation `actor_id` may hand out a join link for: its members, county admins."""
        if not await self.permissions.can_act_for_org(actor_id, org_id):
            raise PermissionDenied("errors.member_only")
        return await self.orgs.get_active(org_id)

    async def approvers(self, org_id: int) -> list[int]:
        """Who is asked to decide: the org's admins, or the county admins when it has none."""
        admins = [m.user_id for m in await self.memberships.of_org(org_id, Role.ORG_ADMIN)]
        return admins or await self.permissions.county_admin_ids()

    async def pending_requests(self, actor_id: int, org_id: int) -> list[JoinRequest]:
        await self.permissions.require_org_manager(actor_id, org_id)
        return await self.memberships.pending_requests(org_id)

    async def pending_request(self, request_id: int) -> JoinRequest:
        request = await self.memberships.request(request_id)
        if request is None:
            raise DomainError("join.request_not_found")
        return request

    async def decide(self, actor_id: int, request_id: int, approve: bool) -> Decision:
        """Approve (grant the cadre role) or reject; the first decision wins, later ones are told."""
        async with self.db.transaction():
            request = await self.pending_request(request_id)
            await self.permissions.require_org_manager(actor_id, request.org_id)
            if request.status != "pending":
                raise DomainError("join.already_decided", status=request.status)
            now = self.clock.now()
            await self.memberships.decide_request(request_id, "approved" if approve else "rejected", actor_id, now)
            if approve:
                await self.memberships.grant(request.org_id, request.user_id, Role.CADRE, actor_id, now)
            await self.audit.record(
                now,
                actor_id,
                "join.approve" if approve else "join.reject",
                f"org:{request.org_id}",
                user=request.user_id,
            )
        return Decision(await self.pending_request(request_id), approve)

    # ---- roles --------------------------------------------------------------------------
    async def set_role(self, actor_id: int, org_id: int, user_id: int, role: Role) -> None:
        async with self.db.transaction():
            await self.permissions.require_org_manager(actor_id, org_id)
            current = await self.memberships.current(org_id, user_id)
            if current is None:
                raise DomainError("roles.not_member")
            if current.role is role:
                return
            if current.role is Role.ORG_ADMIN and await self._last_admin(org_id, user_id):
                raise DomainError("roles.last_admin")
            now = self.clock.now()
            await self.memberships.end(current.id, "role_change", now)
            await self.memberships.grant(org_id, user_id, role, actor_id, now)
            await self.audit.record(now, actor_id, "role.set", f"org:{org_id}", user=user_id, role=role.value)

    async def remove_member(
        self,
        actor_id: int,
        org_id: int,
        user_id: int,
        *,
        receiver_id: int | None = None,
        notice_days: int = 0,
        county_confirmed: bool = False,
    ) -> Departure:
        """Remove a member; their duties move to `receiver_id` (None: the organisation's admins,
        bot/domain/turnover.py). The last admin only with a county admin's confirmation."""
        async with self.db.transaction():
            await self.permissions.require_org_manager(actor_id, org_id)
            current = await self.memberships.current(org_id, user_id)
            if current is None:
                raise DomainError("roles.not_member")
            last = current.role is Role.ORG_ADMIN and await self._last_admin(org_id, user_id)
            if last and not (county_confirmed and await self.permissions.is_county_admin(actor_id)):
                raise DomainError("roles.last_admin")
            departure = await self.turnover.depart(actor_id, current, "removed", receiver_id, notice_days=notice_days)
            await self.audit.record(self.clock.now(), actor_id, "role.remove", f"org:{org_id}", user=user_id)
        return departure

    async def removal_preview(
        self, actor_id: int, org_id: int, user_id: int, receiver_id: int | None = None
    ) -> RemovalPreview:
        """What removing `user_id` would do, asked before the confirmation: how many duties move
        to whom, and whether they are the last admin (only a county admin may go on then)."""
        current = await self.managed_member(actor_id, org_id, user_id)
        if receiver_id is not None:
            await self.turnover.check_receiver(org_id, user_id, receiver_id)
        held = await self.turnover.held(user_id, org_id)
        last = current.role is Role.ORG_ADMIN and await self._last_admin(org_id, user_id)
        receiver = receiver_id or await self.turnover.default_receiver(actor_id, org_id, user_id)
        return RemovalPreview(
            duties=sum(len(duties) for duties in held.values()),
            receiver_id=receiver,
            last_admin=last,
            county=await self.permissions.is_county_admin(actor_id),
        )

    async def check_leaving(self, user_id: int, org_id: int) -> Membership:
        """A member may leave by themselves, except the last admin (who hands over first)."""
        current = await self.memberships.current(org_id, user_id)
        if current is None:
            raise DomainError("roles.not_member")
        if current.role is Role.ORG_ADMIN and await self._last_admin(org_id, user_id):
            raise DomainError("turnover.last_admin_leave")
        return current

    async def leave(self, user_id: int, org_id: int, *, receiver_id: int | None = None) -> Departure:
        """Leave an organisation; duties go to `receiver_id` or its admins."""
        async with self.db.transaction():
            current = await self.check_leaving(user_id, org_id)
            return await self.turnover.depart(user_id, current, "left", receiver_id)

    async def check_appointing(self, actor_id: int, org_id: int) -> Organisation:
        """The active organisation `actor_id` may appoint an admin of: county admins only."""
        await self.permissions.require_county_admin(actor_id)
        return await self.orgs.get_active(org_id)

    async def check_appointee(self, actor_id: int, org_id: int, user_id: int) -> Person:
        """Asked before confirming an appointment: the person must have started the bot (to be
        told) and not be one of the organisation's admins already."""
        await self.permissions.require_county_admin(actor_id)
        person = await self.people.get(user_id)
        if person is None:
            raise DomainError("roles.unknown_person")
        if not person.started:
            raise DomainError("members.appointee_not_started", name=person.display_name)
        if await self.permissions.is_org_admin(user_id, org_id):
            raise DomainError("members.already_admin", name=person.display_name)
        await self.orgs.get_active(org_id)
        return person

    async def appoint_admin(self, actor_id: int, org_id: int, user_id: int) -> None:
        """County admins appoint an organisation's first admin (the person must have started the bot)."""
        await self.permissions.require_county_admin(actor_id)
        async with self.db.transaction():
            await self.orgs.get_active(org_id)
            if await self.people.get(user_id) is None:
                raise DomainError("roles.unknown_person")
            current = await self.memberships.current(org_id, user_id)
            now = self.clock.now()
            if current is not None:
                if current.role is Role.ORG_ADMIN:
                    return
                await self.memberships.end(current.id, "role_change", now)
            await self.memberships.grant(org_id, user_id, Role.ORG_ADMIN, actor_id, now)
            await self.audit.record(now, actor_id, "role.appoint", f"org:{org_id}", user=user_id)

    async def _last_admin(self, org_id: int, user_id: int) -> bool:
        admins = await self.memberships.of_org(org_id, Role.ORG_ADMIN)
        return [m.user_id for m in admins] == [user_id]

    async def check_promoter(self, actor_id: int) -> None:
        """Making county admins is for county admins; asked before anything else of /promote."""
        await self.permissions.require_county_admin(actor_id)

    async def promote_county_admin(self, actor_id: int, user_id: int) -> None:
        await self.check_promoter(actor_id)
        person = await self.people.get(user_id)
        if person is None:
            raise DomainError("roles.unknown_person")
        if await self.permissions.is_county_admin(user_id):
            raise DomainError("promote.already", name=person.display_name)
        await self.people.set_promoted_admin(user_id, True)
        await self.audit.record(self.clock.now(), actor_id, "county_admin.promote", f"user:{user_id}")

    # ---- handover -----------------------------------------------------------------------
    async def handover_orgs(self, user_id: int) -> list[Organisation]:
        """The active organisations `user_id` administers, hence may hand over (county admins'
        own standing is not handed over: it is not an organisation's)."""
        administered = set(await self.permissions.administered_org_ids(user_id))
        return [org for org in await self.orgs.list() if org.id in administered]

    async def check_handover_org(self, actor_id: int, org_id: int) -> Organisation:
        """The active organisation `actor_id` may hand over: one they administer."""
        org = await self.orgs.get_active(org_id)
        if not await self.permissions.is_org_admin(actor_id, org_id):
            raise PermissionDenied("handover.not_admin", org=org.name)
        return org

    async def check_successor(self, actor_id: int, org_id: int, successor_id: int) -> Person:
        """May `actor_id` hand `org_id` over to `successor_id`? Asked before confirming, and again on start."""
        await self.check_handover_org(actor_id, org_id)
        if successor_id == actor_id:
            raise DomainError("handover.self")
        successor = await self.people.get(successor_id)
        if successor is None or not successor.started:
            raise DomainError("handover.successor_not_started")
        if await self.permissions.is_org_admin(successor_id, org_id):
            raise DomainError("handover.successor_already_admin", name=successor.display_name)
        return successor

    async def start_handover(self, actor_id: int, org_id: int, successor_id: int, *, notice_days: int = 0) -> Handover:
        """Ask the successor; nothing moves until they accept. `notice_days`: read access the
        predecessor keeps after leaving (never to children's private details)."""
        async with self.db.transaction():
            await self.check_successor(actor_id, org_id, successor_id)
            handover = await self.memberships.open_handover(
                org_id, actor_id, successor_id, self.clock.now(), notice_days=notice_days
            )
            await self.audit.record(
                self.clock.now(), actor_id, "handover.start", f"org:{org_id}", to=successor_id, notice_days=notice_days
            )
            await self._tell(HANDOVER_REQUEST, successor_id, handover)
        return handover

    async def _tell(self, kind: str, user_id: int, handover: Handover) -> None:
        """A handover note (the outbox words it from the handover when it goes out)."""
        note = Notice(
            kind, user_id, key=f"{kind}:{handover.id}", params={"handover": handover.id}, priority=Priority.NOTICE
        )
        await self.outbox.enqueue(note)

    async def _request_ended(self, message: OutboxMessage, delivery: Delivery) -> None:
        """The successor could not be told (blocked the bot): the predecessor is, to try again."""
        if delivery.state is OutboxState.GIVEN_UP:
            handover = await self.get_handover(message.param("handover"))
            await self._tell(HANDOVER_UNREACHABLE, handover.from_user_id, handover)

    async def get_handover(self, handover_id: int) -> Handover:
        handover = await self.memberships.handover(handover_id)
        if handover is None:
            raise DomainError("handover.not_found")
        return handover

    async def answer_handover(self, actor_id: int, handover_id: int, accept: bool) -> Handover:
        """The successor accepts (the admin role moves to them, the predecessor leaves) or declines."""
        async with self.db.transaction():
            handover = await self.get_handover(handover_id)
            if handover.to_user_id != actor_id:
                raise DomainError("handover.not_yours")
            if handover.status != "pending":
                raise DomainError("handover.already_answered")
            now = self.clock.now()
            outgoing = await self.memberships.current(handover.org_id, handover.from_user_id)
            stale = accept and (outgoing is None or outgoing.role is not Role.ORG_ADMIN)
            if stale:
                # The predecessor lost the role meanwhile; a stale handover must not grant it.
                # Cancelled here and refused after the commit (raising inside would roll it back).
                await self.memberships.decide_handover(handover_id, "cancelled", now)
                await self.audit.record(
                    now, actor_id, "handover.stale", f"org:{handover.org_id}", from_user=handover.from_user_id
                )
            else:
                await self.memberships.decide_handover(handover_id, "accepted" if accept else "declined", now)
                if accept and outgoing is not None:  # not stale: the predecessor still holds the role
                    incoming = await self.memberships.current(handover.org_id, actor_id)
                    if incoming is not None:
                        await self.memberships.end(incoming.id, "role_change", now)
                    await self.memberships.grant(handover.org_id, actor_id, Role.ORG_ADMIN, handover.from_user_id, now)
                    # The predecessor leaves with the role: a cadre who changed jobs keeps no
                    # access to the organisation's (children's) data, and every duty they held
                    # for it moves to the successor (bot/domain/turnover.py). They may join again.
                    await self.turnover.depart(
                        actor_id, outgoing, "handover", actor_id, notice_days=handover.notice_days
                    )
                await self.audit.record(
                    now,
                    actor_id,
                    "handover.accept" if accept else "handover.decline",
                    f"org:{handover.org_id}",
                    from_user=handover.from_user_id,
                )
                await self._tell(HANDOVER_ANSWERED, handover.from_user_id, handover)
        if stale:
            raise DomainError("handover.stale")
        return await self.get_handover(handover_id)
