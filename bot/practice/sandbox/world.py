"""The sandbox's world: the personas, the two groups, and the seeded demo county.

Sizes follow the source document (../shared/seed/DIGEST.md): 44 county-level organisations,
172 township committees, 24 schools, 800 micro-wishes, a few activities this week and one
auction session about to open. Everything is invented: cadres' names are random pairs of a
common surname and given name, children are only a public alias and a grade ("小明 · 三年级"),
and no private details (real names, phones, addresses) are stored at all.

The seed goes through the domain's repositories and services in one transaction (no SQL here),
then publishes through the running bot what a person would see in Telegram (the activity
post in the organisation's group). `--empty` keeps only the personas and the groups.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from bot.domain.activities import ActivityDraft
from bot.domain.auction import LotSelection, SessionDraft
from bot.domain.services import Services
from bot.domain.wishes import WishDraft
from bot.model.activity import Category, Place
from bot.model.organisation import OrgKind, Role
from bot.model.wish import WishCategory
from bot.practice.emulator import FakeTelegram
from bot.practice.sandbox.demo_funds import seed_demo_funds

COUNTY_ADMIN_ID = 100001
VOLUNTEER_ID = 300001
HUB_CHAT_ID = -1001000000001
ORG_GROUP_CHAT_ID = -1001000000002
BOT_USERNAME = "league_sandbox_bot"
FIRST_CADRE_ID = 200001
FIRST_CROWD_VOLUNTEER_ID = 400001
# The invented names, wishes and activities (data, not code).
DEMO = tomllib.loads(resources.files("bot.practice.sandbox").joinpath("demo_county.toml").read_text("utf-8"))
BOT_NAME = DEMO["bot_name"]
HUB_TITLE = DEMO["hub_title"]
ORG_GROUP_ORG = DEMO["org_group_org"]
ORG_GROUP_TITLE = DEMO["org_group_title"]
WISHES_TOTAL = 800
AUCTION_SCHOOLS = 9  # the session's lots: the wishes of this many schools (~300)
AUCTION_STARTS_IN = timedelta(minutes=10)


@dataclass
class Persona:
    key: str  # admin | cadre | volunteer
    user_id: int
    name: str
    org_id: int | None = None
    org_name: str | None = None

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "user_id": self.user_id,
            "name": self.name,
            "org_id": self.org_id,
            "org_name": self.org_name,
        }


@dataclass
class Cadre:
    user_id: int
    name: str
    org_id: int
    org_name: str
    admin: bool


@dataclass
class World:
    """Who is who in the sandbox, for the page and the crowd."""

    admin: Persona
    volunteer: Persona
    hub_chat_id: int = HUB_CHAT_ID
    org_chat_id: int = ORG_GROUP_CHAT_ID
    org_group_org_id: int | None = None
    cadres: list[Cadre] = field(default_factory=list)
    next_crowd_volunteer: int = FIRST_CROWD_VOLUNTEER_ID
    extra_names: dict[int, str] = field(default_factory=dict)

    def cadre_personas(self) -> list[Persona]:
        """The "cadre of a chosen organisation" personas: each organisation's admin."""
        return [Persona("cadre", c.user_id, c.name, c.org_id, c.org_name) for c in self.cadres if c.admin]

    def persona(self, user_id: int) -> Persona | None:
        for persona in (self.admin, self.volunteer, *self.cadre_personas()):
            if persona.user_id == user_id:
                return persona
        return None

    def names(self) -> dict[int, str]:
        names = {self.admin.user_id: self.admin.name, self.volunteer.user_id: self.volunteer.name}
        names.update({c.user_id: c.name for c in self.cadres})
        names.update(self.extra_names)
        return names


def county_level_names() -> list[str]:
    return [DEMO["county_level"].format(department=department) for department in DEMO["departments"]]


def _towns() -> list[tuple[str, str]]:
    """(the town's two characters, its committee's name), 172 of them."""
    kinds = DEMO["town_kinds"]
    towns = [
        (first + second, DEMO["township"].format(first=first, second=second, kind=kinds[bool((i + j) % 3)]))
        for i, first in enumerate(DEMO["town_first"])
        for j, second in enumerate(DEMO["town_second"])
    ]
    return towns[:172]


