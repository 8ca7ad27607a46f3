"""What a campaign has done so far: the hub's progress, the daily reminders (visitors with
households left; after the deadline, the overdue list to the county admins), and the verified
students the funds ledger pays against (bot/domain/verified_students.py)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from bot.domain.visits.core import VisitCore
from bot.domain.visits.rules import path_km
from bot.model.reminder import ReminderRecord
from bot.model.verification import VerifiedStudent
from bot.model.visits import Campaign, CampaignProgress, Household, Outcome, TeamProgress, Visit, VisitStatus

_VISITED = (VisitStatus.SUBMITTED, VisitStatus.APPROVED, VisitStatus.HAS_ISSUES)


@dataclass(frozen=True)
class Overdue:
    campaign: Campaign
    by_team: list[tuple[int, int]]  # (team number, households left)


@dataclass(frozen=True)
class DailyNotice:
    """What one person hears on a campaign day: their households left, and (county admins,
    after a deadline) the overdue list."""

    left: list[tuple[Campaign, int]]
    overdue: list[Overdue]

    @property
    def empty(self) -> bool:
        return not self.left and not self.overdue


def _done(visit: Visit | None) -> bool:
    """A household needs no more visiting: filed, and not back for a visit again."""
    if visit is None or visit.status not in _VISITED:
        return False
    return not (visit.outcome is Outcome.UNREACHABLE and visit.status is VisitStatus.APPROVED)


class VisitProgress(VisitCore):
    async def progress(self, campaign_id: int) -> CampaignProgress:
        campaign = await self.campaign(campaign_id)
        households = await self.repo.households(campaign.id)
        latest = await self.repo.latest_visits(campaign.id)
        paths: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
        for team_id, visitor, latitude, longitude in await self.repo.located_points(campaign.id):
            paths[(team_id, visitor)].append((latitude, longitude))
        teams = []
        for team in await self.repo.teams(campaign.id):
            mine = [household for household in households if household.team_id == team.id]
            visits = [latest.get(household.id) for household in mine]
            legs = [points for (team_id, _), points in paths.items() if team_id == team.id and len(points) > 1]
            teams.append(
                TeamProgress(
                    team=team,
                    assigned=len(mine),
                    visited=sum(1 for visit in visits if visit is not None and visit.status in _VISITED),
                    approved=sum(1 for visit in visits if visit is not None and visit.status is VisitStatus.APPROVED),
                    kilometres=round(sum(path_km(points) for points in legs), 1) if legs else None,
                )
            )
        return CampaignProgress(campaign, tuple(teams), self.days_left(campaign))

    def days_left(self, campaign: Campaign) -> int:
        seconds = (campaign.deadline - self.clock.now()).total_seconds()
        return max(0, math.ceil(seconds / 86400))

    # ---- daily reminders (one system reminder, core.py; audience and words at send time) -------
    async def _left(self, campaign: Campaign) -> list[tuple[Household, Visit | None]]:
        latest = await self.repo.latest_visits(campaign.id)
        return [
            (household, latest.get(household.id))
            for household in await self.repo.households(campaign.id)
            if not _done(latest.get(household.id))
        ]

    async def audience(self, reminder: ReminderRecord) -> list[int]:
        people: list[int] = []
        overdue = False
        for campaign in await self.repo.campaigns(open_only=True):
            left = await self._left(campaign)
            if not left:
                continue
            overdue = overdue or campaign.deadline <= reminder.due_at
            for household, _ in left:
                people.extend(household.visitors(await self.team_of(household)))
        if overdue:
            people.extend(await self.permissions.county_admin_ids())
        return list(dict.fromkeys(people))

    async def notice_for(self, user_id: int, at: datetime) -> DailyNotice:
        left: list[tuple[Campaign, int]] = []
        overdue: list[Overdue] = []
        admin = await self.permissions.is_county_admin(user_id)
        for campaign in await self.repo.campaigns(open_only=True):
            pending = await self._left(campaign)
            teams = {team.id: team for team in await self.repo.teams(campaign.id)}
            mine = sum(
                1
                for household, _ in pending
                if user_id in household.visitors(teams.get(household.team_id) if household.team_id else None)
            )
            if mine:
                left.append((campaign, mine))
            if admin and pending and campaign.deadline <= at:
                counts: dict[int, int] = defaultdict(int)
                for household, _ in pending:
                    team = teams.get(household.team_id) if household.team_id else None
                    counts[team.number if team else 0] += 1
                overdue.append(Overdue(campaign, sorted(counts.items())))
        return DailyNotice(left, overdue)

    # ---- the verified students (bot/domain/verified_students.py's protocol) ----------------------
    async def verified(self, household_id: int) -> VerifiedStudent | None:
        household = await self.repo.household(household_id)
        if household is None:
            return None
        visit = await self.repo.current_visit(household.id)
        if visit is None or visit.status is not VisitStatus.APPROVED or visit.outcome is not Outcome.VERIFIED:
            return None
        return VerifiedStudent(
            household_id=household.id,
            campaign_id=household.campaign_id,
            campaign_title=(campaign := await self.campaign(household.campaign_id)).title,
            alias=household.alias,
            township_org_id=household.township_id,
            campaign_closed=campaign.closed,
        )

    async def all_verified(self, *, campaign_id: int | None = None) -> list[VerifiedStudent]:
        campaigns = [await self.campaign(campaign_id)] if campaign_id is not None else await self.repo.campaigns()
        found = []
        for campaign in campaigns:
            latest = await self.repo.latest_visits(campaign.id)
            for household in await self.repo.households(campaign.id):
                visit = latest.get(household.id)
                if visit is not None and visit.status is VisitStatus.APPROVED and visit.outcome is Outcome.VERIFIED:
                    found.append(
                        VerifiedStudent(
                            household_id=household.id,
                            campaign_id=campaign.id,
                            campaign_title=campaign.title,
                            alias=household.alias,
                            township_org_id=household.township_id,
                            campaign_closed=campaign.closed,
                        )
                    )
        return found
