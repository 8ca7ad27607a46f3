"""What every part of the campaign service shares: dependencies, lookups, and who may do what.

Who may do what (every rule about people is here):
- create a campaign, import its households, form its teams, close it, export it: county admins.
- see a household's private details: the county admins and the members and leader of the team
  it is assigned to (each view audited, without the values).
- file a household's visit: the people it is assigned to (its pair, or its holder).
- review a visit, reassign a household: the team's leader and the county admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.orgs import OrganisationService
from bot.domain.outbox import Outbox
from bot.domain.permissions import Permissions
from bot.domain.reminders import ReminderService
from bot.domain.schedule_grammar import parse_schedule
from bot.model.organisation import OrgKind
from bot.model.visits import Campaign, Household, Team, Visit
from storage.audit import AuditRepository
from storage.db import Database
from storage.memberships import MembershipRepository
from storage.visits import VisitRepository

# The outbox kinds: the note a visitor gets when their visit is reviewed (not approved), and
# the note a team leader gets when a member's households come back to them.
VISIT_REVIEWED = "visits.reviewed"
VISIT_HANDED_BACK = "visits.handed_back"
# The daily reminder's system-reminder subject: one for every campaign (audience at send time).
DAILY_SUBJECT = "visits:daily"


@dataclass(frozen=True)
class VisitSettings:
    purge_after: timedelta = timedelta(days=90)
    far_km: float = 15.0
    revisit_after: timedelta = timedelta(days=1)


class VisitCore:
    def __init__(
        self,
        db: Database,
        repo: VisitRepository,
        orgs: OrganisationService,
        memberships: MembershipRepository,
        audit: AuditRepository,
        permissions: Permissions,
        clock: Clock,
        zone: ZoneInfo,
        outbox: Outbox,
        settings: VisitSettings | None = None,
    ) -> None:
        self.db = db
        self.repo = repo
        self.orgs = orgs
        self.memberships = memberships
        self.audit = audit
        self.permissions = permissions
        self.clock = clock
        self.zone = zone
        self.outbox = outbox
        self.settings = settings or VisitSettings()
        self._reminders: ReminderService | None = None
        self._reminder_when = ""

    # ---- the daily reminder: kept only while a campaign is open ---------------------------------
    async def keep_reminders(self, reminders: ReminderService, when: str) -> None:
        """At start-up: the persistent scheduler and the configured time ("" = off)."""
        self._reminders, self._reminder_when = reminders, when
        await self.sync_reminders()

    async def sync_reminders(self) -> None:
        """One system reminder while any campaign is open; none otherwise."""
        reminders = self._reminders
        if reminders is None:
            return
        if not self._reminder_when or not await self.repo.campaigns(open_only=True):
            await reminders.cancel_subject(DAILY_SUBJECT)
            return
        schedule = parse_schedule(self._reminder_when, now=self.clock.now(), zone=self.zone)
        await reminders.set_for_subject(DAILY_SUBJECT, "person", None, "", schedule)

    # ---- lookups --------------------------------------------------------------------------------
    async def campaign(self, campaign_id: int) -> Campaign:
        campaign = await self.repo.campaign(campaign_id)
        if campaign is None:
            raise DomainError("visits.campaign_not_found")
        return campaign

    async def open_campaign(self, campaign_id: int) -> Campaign:
        campaign = await self.campaign(campaign_id)
        if campaign.closed:
            raise DomainError("visits.campaign_closed", title=campaign.title)
        return campaign

    async def household(self, household_id: int) -> Household:
        household = await self.repo.household(household_id)
        if household is None:
            raise DomainError("visits.household_not_found")
        return household

    async def visit(self, visit_id: int) -> Visit:
        visit = await self.repo.visit(visit_id)
        if visit is None:
            raise DomainError("visits.visit_not_found")
        return visit

    async def team_of(self, household: Household) -> Team | None:
        return None if household.team_id is None else await self.repo.team(household.team_id)

    async def township_names(self) -> dict[str, int]:
        """The county tree's townships, by name: where households may be."""
        return {org.name: org.id for org in await self.orgs.list() if org.kind is OrgKind.TOWNSHIP}

    # ---- who ------------------------------------------------------------------------------------
    async def require_admin(self, user_id: int) -> None:
        if not await self.permissions.is_county_admin(user_id):
            raise PermissionDenied("visits.admin_only")

    async def is_admin(self, user_id: int) -> bool:
        return await self.permissions.is_county_admin(user_id)

    async def may_see_private(self, user_id: int, household: Household) -> bool:
        if await self.permissions.is_county_admin(user_id):
            return True
        team = await self.team_of(household)
        if team is None:
            return False
        return user_id == team.leader_id or user_id in {member.user_id for member in team.active_members}

    async def may_review(self, user_id: int, household: Household) -> bool:
        if await self.permissions.is_county_admin(user_id):
            return True
        team = await self.team_of(household)
        return team is not None and team.leader_id == user_id

    async def require_assigned(self, user_id: int, household: Household) -> None:
        if user_id not in household.visitors(await self.team_of(household)):
            raise PermissionDenied("visits.not_assigned", alias=household.alias)
