"""What every part of the wish service shares: its dependencies, looking a wish up, and who may
do what to it (every wish rule about people is here; the primitives come from
bot/domain/permissions.py, the scoping rule from bot/domain/orgs.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.domain.clock import Clock
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.orgs import OrganisationService
from bot.domain.permissions import Permissions
from bot.domain.wishes.rules import parse_code
from bot.model.organisation import Organisation
from bot.model.wish import IN_PROGRESS, Wish, WishStatus, wish_code
from storage.audit import AuditRepository
from storage.db import Database
from storage.wishes import WishRepository

DEFAULT_PURGE_AFTER = timedelta(days=90)
DEFAULT_RELEASE_WINDOW = timedelta(minutes=2)
DEFAULT_FULFILMENT = timedelta(days=14)

# The claim is being fulfilled: the claimer may see the child's details.
_FULFILLING = (WishStatus.CLAIMED, WishStatus.PURCHASED, WishStatus.DELIVERED)


class WishCore:
    def __init__(
        self,
        db: Database,
        wishes: WishRepository,
        orgs: OrganisationService,
        audit: AuditRepository,
        permissions: Permissions,
        clock: Clock,
        *,
        purge_after: timedelta = DEFAULT_PURGE_AFTER,
        release_window: timedelta = DEFAULT_RELEASE_WINDOW,
        default_fulfilment: timedelta = DEFAULT_FULFILMENT,
    ) -> None:
        self.db = db
        self.wishes = wishes
        self.orgs = orgs
        self.audit = audit
        self.permissions = permissions
        self.clock = clock
        self.purge_after = purge_after
        self.release_window = release_window
        self.default_fulfilment = default_fulfilment
        self._listeners: list[Callable[[int], None]] = []

    def add_listener(self, changed: Callable[[int], None]) -> None:
        """Told the id of a wish whose claim changed other than by `claim` (release, reassign,
        cancel), so that in-memory mirrors (the live auction's) can reload."""
        self._listeners.append(changed)

    def _changed(self, wish_id: int) -> None:
        for changed in self._listeners:
            changed(wish_id)

    def claims_moved(self, wish_ids: list[int]) -> None:
        """Claims moved to another cadre (a departure, bot/domain/turnover.py): mirrors reload."""
        for wish_id in wish_ids:
            self._changed(wish_id)

    # ---- who ----------------------------------------------------------------------------------
    async def can_collect(self, user_id: int, org_id: int) -> bool:
        return await self.permissions.can_collect_wishes(user_id, org_id)

    async def collector_orgs(self, user_id: int) -> list[Organisation]:
        """Where this person may collect wishes: the organisations they may act for (county
        admins: every active one)."""
        return await self.orgs.visible_to(user_id)

    async def can_edit(self, user_id: int, wish: Wish) -> bool:
        """Change the public fields: the collector's side, while the wish is open."""
        return wish.status is WishStatus.OPEN and await self.can_collect(user_id, wish.collector_org_id)

    async def _may_cancel_claims(self, user_id: int) -> bool:
        """A claimed or purchased wish is cancelled by county admins only."""
        return await self.permissions.is_county_admin(user_id)

    async def can_cancel(self, user_id: int, wish: Wish) -> bool:
        """The collector's side while open; a county admin (who collects for every organisation)
        also while the claim is being fulfilled."""
        if not await self.can_collect(user_id, wish.collector_org_id):
            return False
        if wish.status is WishStatus.OPEN:
            return True
        return wish.status in IN_PROGRESS and await self._may_cancel_claims(user_id)

    async def can_see_private(self, user_id: int, wish: Wish) -> bool:
        fulfilling = wish.status in _FULFILLING
        return await self.permissions.can_see_child_details(
            user_id,
            wish.collector_org_id,
            claimed_by=wish.claimed_by_user if fulfilling else None,
            claimed_by_org=wish.claimed_by_org,
        )

    async def can_fulfil(self, user_id: int, wish: Wish) -> bool:
        return await self.permissions.can_fulfil_wish(user_id, wish.claimed_by_user, wish.claimed_by_org)

    async def is_collector_member(self, user_id: int, wish: Wish) -> bool:
        """A member (any role) of the collecting organisation: confirms receipt, sees the proof."""
        return await self.permissions.is_member(user_id, wish.collector_org_id)

    async def can_confirm(self, user_id: int, wish: Wish) -> bool:
        return wish.status is WishStatus.DELIVERED and await self.is_collector_member(user_id, wish)

    async def can_see_proof(self, user_id: int, wish: Wish) -> bool:
        """The delivery photo may show the child: the collector, the claiming side and county admins."""
        return (
            await self.is_collector_member(user_id, wish)
            or await self.can_fulfil(user_id, wish)
            or await self.permissions.is_county_admin(user_id)
        )

    async def scope_org_ids(self, user_id: int) -> list[int]:
        """The organisations whose collected or claimed wishes a person may list as "mine": their
        own, the village branches they manage through the tree, and (read only) those they left
        with a notice period still running."""
        return await self.permissions.reader_org_ids(user_id)

    async def overdue_first_for(self, user_id: int) -> bool:
        """County admins chase late claims: their lists put the overdue ones first."""
        return await self.permissions.is_county_admin(user_id)

    async def digest_recipients(self) -> list[int]:
        """Who gets the daily list of overdue claims: the county admins."""
        return await self.permissions.county_admin_ids()

    async def require_reader(self, user_id: int) -> None:
        """The registry (/wishes, /wish W0012, a card's buttons) is the cadres': someone in no
        organisation who is no county admin is told how to join instead of being shown a card.
        (An auction's lots are public to its browsers: bot/domain/auction.)"""
        if await self.permissions.is_county_admin(user_id) or await self.permissions.member_org_ids(user_id):
            return
        if await self.permissions.reader_org_ids(user_id):  # a notice period, or a township's villages
            return
        raise await self.permissions.refused(user_id, "wishes.read_not_member", f"user:{user_id}")

    async def _require_collector(self, user_id: int, org_id: int, key: str) -> None:
        if not await self.can_collect(user_id, org_id):
            org = await self.orgs.get(org_id)
            raise PermissionDenied(key, org=org.name)

    # ---- looking a wish up ------------------------------------------------------------------------
    async def get(self, wish_id: int) -> Wish:
        wish = await self.wishes.get(wish_id)
        if wish is None:
            raise DomainError("wishes.not_found", code=wish_code(wish_id))
        return wish

    async def look_up(self, user_id: int, code: str) -> Wish:
        """A wish by code for someone who may read the registry (`require_reader`)."""
        await self.require_reader(user_id)
        return await self.by_code(code)

    async def get_for(self, user_id: int, wish_id: int) -> Wish:
        """A wish by id for someone who may read the registry (a card's button: `require_reader`)."""
        await self.require_reader(user_id)
        return await self.get(wish_id)

    async def by_code(self, code: str) -> Wish:
        """ "W0012", "w12", "#12" or "12"."""
        wish_id = parse_code(code)
        if wish_id is None:
            raise DomainError("wishes.code_invalid", value=code.strip()[:20])
        return await self.get(wish_id)
