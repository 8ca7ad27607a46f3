"""Joining an organisation, roles, and handing a role over when a cadre moves on."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.orgs import OrganisationService
from bot.domain.permissions import Permissions
from bot.model.organisation import Handover, JoinRequest, Membership, Person, Role
from storage.audit import AuditRepository
from storage.db import Database
from storage.memberships import MembershipRepository
from storage.people import PeopleRepository


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
    ) -> None:
        self.db = db
        self.memberships = memberships
        self.people = people
        self.orgs = orgs
        self.audit = audit
        self.permissions = permissions
        self.clock = clock

    async def memberships_of(self, user_id: int) -> list[Membership]:
        return await self.memberships.of_user(user_id)

    async def members(self, org_id: int) -> list[Membership]:
        return await self.memberships.of_org(org_id)

    async def history(self, org_id: int) -> list[Membership]:
        return await self.memberships.history(org_id)

    async def current(self, org_id: int, user_id: int) -> Membership | None:
        """The person's membership of the organisation now, or None."""
        return await self.memberships.current(org_id, user_id)

    # ---- joining ------------------------------------------------------------------------
    async def request_join(self, user_id: int, org_id: int) -> JoinRequest:
        async with self.db.transaction():
            org = await self.orgs.get_active(org_id)
            if await self.memberships.current(org_id, user_id) is not None:
                raise DomainError("join.already_member", org=org.name)
            if await self.memberships.pending_request(org_id, user_id) is not None:
                raise DomainError("join.already_pending", org=org.name)
            request = await self.memberships.open_request(org_id, user_id, self.clock.now())
            await self.audit.record(self.clock.now(), user_id, "join.request", f"org:{org_id}")
        return request

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

    async def remove_member(self, actor_id: int, org_id: int, user_id: int) -> None:
        async with self.db.transaction():
            await self.permissions.require_org_manager(actor_id, org_id)
            current = await self.memberships.current(org_id, user_id)
            if current is None:
                raise DomainError("roles.not_member")
            if current.role is Role.ORG_ADMIN and await self._last_admin(org_id, user_id):
                raise DomainError("roles.last_admin")
            await self.memberships.end(current.id, "removed", self.clock.now())
            await self.audit.record(self.clock.now(), actor_id, "role.remove", f"org:{org_id}", user=user_id)

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

    async def promote_county_admin(self, actor_id: int, user_id: int) -> None:
        await self.permissions.require_county_admin(actor_id)
        if await self.people.get(user_id) is None:
            raise DomainError("roles.unknown_person")
        await self.people.set_promoted_admin(user_id, True)
        await self.audit.record(self.clock.now(), actor_id, "county_admin.promote", f"user:{user_id}")

    # ---- handover -----------------------------------------------------------------------
    async def check_successor(self, actor_id: int, org_id: int, successor_id: int) -> Person:
        """May `actor_id` hand `org_id` over to `successor_id`? Asked before confirming, and again on start."""
        org = await self.orgs.get_active(org_id)
        if not await self.permissions.is_org_admin(actor_id, org_id):
            raise DomainError("handover.not_admin", org=org.name)
        if successor_id == actor_id:
            raise DomainError("handover.self")
        successor = await self.people.get(successor_id)
        if successor is None or not successor.started:
            raise DomainError("handover.successor_not_started")
        if await self.permissions.is_org_admin(successor_id, org_id):
            raise DomainError("handover.successor_already_admin", name=successor.display_name)
        return successor

    async def start_handover(self, actor_id: int, org_id: int, successor_id: int) -> Handover:
        async with self.db.transaction():
            await self.check_successor(actor_id, org_id, successor_id)
            handover = await self.memberships.open_handover(org_id, actor_id, successor_id, self.clock.now())
            await self.audit.record(self.clock.now(), actor_id, "handover.start", f"org:{org_id}", to=successor_id)
        return handover

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
                    # access to the organisation's (children's) data. They may join again.
                    await self.memberships.end(outgoing.id, "handover", now)
                await self.audit.record(
                    now,
                    actor_id,
                    "handover.accept" if accept else "handover.decline",
                    f"org:{handover.org_id}",
                    from_user=handover.from_user_id,
                )
        if stale:
            raise DomainError("handover.stale")
        return await self.get_handover(handover_id)
