"""The fuzz world's verification campaigns (tests/fuzz_world.py), so that every visit
conversation can be launched and fuzzed (tests/test_fuzz_conversations.py's LAUNCHES):

- campaign 1, its one team (the donor's organisation: the donor leads it and visits), with the
  checklist item 住房 and three households in 城关镇团委: household 1 to visit (vv), household 2
  with visit 1 submitted (vq: has issues), household 3 to reassign (vg); its private export (vx);
- campaign 2, with households and no teams yet: /importhouseholds (vi) and 自己分组 (vt).
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.visits.household_import import HouseholdRow
from bot.model.visits import HouseholdDetails, HouseholdDraft, Outcome


def _rows(township_id: int, count: int) -> list[HouseholdRow]:
    return [
        HouseholdRow(index + 2, HouseholdDraft(f"小{index}", township_id, HouseholdDetails(school=f"大学{index}")))
        for index in range(count)
    ]


async def seed_visit_campaigns(harness, orgs: dict[str, int], admin: int, visitor: int) -> None:
    visits, now = harness.services.visits, harness.clock.now()
    township, visiting_org = orgs["城关镇团委"], orgs["县教育局团委"]
    first = await visits.create_campaign(admin, "走访核实一", "资助前核实", now, now + timedelta(days=30), ("住房",))
    await visits.import_households(admin, first.id, _rows(township, 3))
    await visits.form_teams(admin, first.id, teams=1, org_ids=[visiting_org])
    filing = await visits.start(visitor, 2)
    await visits.answer_met(visitor, filing.visit.id, False)
    await visits.answer_location(visitor, filing.visit.id, 26.08, 119.30)
    await visits.add_photo(visitor, filing.visit.id, "fuzz-photo")
    await visits.photos_done(visitor, filing.visit.id)
    await visits.answer_outcome(visitor, filing.visit.id, Outcome.UNREACHABLE)
    await visits.answer_reason(visitor, filing.visit.id, "家中无人")
    second = await visits.create_campaign(admin, "走访核实二", "资助前核实", now, now + timedelta(days=30), ())
    await visits.import_households(admin, second.id, _rows(township, 2))
