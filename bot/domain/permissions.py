"""Every permission rule of the bot, in one place.

Roles: county admins (from the configuration, or promoted by one), organisation admins and
cadres (memberships), and everyone else as a volunteer. Handlers and services ask here; nothing
else decides who may do what.

The organisation tree carries rights (the one scoping rule, used by
bot/domain/orgs.OrganisationService.visible_to/managed_by too): the admins of a township
committee (乡镇大团委) manage their village branches (members, activities, wishes, deeds) as a
county admin manages everything; a village branch's admins manage only their branch. Children's
private details do not follow the tree: only the collecting organisation and the claimer see them.

Access ends with the membership. A notice period (`read_until` on the ended membership) keeps
read access to the organisation's records for a few days, never to children's private details.
"""

from __future__ import annotations

from bot.domain.clock import Clock
from bot.domain.errors import PermissionDenied
from bot.model.organisation import Membership, OrgKind, Role
from storage.audit import AuditRepository
from storage.memberships import MembershipRepository
from storage.organisations import OrganisationRepository
from storage.people import PeopleRepository

# Telegram's stand-in user for messages an anonymous group admin sends "as the group".
ANONYMOUS_ADMIN_BOT_ID = 1087968824


class Permissions:
    def __init__(
        self,
        config_admins: tuple[int, ...],
        people: PeopleRepository,
        memberships: MembershipRepository,
        *,
        orgs: OrganisationRepository | None = None,
        clock: Clock | None = None,
        audit: AuditRepository | None = None,
    ) -> None:
        self._config_admins = frozenset(config_admins)
        self._people = people
        self._memberships = memberships
        # Without the tree (a bare test double) nobody manages through it; without a clock no
        # notice period is running.
        self._orgs = orgs
        self._clock = clock
        self._audit = audit

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

    async def township_of(self, org_id: int) -> int | None:
        """The township committee a village branch belongs to (the tree's one level of rights)."""
        if self._orgs is None:
            return None
        org = await self._orgs.get(org_id)
        if org is None or org.kind is not OrgKind.VILLAGE_BRANCH or org.parent_id is None:
            return None
        parent = await self._orgs.get(org.parent_id)
        if parent is None or parent.kind is not OrgKind.TOWNSHIP or not parent.active:
            return None
        return parent.id

    async def manages_through_tree(self, user_id: int, org_id: int) -> bool:
        """An admin of the township committee the village branch `org_id` belongs to."""
        township = await self.township_of(org_id)
        return township is not None and await self.is_org_admin(user_id, township)

    async def can_manage_org(self, user_id: int, org_id: int) -> bool:
        """Approve joins, change roles: the org's own admins, its township's admins (for a
        village branch), or any county admin."""
        return (
            await self.is_org_admin(user_id, org_id)
            or await self.manages_through_tree(user_id, org_id)
            or await self.is_county_admin(user_id)
        )

    async def memberships_of(self, user_id: int) -> list[Membership]:
        return await self._memberships.of_user(user_id)

    async def administered_org_ids(self, user_id: int) -> list[int]:
        """The organisations the person is an admin of themselves (what they may hand over)."""
        return [m.org_id for m in await self._memberships.of_user(user_id) if m.role is Role.ORG_ADMIN]

    async def managed_org_ids(self, user_id: int) -> list[int]:
        """The organisations the person manages: those they administer, and the village branches
        of the township committees among them."""
        administered = await self.administered_org_ids(user_id)
        managed = list(administered)
        if self._orgs is None:
            return managed
        townships = set()
        for org_id in administered:  # organisations are cached: no query for most people
            org = await self._orgs.get(org_id)
            if org is not None and org.kind is OrgKind.TOWNSHIP:
                townships.add(org_id)
        if not townships:
            return managed
        for org in await self._orgs.list():
            if org.parent_id in townships and org.id not in managed and await self.township_of(org.id) is not None:
                managed.append(org.id)
        return managed

    async def reader_org_ids(self, user_id: int) -> list[int]:
        """Whose records the person may read: the organisations they may act for, and those they
        left with a notice period still running (read only: never children's private details)."""
        readable = await self.acting_org_ids(user_id)
        if self._clock is not None:
            for org_id in await self._memberships.in_notice(user_id, self._clock.now()):
                if org_id not in readable:
                    readable.append(org_id)
        return readable

    async def acting_org_ids(self, user_id: int) -> list[int]:
        """The organisations the person acts for: their own (any role) and those they manage."""
        acting = await self.member_org_ids(user_id)
        return acting + [org_id for org_id in await self.managed_org_ids(user_id) if org_id not in acting]

    async def is_member(self, user_id: int, org_id: int) -> bool:
        """Holds any role (org admin or cadre) in the organisation now."""
        return await self.role_in(user_id, org_id) is not None

    async def member_org_ids(self, user_id: int) -> list[int]:
        return [m.org_id for m in await self._memberships.of_user(user_id)]

    async def can_create_activity(self, user_id: int, org_id: int) -> bool:
        """Any member of the organisation (cadre or admin), or any county admin."""
        return await self.is_member(user_id, org_id) or await self.is_county_admin(user_id)

    async def can_organise_activity(self, user_id: int, org_id: int, created_by: int) -> bool:
        """Edit, cancel, correct attendance: the activity's creator while still a member of its
        organisation, its org's admins (and its township's), county admins."""
        if user_id == created_by and await self.is_member(user_id, org_id):
            return True
        return await self.can_manage_org(user_id, org_id)

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
        """Record the organisation's own work (a deed, a collected wish): its members, its
        township's admins (for a village branch), or any county admin."""
        return (
            await self.is_member(user_id, org_id)
            or await self.manages_through_tree(user_id, org_id)
            or await self.is_county_admin(user_id)
        )

    # ---- micro-wishes: children's data -----------------------------------------------------
    async def can_collect_wishes(self, user_id: int, org_id: int) -> bool:
        """Add and manage a collector's wishes: its members, or any county admin."""
        return await self.can_act_for_org(user_id, org_id)

    async def can_see_child_details(
        self, user_id: int, collector_org_id: int, *, claimed_by: int | None, claimed_by_org: int | None = None
    ) -> bool:
        """A child's private details: the collecting organisation's cadres, and the claimer while
        fulfilling. Not county admins: seeing them is not needed to run the county (PIPL). Not
        the township (the tree carries no private details), not anyone in a notice period."""
        return await self.is_claimer(user_id, claimed_by, claimed_by_org) or await self.is_member(
            user_id, collector_org_id
        )

    async def is_claimer(self, user_id: int, claimed_by: int | None, claimed_by_org: int | None) -> bool:
        """The person holding a claim, while still acting for the organisation it was made for
        (a claimer who left holds nothing: their claims moved with their duties)."""
        if claimed_by is None or user_id != claimed_by:
            return False
        if claimed_by_org is None or await self.is_member(user_id, claimed_by_org):
            return True
        return await self.is_county_admin(user_id)

    async def can_fulfil_wish(self, user_id: int, claimed_by: int | None, claimed_by_org: int | None) -> bool:
        """Mark purchased / delivered: the claimer, or a member of the claiming organisation."""
        if await self.is_claimer(user_id, claimed_by, claimed_by_org):
            return True
        return claimed_by_org is not None and await self.is_member(user_id, claimed_by_org)

    # ---- statistics, exports, the year-end report -------------------------------------------
    async def can_see_stats(self, user_id: int, org_id: int | None) -> bool:
        """Figures, charts and the export of one organisation: its members (cadres, admins) and
        county admins; of the whole county (org_id None): county admins only."""
        if await self.is_county_admin(user_id):
            return True
        return org_id is not None and org_id in await self.reader_org_ids(user_id)

    async def can_export_child_details(self, user_id: int, org_id: int | None) -> bool:
        """Children's private details in an export: only in one organisation's export, asked by
        one of its members; never county-wide, not even by county admins (PIPL). Each wish is
        still checked with can_see_child_details."""
        return org_id is not None and await self.is_member(user_id, org_id)

    # ---- raising forms, for services ----------------------------------------------------
    async def refused(self, user_id: int, key: str, subject: str, **params: object) -> PermissionDenied:
        """A refusal, written to the audit log first (a departed cadre's old button, a private
        view not allowed): call it outside a transaction, or the refusal's rollback takes the
        line with it. Raise what it returns."""
        error = PermissionDenied(key, **params)
        if self._audit is not None and self._clock is not None:
            # Filed under the person refused (the subject's own history stays its changes).
            await self._audit.record(
                self._clock.now(), user_id, "access.refused", f"user:{user_id}", key=key, about=subject
            )
            error.audited = True
        return error

    async def require_county_admin(self, user_id: int) -> None:
        if not await self.is_county_admin(user_id):
            raise PermissionDenied("errors.county_admin_only")

    async def require_org_manager(self, user_id: int, org_id: int) -> None:
        if not await self.can_manage_org(user_id, org_id):
            raise PermissionDenied("errors.org_admin_only")
