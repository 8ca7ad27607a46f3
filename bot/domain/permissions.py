"""Every permission rule of the bot, in one place.

Roles: county admins (from the configuration, or promoted by one), organisation admins and
cadres (memberships), and everyone else as a volunteer. Handlers and services ask here; nothing
else decides who may do what.
"""

from __future__ import annotations

from bot.domain.errors import PermissionDenied
from bot.model.organisation import Membership, Role
from storage.memberships import MembershipRepository
from storage.people import PeopleRepository

# Telegram's stand-in user for messages an anonymous group admin sends "as the group".
ANONYMOUS_ADMIN_BOT_ID = 1087968824


class Permissions:
    def __init__(
        self, config_admins: tuple[int, ...], people: PeopleRepository, memberships: MembershipRepository
    ) -> None:
        self._config_admins = frozenset(config_admins)
        self._people = people
        self._memberships = memberships

    async def is_county_admin(self, user_id: int) -> bool:
        if user_id in self._config_admins:
            return True
        person = await self._people.get(user_id)
        return person is not None and person.promoted_admin

    async def county_admin_ids(self) -> list[int]:
        return sorted(self._config_admins | set(await self._people.promoted_admins()))

    async def role_in(self, user_id: int, org_id: int) -> Role | None:
        membership = await self._memberships.current(org_id, user_id)
        return None if membership is None else membership.role

    async def is_org_admin(self, user_id: int, org_id: int) -> bool:
        return await self.role_in(user_id, org_id) is Role.ORG_ADMIN

    async def can_manage_org(self, user_id: int, org_id: int) -> bool:
        """Approve joins, change roles, hand over: the org's own admins, or any county admin."""
        return await self.is_org_admin(user_id, org_id) or await self.is_county_admin(user_id)

    async def memberships_of(self, user_id: int) -> list[Membership]:
        return await self._memberships.of_user(user_id)

    async def managed_org_ids(self, user_id: int) -> list[int]:
        return [m.org_id for m in await self._memberships.of_user(user_id) if m.role is Role.ORG_ADMIN]

    async def is_member(self, user_id: int, org_id: int) -> bool:
        """Holds any role (org admin or cadre) in the organisation now."""
        return await self.role_in(user_id, org_id) is not None

    async def member_org_ids(self, user_id: int) -> list[int]:
        return [m.org_id for m in await self._memberships.of_user(user_id)]

    async def can_create_activity(self, user_id: int, org_id: int) -> bool:
        """Any member of the organisation (cadre or admin), or any county admin."""
        return await self.is_member(user_id, org_id) or await self.is_county_admin(user_id)

    async def can_organise_activity(self, user_id: int, org_id: int, created_by: int) -> bool:
        """Edit, cancel, correct attendance: the activity's creator, its org's admins, county admins."""
        return user_id == created_by or await self.can_manage_org(user_id, org_id)

    async def can_bind_org_group(self, user_id: int, org_id: int, *, is_chat_admin: bool) -> bool:
        """County admins bind any group; a group's own Telegram admin binds it to an org they run."""
        if await self.is_county_admin(user_id):
            return True
        return is_chat_admin and await self.is_org_admin(user_id, org_id)

    async def can_unbind(self, user_id: int, bound_org_id: int | None, *, is_chat_admin: bool) -> bool:
        if await self.is_county_admin(user_id):
            return True
        if bound_org_id is None:  # the hub belongs to the county
            return False
        return is_chat_admin and await self.is_org_admin(user_id, bound_org_id)

    async def can_act_for_org(self, user_id: int, org_id: int) -> bool:
        """Record the organisation's own work (a deed, a collected wish): its members, or any county admin."""
        return await self.is_member(user_id, org_id) or await self.is_county_admin(user_id)

    # ---- micro-wishes: children's data -----------------------------------------------------
    async def can_collect_wishes(self, user_id: int, org_id: int) -> bool:
        """Add and manage a collector's wishes: its members, or any county admin."""
        return await self.can_act_for_org(user_id, org_id)

    async def can_see_child_details(self, user_id: int, collector_org_id: int, *, claimed_by: int | None) -> bool:
        """A child's private details: the collecting organisation's cadres, and the claimer while
        fulfilling. Not county admins: seeing them is not needed to run the county (PIPL)."""
        return user_id == claimed_by or await self.is_member(user_id, collector_org_id)

    async def can_fulfil_wish(self, user_id: int, claimed_by: int | None, claimed_by_org: int | None) -> bool:
        """Mark purchased / delivered: the claimer, or a member of the claiming organisation."""
        if claimed_by is not None and user_id == claimed_by:
            return True
        return claimed_by_org is not None and await self.is_member(user_id, claimed_by_org)

    # ---- statistics, exports, the year-end report -------------------------------------------
    async def can_see_stats(self, user_id: int, org_id: int | None) -> bool:
        """Figures, charts and the export of one organisation: its members (cadres, admins) and
        county admins; of the whole county (org_id None): county admins only."""
        if await self.is_county_admin(user_id):
            return True
        return org_id is not None and await self.is_member(user_id, org_id)

    async def can_export_child_details(self, user_id: int, org_id: int | None) -> bool:
        """Children's private details in an export: only in one organisation's export, asked by
        one of its members; never county-wide, not even by county admins (PIPL). Each wish is
        still checked with can_see_child_details."""
        return org_id is not None and await self.is_member(user_id, org_id)

    # ---- raising forms, for services ----------------------------------------------------
    async def require_county_admin(self, user_id: int) -> None:
        if not await self.is_county_admin(user_id):
            raise PermissionDenied("errors.county_admin_only")

    async def require_org_manager(self, user_id: int, org_id: int) -> None:
        if not await self.can_manage_org(user_id, org_id):
            raise PermissionDenied("errors.org_admin_only")