def township_names() -> list[str]:
    return [name for _, name in _towns()]


def school_names() -> list[str]:
    county = DEMO["county_schools"]
    return [*county, *(DEMO["town_school"].format(town=town) for town, _ in _towns()[: 24 - len(county)])]


def person_names(count: int, seed: int = 2026) -> list[str]:
    chance = random.Random(seed)
    pairs = [surname + given for surname in DEMO["surnames"] for given in DEMO["given_names"]]
    return chance.sample(pairs, count)


def crowd_volunteer_name(number: int) -> str:
    return DEMO["crowd_volunteer_name"].format(number=number)


def activity_start(spec: dict, now: datetime, zone: ZoneInfo) -> datetime:
    """When a demo activity starts (demo_county.toml): minutes after `now`, or a local time on
    the next given weekday or some days on."""
    if "starts_in_minutes" in spec:
        start = now + timedelta(minutes=spec["starts_in_minutes"])
        return start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    today = now.astimezone(zone).date()
    if "weekday" in spec:
        ahead = (spec["weekday"] - today.isoweekday()) % 7 or 7  # never today
    else:
        ahead = spec["days_ahead"]
    hour, minute = (int(part) for part in spec["at"].split(":"))
    return datetime.combine(today + timedelta(days=ahead), time(hour, minute), zone).astimezone(UTC)


def activity_title(spec: dict, starts_at: datetime, zone: ZoneInfo) -> str:
    """The title named after its real day: no 周六 on a Tuesday."""
    local = starts_at.astimezone(zone)
    return spec["title"].format(weekday=DEMO["weekdays"][local.weekday()], month=local.month)


def base_world(fake: FakeTelegram) -> World:
    """The personas and the two groups in the emulator (no database needed)."""
    admin = Persona("admin", COUNTY_ADMIN_ID, DEMO["admin_name"])
    volunteer = Persona("volunteer", VOLUNTEER_ID, DEMO["volunteer_name"])
    fake.add_user(admin.user_id, admin.name, username="county_admin_demo")
    fake.add_user(volunteer.user_id, volunteer.name, username="volunteer_demo")
    people = (admin.user_id, volunteer.user_id)
    fake.add_group(HUB_CHAT_ID, HUB_TITLE, supergroup=True, admins=(admin.user_id,), members=people, bot_is_admin=True)
    fake.add_group(
        ORG_GROUP_CHAT_ID, ORG_GROUP_TITLE, supergroup=True, admins=(admin.user_id,), members=people, bot_is_admin=True
    )
    return World(admin=admin, volunteer=volunteer)


