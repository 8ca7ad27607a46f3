"""Filing a visit, step by step (each answer saved at once, so a visit resumes where it
stopped), and reviewing it.

The steps: the family was met → the claimed circumstances match (yes / partly / no) → a note
(required unless they match) → each configured checklist item → the location → photos →
the outcome → its reason (not eligible, unreachable). A family not met skips to the location.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.visits.core import VISIT_REVIEWED, VisitCore
from bot.domain.visits.rules import PHOTOS_MAX, REASON_MAX, centre, clean_note, distance_km
from bot.model.outbox import Notice, Priority
from bot.model.visits import (
    Campaign,
    Household,
    HouseholdDetails,
    Matches,
    Outcome,
    Step,
    Visit,
    VisitNotes,
    VisitStatus,
)

_EDITABLE = (VisitStatus.DRAFT, VisitStatus.HAS_ISSUES)
_FILED = (VisitStatus.SUBMITTED, VisitStatus.APPROVED)


@dataclass(frozen=True)
class Filing:
    """A visit being filed, with what the visitor needs to see for its next step."""

    visit: Visit
    household: Household
    campaign: Campaign
    resumed: bool = False

    @property
    def next_item(self) -> str | None:
        for item in self.campaign.checklist:
            if item not in self.visit.items_done:
                return item
        return None


@dataclass(frozen=True)
class ReviewCard:
    visit: Visit
    household: Household
    details: HouseholdDetails | None
    notes: VisitNotes
    photos: list[str]


class VisitFiling(VisitCore):
    # ---- the visitor's list ------------------------------------------------------------------
    async def my_households(self, user_id: int) -> list[tuple[Household, Campaign, Visit | None]]:
        """Assigned to this person in open campaigns, nearest deadline first."""
        found = []
        campaigns: dict[int, Campaign] = {}
        for household in await self.repo.households_of_visitor(user_id):
            if household.campaign_id not in campaigns:
                campaigns[household.campaign_id] = await self.campaign(household.campaign_id)
            found.append((household, campaigns[household.campaign_id], await self.repo.current_visit(household.id)))
        return found

    async def household_details(self, user_id: int, household_id: int) -> tuple[Household, HouseholdDetails | None]:
        """The private details, for the assigned team and county admins; every view audited."""
        household = await self.household(household_id)
        if not await self.may_see_private(user_id, household):
            raise PermissionDenied("visits.private_not_allowed")
        async with self.db.transaction():
            details = await self.repo.household_details(household.id)
            await self.audit.record(self.clock.now(), user_id, "visits.private_view", f"household:{household.id}")
        return household, details

    # ---- starting or resuming ------------------------------------------------------------------
    async def start(self, user_id: int, household_id: int) -> Filing:
        """The visit this person files for the household: theirs resumed, or a new one. Another
        visitor's visit under way, or one filed already, is a clear refusal."""
        household = await self.household(household_id)
        campaign = await self.open_campaign(household.campaign_id)
        await self.require_assigned(user_id, household)
        current = await self.repo.current_visit(household.id)
        if current is not None and current.status in _EDITABLE:
            if current.visitor_id != user_id:
                raise DomainError("visits.taken", alias=household.alias)
            return Filing(current, household, campaign, resumed=True)
        if current is not None and current.status in _FILED and not self._revisit_due(household, current):
            raise DomainError("visits.already_filed", alias=household.alias)
        round_number = 1 if current is None else current.round + 1
        async with self.db.transaction():
            if not await self.repo.start_visit(household.id, round_number, user_id, self.clock.now()):
                raise DomainError("visits.taken", alias=household.alias)
            await self.repo.set_revisit(household.id, None)
        visit = await self.repo.current_visit(household.id)
        if visit is None or visit.visitor_id != user_id:
            raise DomainError("visits.taken", alias=household.alias)
        return Filing(visit, household, campaign)

    def _revisit_due(self, household: Household, visit: Visit) -> bool:
        return (
            visit.outcome is Outcome.UNREACHABLE
            and household.revisit_at is not None
            and household.revisit_at <= self.clock.now()
        )

    async def filing(self, user_id: int, visit_id: int) -> Filing:
        """A visit this person is filing, still open for answers."""
        visit = await self.visit(visit_id)
        household = await self.household(visit.household_id)
        campaign = await self.open_campaign(household.campaign_id)
        if visit.visitor_id != user_id:
            raise DomainError("visits.taken", alias=household.alias)
        if visit.status not in _EDITABLE:
            raise DomainError("visits.already_filed", alias=household.alias)
        return Filing(visit, household, campaign)

    async def _save(self, filing: Filing, user_id: int, **values: object) -> Filing:
        if not await self.repo.update_draft(filing.visit.id, user_id, **values):
            raise DomainError("visits.already_filed", alias=filing.household.alias)
        return replace(filing, visit=await self.visit(filing.visit.id))

    async def _notes(self, visit_id: int) -> VisitNotes:
        return await self.repo.visit_notes(visit_id)

    # ---- the steps ------------------------------------------------------------------------------
    async def answer_met(self, user_id: int, visit_id: int, met: bool) -> Filing:
        filing = await self.filing(user_id, visit_id)
        return await self._save(filing, user_id, met=met, step=Step.MATCHES if met else Step.LOCATION)

    async def answer_matches(self, user_id: int, visit_id: int, matches: Matches) -> Filing:
        filing = await self.filing(user_id, visit_id)
        return await self._save(filing, user_id, matches=matches.value, step=Step.MATCH_NOTE)

    async def answer_match_note(self, user_id: int, visit_id: int, text: str | None) -> Filing:
        """The note on the circumstances: required when they do not match (fully)."""
        filing = await self.filing(user_id, visit_id)
        if text is None and filing.visit.matches is not Matches.YES:
            raise DomainError("visits.match_note_required")
        note = None if text is None else clean_note(text)
        async with self.db.transaction():
            await self.repo.put_visit_notes(visit_id, replace(await self._notes(visit_id), match_note=note))
            return await self._save(filing, user_id, step=self._after_items(filing, filing.visit.items_done))

    def _after_items(self, filing: Filing, done: tuple[str, ...]) -> Step:
        return Step.ITEM if any(item not in done for item in filing.campaign.checklist) else Step.LOCATION

    async def answer_item(self, user_id: int, visit_id: int, text: str) -> Filing:
        filing = await self.filing(user_id, visit_id)
        item = filing.next_item
        if item is None:
            raise DomainError("common.button_expired")
        answer = clean_note(text)
        done = (*filing.visit.items_done, item)
        async with self.db.transaction():
            notes = await self._notes(visit_id)
            await self.repo.put_visit_notes(visit_id, replace(notes, item_answers={**notes.item_answers, item: answer}))
            return await self._save(filing, user_id, items=done, step=self._after_items(filing, done))

    async def answer_location(self, user_id: int, visit_id: int, latitude: float, longitude: float) -> Filing:
        """Where the visit is filed; far from the household's township: flagged, not refused."""
        filing = await self.filing(user_id, visit_id)
        household = filing.household
        middle = centre(await self.repo.township_points(household.campaign_id, household.township_id))
        distance = None if middle is None else distance_km(middle, (latitude, longitude))
        far = distance is not None and distance > self.settings.far_km
        async with self.db.transaction():
            notes = await self._notes(visit_id)
            await self.repo.put_visit_notes(visit_id, replace(notes, latitude=latitude, longitude=longitude))
            return await self._save(
                filing,
                user_id,
                located=True,
                far=far,
                distance_km=None if distance is None else round(distance, 1),
                step=Step.PHOTOS,
            )

    async def add_photo(self, user_id: int, visit_id: int, file_id: str) -> int:
        # Taken whenever the visit is open for answers: a photo sent a step early is kept too.
        filing = await self.filing(user_id, visit_id)
        if filing.visit.photos >= PHOTOS_MAX:
            raise DomainError("visits.photos_too_many", max=PHOTOS_MAX)
        async with self.db.transaction():
            return await self.repo.add_photo_private(visit_id, file_id, self.clock.now())

    async def photos_done(self, user_id: int, visit_id: int) -> Filing:
        filing = await self.filing(user_id, visit_id)
        if filing.visit.photos < 1:
            raise DomainError("visits.photo_required")
        return await self._save(filing, user_id, step=Step.OUTCOME)

    async def answer_outcome(self, user_id: int, visit_id: int, outcome: Outcome) -> Filing:
        filing = await self.filing(user_id, visit_id)
        if outcome is Outcome.VERIFIED:
            if filing.visit.met is False:
                raise DomainError("visits.verified_needs_meeting")
            filing = await self._save(filing, user_id, outcome=outcome.value)
            return await self._submit(filing, user_id)
        return await self._save(filing, user_id, outcome=outcome.value, step=Step.REASON)

    async def answer_reason(self, user_id: int, visit_id: int, text: str) -> Filing:
        filing = await self.filing(user_id, visit_id)
        reason = clean_note(text, REASON_MAX)
        async with self.db.transaction():
            await self.repo.put_visit_notes(visit_id, replace(await self._notes(visit_id), reason=reason))
            return await self._submit(filing, user_id)

    async def _submit(self, filing: Filing, user_id: int) -> Filing:
        now = self.clock.now()
        async with self.db.transaction():
            if not await self.repo.submit(filing.visit.id, user_id, now):
                raise DomainError("visits.already_filed", alias=filing.household.alias)
            if filing.visit.outcome is Outcome.UNREACHABLE:
                await self.repo.set_revisit(filing.household.id, now + self.settings.revisit_after)
            await self.audit.record(
                now,
                user_id,
                "visits.submit",
                f"household:{filing.household.id}",
                outcome=filing.visit.outcome.value if filing.visit.outcome else None,
            )
        return replace(filing, visit=await self.visit(filing.visit.id))

    # ---- review -----------------------------------------------------------------------------------
    async def to_review(self, user_id: int, campaign_id: int) -> list[tuple[Visit, Household]]:
        """Submitted visits this person may review: all for county admins, their team's for leaders."""
        found = []
        for visit in await self.repo.submitted_for_review(campaign_id):
            household = await self.household(visit.household_id)
            if await self.may_review(user_id, household):
                found.append((visit, household))
        return found

    async def review_card(self, user_id: int, visit_id: int) -> ReviewCard:
        """Everything the reviewer needs (private: audited)."""
        visit = await self.visit(visit_id)
        household = await self.household(visit.household_id)
        if not await self.may_review(user_id, household):
            raise PermissionDenied("visits.review_not_allowed")
        async with self.db.transaction():
            card = ReviewCard(
                visit,
                household,
                await self.repo.household_details(household.id),
                await self._notes(visit.id),
                await self.repo.photos_private(visit.id),
            )
            await self.audit.record(self.clock.now(), user_id, "visits.review_view", f"visit:{visit.id}")
        return card

    async def review(self, user_id: int, visit_id: int, decision: VisitStatus, comment: str | None = None) -> Visit:
        """Approved, has issues (with a comment the visitor gets), or rejected (visited again)."""
        if decision not in (VisitStatus.APPROVED, VisitStatus.HAS_ISSUES, VisitStatus.REJECTED):
            raise DomainError("common.button_expired")
        visit = await self.visit(visit_id)
        household = await self.household(visit.household_id)
        await self.open_campaign(household.campaign_id)
        if not await self.may_review(user_id, household):
            raise PermissionDenied("visits.review_not_allowed")
        note = None
        if decision is VisitStatus.HAS_ISSUES:
            if not comment:
                raise DomainError("visits.comment_required")
            note = clean_note(comment)
        now = self.clock.now()
        async with self.db.transaction():
            if not await self.repo.review(visit.id, decision, user_id, now):
                raise DomainError("visits.reviewed_meanwhile", alias=household.alias)
            if note is not None:
                await self.repo.put_visit_notes(visit.id, replace(await self._notes(visit.id), review_note=note))
            if decision is not VisitStatus.APPROVED:
                await self.outbox.enqueue(
                    Notice(
                        VISIT_REVIEWED,
                        visit.visitor_id,
                        key=f"visit-review:{visit.id}:{now.isoformat()}",
                        params={"visit": visit.id, "decision": decision.value},
                        priority=Priority.NOTICE,
                    )
                )
            await self.audit.record(now, user_id, "visits.review", f"visit:{visit.id}", decision=decision.value)
        return await self.visit(visit.id)

    async def review_note(self, visit_id: int) -> str | None:
        """The reviewer's comment, for the message to the visitor (who may read it)."""
        return (await self._notes(visit_id)).review_note
