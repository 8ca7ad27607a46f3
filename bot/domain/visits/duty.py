"""The campaign's duty kind for cadre turnover (bot/domain/turnover.py's `DutyKind` contract):
what a departing cadre holds for an organisation is the households assigned to them in the
open campaigns' teams they joined for it; moving them is `VisitService.hand_back` for that
organisation: to the team's leader (the issue's rule), or, when the leader leaves, to the
receiver the departure names, who then leads the team.

Register it where the services are assembled:
`duty_registry.register(visit_duty_kind(visits))`; the receiver's message lists a kind's items
under the catalog keys `turnover.kind_visit` and `turnover.button_visit` (in visits.toml)."""

from __future__ import annotations

from bot.domain.turnover import Duty, DutyKind
from bot.domain.visits.service import VisitService
from storage.duties import HeldItem

VISIT = "visit"


def visit_duty_kind(visits: VisitService) -> DutyKind:
    async def held(user_id: int, org_id: int) -> list[Duty]:
        return [
            HeldItem(subject_id=household.id, label=household.alias, due_at=campaign.deadline)
            for household, campaign in await visits.held_for(user_id, org_id)
        ]

    async def transfer(user_id: int, org_id: int, receiver_id: int, held: list[Duty]) -> None:
        await visits.hand_back(user_id, org_id=org_id, successor=receiver_id, reason="turnover")

    return DutyKind(VISIT, held, transfer)