async def seed_records(services: Services, fake: FakeTelegram, world: World, *, empty: bool) -> dict:
    """The groups' bindings, and unless `empty` the demo county; returns what to publish."""
    now = services.clock.now()
    admin = world.admin.user_id
    await services.people.seen(admin, world.admin.name, "county_admin_demo", "zh-hans", private=True)
    for chat_id, title in ((HUB_CHAT_ID, HUB_TITLE), (ORG_GROUP_CHAT_ID, ORG_GROUP_TITLE)):
        await services.groups.seen(chat_id, title, "supergroup")
    await services.groups.bind_hub(admin, HUB_CHAT_ID)
    if empty:
        return {}
    orgs = services.orgs.orgs
    memberships = services.membership.memberships
    async with services.db.transaction():
        county = [await orgs.add(name, OrgKind.COUNTY_LEVEL, None, 3, now) for name in county_level_names()]
        towns = [await orgs.add(name, OrgKind.TOWNSHIP, None, 1, now) for name in township_names()]
        schools = [await orgs.add(name, OrgKind.SCHOOL, None, 0, now) for name in school_names()]
        # Cadres: two for each county-level organisation (its admin and a cadre), one admin for
        # each township committee and school.
        seats = (
            [(org, True) for org in county]
            + [(org, False) for org in county]
            + [(org, True) for org in (*towns, *schools)]
        )
        names = person_names(len(seats))
        for index, ((org, is_admin), name) in enumerate(zip(seats, names, strict=True)):
            user_id = FIRST_CADRE_ID + index
            fake.add_user(user_id, name)
            await services.people.seen(user_id, name, None, "zh-hans", private=True)
            await memberships.grant(org.id, user_id, Role.ORG_ADMIN if is_admin else Role.CADRE, admin, now)
            world.cadres.append(Cadre(user_id, name, org.id, org.name, is_admin))
            fake.add_member(HUB_CHAT_ID, user_id)
    org_group_org = next(org for org in county if org.name == ORG_GROUP_ORG)
    world.org_group_org_id = org_group_org.id
    org_admin = next(c for c in world.cadres if c.org_id == org_group_org.id and c.admin)
    fake.add_member(ORG_GROUP_CHAT_ID, org_admin.user_id)
    fake.set_admin(ORG_GROUP_CHAT_ID, org_admin.user_id)
    await services.groups.bind_org(admin, ORG_GROUP_CHAT_ID, org_group_org.id, is_chat_admin=True)
    # 800 wishes, about 34 per school; each (alias, wish) pair once per school.
    wishes, aliases, grades = DEMO["wishes"], DEMO["aliases"], DEMO["grades"]
    drafts = []
    for index in range(WISHES_TOTAL):
        school, k = index % len(schools), index // len(schools)
        text, category, value = wishes[(k + (k // len(aliases)) * 5 + school) % len(wishes)]
        drafts.append(
            WishDraft(
                collector_org_id=schools[school].id,
                alias=aliases[k % len(aliases)],
                grade=grades[(k + school) % len(grades)],
                text=text,
                category=WishCategory(category),
                value_yuan=value,
                consent=False,
            )
        )
    await services.wishes.import_rows(admin, drafts)
    session = await services.auction.create(
        admin,
        SessionDraft(
            title=DEMO["auction_title"],
            starts_at=now + AUCTION_STARTS_IN,
            duration_minutes=30,
            selection=LotSelection(all_open=False, collector_org_ids=tuple(s.id for s in schools[:AUCTION_SCHOOLS])),
            cap_per_org=15,
        ),
    )
    # Activities in the coming week: one today (check-in already open: it opens 30 minutes before
    # the start), two later, all by the shown organisation so their posts land in its group.
    activities = []
    zone = services.config.zone
    for spec in DEMO["activities"]:
        starts_at = activity_start(spec, now, zone)
        place = Place(spec["place"], spec.get("latitude"), spec.get("longitude"), spec.get("radius_m"))
        activities.append(
            await services.activities.create(
                org_admin.user_id,
                ActivityDraft(
                    org_id=org_group_org.id,
                    title=activity_title(spec, starts_at, zone),
                    category=Category(spec["category"]),
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=spec["hours"]),
                    place=place,
                    slots=30,
                    expected_served=40,
                    counts_as_deed=False,
                ),
            )
        )
    await seed_demo_funds(services, admin, towns[0].id, activities[0] if activities else None)
    return {"session": session, "activities": activities, "campaign": await _seed_campaign(services, towns)}


async def _seed_campaign(services: Services, towns: list) -> int:
    """The demo campaign: 3 households in each of 7 townships (aliases only from the demo's
    list; every detail made up), the teams formed by the bot."""
    from bot.domain.visits.household_import import HouseholdRow
    from bot.model.visits import HouseholdDetails, HouseholdDraft

    admin, now = services.config.county_admins[0], services.clock.now()
    campaign = await services.visits.create_campaign(
        admin,
        DEMO["campaign_title"],
        DEMO["campaign_purpose"],
        now,
        now + timedelta(days=5),
        tuple(DEMO["campaign_checklist"]),
    )
    aliases, schools = DEMO["aliases"], DEMO["campaign_schools"]
    rows = [
        HouseholdRow(
            index + 2,
            HouseholdDraft(
                alias=aliases[index % len(aliases)],
                township_id=towns[index % 7].id,
                details=HouseholdDetails(school=schools[index % len(schools)]),
            ),
        )
        for index in range(21)
    ]
    await services.visits.import_households(admin, campaign.id, rows)
    await services.visits.form_teams(admin, campaign.id)
    return campaign.id
