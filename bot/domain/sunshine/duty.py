"""The Sunshine Home's duty kind for cadre turnover (bot/domain/turnover.py's `DutyKind`
contract): what a departing person holds for an organisation is their live pairs with its
children. A pair is a person's own commitment, so it is not moved to the receiver: it ends
(volunteer_left) and the organisation's cadres are asked to re-pair, as when a volunteer leaves
the county. The receiver's message lists the children (code and public alias) to re-pair."""

from __future__ import annotations

from bot.domain.sunshine import SunshineService
from bot.domain.turnover import Duty, DutyKind
from storage.duties import HeldItem

PAIRING = "pairing"


def pairing_duty_kind(sunshine: SunshineService) -> DutyKind:
    async def held(user_id: int, org_id: int) -> list[Duty]:
        items = []
        for pair in await sunshine.live_pairs_of_volunteer(user_id, org_id):
            child = await sunshine.child(pair.child_id)
            items.append(HeldItem(subject_id=child.id, label=child.public_label, due_at=None))
        return items

    async def transfer(user_id: int, org_id: int, receiver_id: int, held: list[Duty]) -> None:
        await sunshine.hand_back(user_id, org_id=org_id)

    return DutyKind(PAIRING, held, transfer)
