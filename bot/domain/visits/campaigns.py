"""A campaign's life: created, households imported, teams formed and households assigned,
reassigned, a member's households handed back, closed with a summary, exported, purged."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.visits.core import VISIT_HANDED_BACK, VisitCore
from bot.domain.visits.household_import import HouseholdRow
from bot.domain.visits.rules import clean_purpose, clean_title, form_teams, pairs
from bot.model.organisation import OrgKind, Role
from bot.model.outbox import Notice, Priority
from bot.model.visits import (
    Campaign,
    CloseSummary,
    Household,
    Outcome,
    OutcomeRow,
    Team,
    Visit,
    VisitStatus,
)

DEFAULT_TEAMS = 7


class VisitCampaigns(VisitCore):
    async def create_campaign(
        self,
        actor_id: int,
        title: str,
        purpose: str,
        starts_at: datetime,
        deadline: datetime,
        checklist: Sequence[str],
    ) -> Campaign:
        await self.require_admin(actor_id)
        if deadline <= starts_at:
            raise DomainError("visits.deadline_before_start")
        if deadline <= self.clock.now():
            raise DomainError("visits.deadline_past")
        async with self.db.transaction():
            campaign = await self.repo.add_campaign(
                clean_title(title), clean_purpose(purpose), starts_at, deadline, checklist, actor_id, self.clock.now()
            )
            await self.audit.record(self.clock.now(), actor_id, "visits.campaign_create", f"campaign:{campaign.id}")
        await self.sync_reminders()
        return campaign

    async def campaigns(self, *, open_only: bool = False) -> list[Campaign]:
        return await self.repo.campaigns(open_only=open_only)

    async def being_set_up(self, actor_id: int) -> Campaign | None:
        """The newest open campaign without teams yet: where /importhouseholds puts households."""
        await self.require_admin(actor_id)
        for campaign in sorted(await self.repo.campaigns(open_only=True), key=lambda c: -c.id):
            if not await self.repo.teams(campaign.id):
                return campaign
        return None

    async def set_hub_message(self, campaign_id: int, chat_id: int, message_id: int) -> None:
        await self.repo.set_hub_message(campaign_id, chat_id, message_id)

    async def student_keys(self, actor_id: int, campaign_id: int) -> set[str]:
        """For checking an import: who the campaign has already (never shown)."""
        await self.require_admin(actor_id)
        return await self.repo.student_keys_private(campaign_id)

    async def import_households(self, actor_id: int, campaign_id: int, rows: Sequence[HouseholdRow]) -> list[int]:
        """All or nothing, checked again against the campaign (a student added meanwhile)."""
        await self.require_admin(actor_id)
        async with self.db.transaction():
            campaign = await self.open_campaign(campaign_id)
            if await self.repo.teams(campaign.id):
                raise DomainError("visits.import_after_teams")
            existing = await self.repo.student_keys_private(campaign.id)
            keys = [row.draft.student_key for row in rows]
            if existing & set(keys) or len(set(keys)) != len(keys):
                raise DomainError("visits.import_changed")
            ids = await self.repo.add_households(campaign.id, [row.draft for row in rows], self.clock.now())
            await self.audit.record(
                self.clock.now(), actor_id, "visits.import", f"campaign:{campaign.id}", count=len(ids)
            )
        return ids

    # ---- teams ----------------------------------------------------------------------------------
    async def team_candidates(self) -> list[int]:
        """The county-level organisations (active), which send their heads to the teams."""
        return [org.id for org in await self.orgs.list() if org.kind is OrgKind.COUNTY_LEVEL]

    async def _heads(self, org_id: int) -> list[int]:
        """An organisation's heads (its admins), else its cadres: who goes visiting for it."""
        admins = await self.memberships.of_org(org_id, Role.ORG_ADMIN)
        chosen = admins or await self.memberships.of_org(org_id)
        return sorted(membership.user_id for membership in chosen)

    async def form_teams(
        self, actor_id: int, campaign_id: int, *, teams: int = DEFAULT_TEAMS, org_ids: Sequence[int] | None = None
    ) -> list[Team]:
        """The bot forms the teams: the organisations into `teams` balanced teams, each given
        whole townships; each team's households go to its pairs in turn."""
        await self.require_admin(actor_id)
        campaign = await self.open_campaign(campaign_id)
        households = await self.repo.households(campaign.id)
        if not households:
            raise DomainError("visits.teams_no_households")
        chosen = list(org_ids) if org_ids is not None else await self.team_candidates()
        plans = form_teams(chosen, Counter(household.township_id for household in households), teams)
        members_by_plan = []
        for plan in plans:
            members: list[tuple[int, int]] = []
            for org_id in plan.org_ids:
                members.extend((user_id, org_id) for user_id in await self._heads(org_id))
            members_by_plan.append(list(dict.fromkeys(members)))
        return await self._store_teams(
            actor_id,
            campaign,
            [(plan.township_ids, members) for plan, members in zip(plans, members_by_plan, strict=True)],
        )

    async def teams_by_hand(
        self, actor_id: int, campaign_id: int, plans: Sequence[tuple[Sequence[int], Sequence[int]]]
    ) -> list[Team]:
        """The county admin's own teams: for each, its whole townships and its organisations,
        whose heads are its members (the first organisation's head leads it)."""
        await self.require_admin(actor_id)
        campaign = await self.open_campaign(campaign_id)
        teams: list[tuple[Sequence[int], Sequence[tuple[int, int | None]]]] = []
        for townships, org_ids in plans:
            members: list[tuple[int, int | None]] = []
            for org_id in org_ids:
                members.extend((user_id, org_id) for user_id in await self._heads(org_id))
            if not members:
                raise DomainError("visits.team_without_people", number=len(teams) + 1)
            teams.append((townships, list(dict.fromkeys(members))))
        return await self._store_teams(actor_id, campaign, teams)

    async def name_lookup(self, actor_id: int) -> tuple[dict[str, int], dict[str, int]]:
        """Townships and the organisations (county-level ones first) by name, for typing teams
        by hand."""
        await self.require_admin(actor_id)
        ordered = sorted(await self.orgs.list(), key=lambda org: org.kind is not OrgKind.COUNTY_LEVEL)
        return await self.township_names(), {org.name: org.id for org in ordered}

    async def set_teams(
        self, actor_id: int, campaign_id: int, teams: Sequence[tuple[Sequence[int], Sequence[tuple[int, int | None]]]]
    ) -> list[Team]:
        """The county admin's own teams: (whole townships, members (person, organisation) with
        the leader first) for each."""
        await self.require_admin(actor_id)
        return await self._store_teams(actor_id, await self.open_campaign(campaign_id), teams)

    async def _store_teams(
        self,
        actor_id: int,
        campaign: Campaign,
        teams: Sequence[tuple[Sequence[int], Sequence[tuple[int, int | None]]]],
    ) -> list[Team]:
        households = await self.repo.households(campaign.id)
        given = [township for townships, _ in teams for township in townships]
        if len(given) != len(set(given)):
            raise DomainError("visits.township_twice")
        missing = {household.township_id for household in households} - set(given)
        if missing:
            raise DomainError("visits.township_without_team", count=len(missing))
        async with self.db.transaction():
            if await self.repo.teams(campaign.id):
                raise DomainError("visits.teams_exist")
            for number, (townships, members) in enumerate(teams, start=1):
                people = [user_id for user_id, _ in members]
                pair_of = {user_id: index for index, group in enumerate(pairs(people), start=1) for user_id in group}
                orgs = sorted({org_id for _, org_id in members if org_id is not None})
                team_id = await self.repo.add_team(
                    campaign.id,
                    number,
                    people[0] if people else None,
                    orgs,
                    [(user_id, org_id, pair_of[user_id]) for user_id, org_id in members],
                    townships,
                )
                await self._assign_team(team_id, [h for h in households if h.township_id in set(townships)], pair_of)
            await self.audit.record(
                self.clock.now(), actor_id, "visits.teams", f"campaign:{campaign.id}", teams=len(teams)
            )
        return await self.repo.teams(campaign.id)

    async def _assign_team(self, team_id: int, households: list[Household], pair_of: dict[int, int]) -> None:
        """The team's households to its pairs in turn, by township and then import order."""
        numbers = sorted(set(pair_of.values()))
        for index, household in enumerate(sorted(households, key=lambda h: (h.township_id, h.id))):
            pair = numbers[index % len(numbers)] if numbers else None
            await self.repo.assign(household.id, team_id, pair, None)

    async def teams(self, campaign_id: int) -> list[Team]:
        return await self.repo.teams(campaign_id)

    async def led_by(self, user_id: int) -> list[Team]:
        """The teams of open campaigns this person leads."""
        teams = [await self.repo.team(team_id) for team_id in await self.repo.team_ids_of(user_id)]
        return [team for team in teams if team is not None and team.leader_id == user_id]

    async def team_households(self, actor_id: int, team_id: int) -> list[tuple[Household, Visit | None]]:
        """A team's households and their current visits, for its leader (and county admins)."""
        team = await self.repo.team(team_id)
        if team is None:
            raise DomainError("visits.campaign_not_found")
        if team.leader_id != actor_id and not await self.is_admin(actor_id):
            raise PermissionDenied("visits.reassign_not_allowed")
        return [
            (household, await self.repo.current_visit(household.id))
            for household in await self.repo.households(team.campaign_id)
            if household.team_id == team.id
        ]

    async def reassign_choices(self, actor_id: int, household_id: int) -> list[int]:
        """Whom the household may go to: its team's leader and current members."""
        household = await self.household(household_id)
        if not await self.may_review(actor_id, household):
            raise PermissionDenied("visits.reassign_not_allowed")
        team = await self.team_of(household)
        if team is None:
            return []
        people = [team.leader_id] if team.leader_id is not None else []
        return list(dict.fromkeys(people + [member.user_id for member in team.active_members]))

    async def reassign(self, actor_id: int, household_id: int, to_user_id: int) -> Household:
        """The team's leader (or a county admin) gives a household to one member of the team."""
        household = await self.household(household_id)
        await self.open_campaign(household.campaign_id)
        if not await self.may_review(actor_id, household):
            raise PermissionDenied("visits.reassign_not_allowed")
        team = await self.team_of(household)
        if team is None or (
            to_user_id != team.leader_id and to_user_id not in {m.user_id for m in team.active_members}
        ):
            raise DomainError("visits.reassign_not_member")
        async with self.db.transaction():
            await self.repo.assign(household.id, household.team_id, household.pair, to_user_id)
            await self.audit.record(
                self.clock.now(), actor_id, "visits.reassign", f"household:{household.id}", to=to_user_id
            )
        return await self.household(household.id)

    async def hand_back(
        self,
        person_id: int,
        *,
        org_id: int | None = None,
        successor: int | None = None,
        reason: str = "left",
        now: datetime | None = None,
    ) -> int:
        """A team member leaves (the turnover rules): they leave the open campaigns' teams they
        are in (for `org_id` only, when given), and the households assigned to them go back to
        the team's leader, with a visit they were filing, to resume; the leader is told. A
        leader who leaves hands the team to `successor` (else to its next member). Returns how
        many households moved. Nests in the caller's transaction (the turnover's departure)."""
        now = now or self.clock.now()
        moved = 0
        async with self.db.transaction():
            for team in await self._teams_left_by(person_id, org_id):
                theirs = [h for h in await self.repo.households(team.campaign_id) if person_id in h.visitors(team)]
                await self.repo.member_left(team.id, person_id, now)
                leader = await self._leader_after(team, person_id, successor)
                for household in theirs:
                    await self.repo.assign(household.id, team.id, household.pair, leader)
                    visit = await self.repo.current_visit(household.id)
                    if visit is not None and visit.visitor_id == person_id and leader is not None:
                        await self.repo.hand_over_draft(visit.id, person_id, leader)
                    moved += 1
                await self.audit.record(
                    now,
                    None,
                    "visits.hand_back",
                    f"team:{team.id}",
                    person=person_id,
                    households=len(theirs),
                    leader=leader,
                    reason=reason,
                )
                if leader is not None and theirs:
                    await self.outbox.enqueue(
                        Notice(
                            VISIT_HANDED_BACK,
                            leader,
                            key=f"visit-hand-back:{team.id}:{person_id}",
                            params={"person": person_id, "count": len(theirs), "campaign": team.campaign_id},
                            priority=Priority.NOTICE,
                        )
                    )
        return moved

    async def _teams_left_by(self, person_id: int, org_id: int | None) -> list[Team]:
        """The open campaigns' teams the person is a current member of (for that organisation)."""
        found = []
        for team_id in await self.repo.team_ids_of(person_id):
            team = await self.repo.team(team_id)
            if team is None:
                continue
            mine = [m for m in team.active_members if m.user_id == person_id]
            if mine and (org_id is None or any(m.org_id == org_id for m in mine)):
                found.append(team)
        return found

    async def _leader_after(self, team: Team, person_id: int, successor: int | None) -> int | None:
        """Who leads the team once the person left: its leader, or (the leader left) the
        successor, else the next current member; None when nobody is left."""
        if team.leader_id != person_id:
            return team.leader_id
        others = [m.user_id for m in team.active_members if m.user_id != person_id]
        leader = successor if successor is not None else (others[0] if others else None)
        await self.repo.set_leader(team.id, leader)
        return leader

    async def held_for(self, person_id: int, org_id: int) -> list[tuple[Household, Campaign]]:
        """The households assigned to the person in the open campaigns' teams they are in for
        that organisation: what `hand_back(person_id, org_id=…)` would move."""
        found = []
        for team in await self._teams_left_by(person_id, org_id):
            campaign = await self.campaign(team.campaign_id)
            households = await self.repo.households(team.campaign_id)
            found += [(h, campaign) for h in households if person_id in h.visitors(team)]
        return found

    # ---- closing ----------------------------------------------------------------------------
    async def close(self, actor_id: int, campaign_id: int) -> CloseSummary:
        await self.require_admin(actor_id)
        async with self.db.transaction():
            campaign = await self.open_campaign(campaign_id)
            if not await self.repo.close_campaign(campaign.id, actor_id, self.clock.now()):
                raise DomainError("visits.campaign_closed", title=campaign.title)
            await self.audit.record(self.clock.now(), actor_id, "visits.close", f"campaign:{campaign.id}")
        await self.sync_reminders()
        return await self.summary(campaign_id)

    async def summary(self, campaign_id: int) -> CloseSummary:
        """In the seed's words: teams, townships, households; verified, not eligible, unreached; days."""
        campaign = await self.campaign(campaign_id)
        households = await self.repo.households(campaign.id)
        latest = await self.repo.latest_visits(campaign.id)
        outcomes = Counter(
            visit.outcome for visit in latest.values() if visit.status is VisitStatus.APPROVED and visit.outcome
        )
        end = campaign.closed_at or self.clock.now()
        filed = [visit.submitted_at for visit in latest.values() if visit.submitted_at is not None]
        first = min([visit.started_at for visit in latest.values()], default=campaign.starts_at)
        last = max(filed, default=end)
        days = max(1, math.ceil((last - min(first, last)).total_seconds() / 86400))
        return CloseSummary(
            campaign=campaign,
            teams=len(await self.repo.teams(campaign.id)),
            townships=len({household.township_id for household in households}),
            households=len(households),
            verified=outcomes[Outcome.VERIFIED],
            not_eligible=outcomes[Outcome.NOT_ELIGIBLE],
            unreached=len(households) - outcomes[Outcome.VERIFIED] - outcomes[Outcome.NOT_ELIGIBLE],
            days=days,
        )

    async def outcome_rows(
        self, actor_id: int, campaign_id: int, *, private_reason: str | None = None
    ) -> list[OutcomeRow]:
        """The export's rows. Without a reason: public fields only. With one: the private
        details too, for county admins only, audited with the reason."""
        await self.require_admin(actor_id)
        campaign = await self.campaign(campaign_id)
        if private_reason is not None:
            if not private_reason.strip():
                raise DomainError("visits.export_reason_required")
            if campaign.purged_at is not None:
                raise DomainError("visits.export_purged")
        teams = {team.id: team.number for team in await self.repo.teams(campaign.id)}
        names = {org.id: org.name for org in await self.orgs.list(include_archived=True)}
        latest = await self.repo.latest_visits(campaign.id)
        rows = []
        for household in await self.repo.households(campaign.id):
            visit = latest.get(household.id)
            details = notes = None
            if private_reason is not None:
                details = await self.repo.household_details(household.id)
                notes = None if visit is None else await self.repo.visit_notes(visit.id)
            rows.append(
                OutcomeRow(
                    household=household,
                    township=names.get(household.township_id, ""),
                    team_number=teams.get(household.team_id) if household.team_id else None,
                    visit=visit,
                    details=details,
                    notes=notes,
                )
            )
        if private_reason is not None:
            await self.audit.record(
                self.clock.now(),
                actor_id,
                "visits.private_export",
                f"campaign:{campaign.id}",
                reason=private_reason.strip(),
                rows=len(rows),
            )
        return rows

    async def purge_private(self, now: datetime) -> int:
        """Delete the private details of campaigns closed more than `purge_after` ago; how many."""
        async with self.db.transaction():
            due = await self.repo.closed_before(now - self.settings.purge_after)
            for campaign_id in due:
                await self.repo.purge(campaign_id, now)
                await self.audit.record(now, None, "visits.private_purge", f"campaign:{campaign_id}")
        return len(due)
