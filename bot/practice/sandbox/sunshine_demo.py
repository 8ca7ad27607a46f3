"""The demo county's Sunshine Home (阳光家园): a few villages under the first townships, each with
a branch secretary and invented children (an alias and a grade, no guardian consent, so nothing
private at all), each child paired some weeks ago with an invented volunteer, and their contacts
since, one a week. Through the repositories, in the seed's transaction (bot/practice/sandbox/world.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.services import Services
from bot.model.organisation import Organisation, OrgKind, Role
from bot.model.sunshine import ChildDraft, ContactDraft, ContactKind, Support, VolunteerKind, VolunteerProfile
from bot.practice.emulator import FakeTelegram

FIRST_VILLAGE_CADRE_ID = 250001
FIRST_SUNSHINE_VOLUNTEER_ID = 350001
PAIRED_WEEKS_AGO = 8


async def seed_sunshine(
    services: Services,
    fake: FakeTelegram,
    demo: dict,
    towns: list[Organisation],
    names: list[str],
    now: datetime,
    admin: int,
) -> list[tuple[int, str, Organisation]]:
    """The villages, their children, pairs and contacts; returns the villages' secretaries
    (user id, name, village) for the world's cadres."""
    sunshine = services.sunshine
    orgs, memberships = services.orgs.orgs, services.membership.memberships
    aliases, grades = demo["aliases"], demo["grades"]
    per_village = demo["sunshine_children_per_village"]
    kinds = demo["sunshine_volunteer_kinds"]
    today = sunshine.today()
    started = today - timedelta(weeks=PAIRED_WEEKS_AGO)
    secretaries = []
    for number, town in enumerate(towns[: demo["sunshine_villages"]]):
        name = demo["sunshine_village"].format(town=town.name.removesuffix("大团委")[:2])
        village = await orgs.add(name, OrgKind.VILLAGE_BRANCH, town.id, 0, now)
        cadre = FIRST_VILLAGE_CADRE_ID + number
        fake.add_user(cadre, names[number])
        await services.people.seen(cadre, names[number], None, "zh-hans", private=True)
        await memberships.grant(village.id, cadre, Role.ORG_ADMIN, admin, now)
        secretaries.append((cadre, names[number], village))
        for index in range(per_village):
            draft = ChildDraft(
                village.id,
                aliases[(number * per_village + index) % len(aliases)],
                grades[(number + index) % len(grades)],
                tuple(demo["sunshine_needs"][index % len(demo["sunshine_needs"])]),
                consent=False,
            )
            child = await sunshine.children.add(draft, cadre, now)
            volunteer = FIRST_SUNSHINE_VOLUNTEER_ID + number * per_village + index
            volunteer_name = demo["sunshine_volunteer_name"].format(number=number * per_village + index + 1)
            fake.add_user(volunteer, volunteer_name)
            await services.people.seen(volunteer, volunteer_name, None, "zh-hans", private=True)
            kind = VolunteerKind(kinds[index % len(kinds)])
            await sunshine.profiles.put(VolunteerProfile(volunteer, kind, skills=draft.needs), now)
            support = list(Support)[index % len(Support)]
            pair = await sunshine.pairs.propose(child.id, volunteer, village.id, support, 7, cadre, now)
            await sunshine.pairs.accept(pair.id, started, now)
            # One contact a week; every third child's pair has gone quiet for the last three weeks.
            weeks = PAIRED_WEEKS_AGO - (3 if index % 3 == 2 else 0)
            for week in range(weeks):
                contact = ContactDraft(
                    pair.id, started + timedelta(weeks=week), list(ContactKind)[week % len(ContactKind)], 60
                )
                await sunshine.pairs.add_contact(contact, f"demo:{pair.id}:{week}", volunteer, now)
    return secretaries
