"""What every part of the Sunshine Home service shares: its repositories, and who may do what."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.orgs import OrganisationService
from bot.domain.outbox import Outbox
from bot.domain.permissions import Permissions
from bot.model.organisation import Organisation
from bot.model.sunshine import Child, Pair, PairStatus, child_code
from storage.audit import AuditRepository
from storage.db import Database
from storage.memberships import MembershipRepository
from storage.people import PeopleRepository
from storage.sunshine import ChildRepository, ProfileRepository
from storage.sunshine_figures import SunshineFigureRepository
from storage.sunshine_pairs import PairRepository


class SunshineCore:
    def __init__(
        self,
        db: Database,
        orgs: OrganisationService,
        people: PeopleRepository,
        memberships: MembershipRepository,
        audit: AuditRepository,
        permissions: Permissions,
        outbox: Outbox,
        clock: Clock,
        zone: ZoneInfo,
        *,
        purge_after: timedelta,
        max_pairs: int,
    ) -> None:
        self.db = db
        self.orgs = orgs
        self.people = people
        self.memberships = memberships
        self.audit = audit
        self.permissions = permissions
        self.outbox = outbox
        self.clock = clock
        self.zone = zone
        self.purge_after = purge_after
        self.max_pairs = max_pairs
        self.children = ChildRepository(db)
        self.profiles = ProfileRepository(db)
        self.pairs = PairRepository(db)
        self.figure_rows = SunshineFigureRepository(db)

    def today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    async def child(self, child_id: int) -> Child:
        child = await self.children.get(child_id)
        if child is None:
            raise DomainError("sunshine.child_not_found", code=child_code(child_id))
        return child

    async def pair(self, pair_id: int) -> Pair:
        pair = await self.pairs.get(pair_id)
        if pair is None:
            raise DomainError("sunshine.pair_not_found")
        return pair

    async def is_cadre_of(self, actor_id: int, org_id: int) -> bool:
        """The organisation's members (cadres, admins) or any county admin run its register."""
        return await self.permissions.can_act_for_org(actor_id, org_id)

    async def require_cadre(self, actor_id: int, org_id: int) -> None:
        if not await self.is_cadre_of(actor_id, org_id):
            org = await self.orgs.get(org_id)
            raise PermissionDenied("sunshine.not_cadre", org=org.name)

    async def register_orgs(self, actor_id: int) -> list[Organisation]:
        """The organisations whose register this person keeps (county admins: every active one)."""
        return await self.orgs.visible_to(actor_id)

    async def may_see_private(self, actor_id: int, child: Child) -> bool:
        """The child's organisation's cadres, and the volunteer of an active pair with the child.
        Not county admins: running the county does not need a child's details (PIPL)."""
        if await self.permissions.is_member(actor_id, child.org_id):
            return True
        return any(
            pair.volunteer_id == actor_id and pair.status is PairStatus.ACTIVE
            for pair in await self.pairs.live_of_child(child.id)
        )

    async def cadre_ids(self, org_id: int) -> list[int]:
        return [membership.user_id for membership in await self.memberships.of_org(org_id)]
