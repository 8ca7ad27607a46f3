"""Sunshine Home's rules, through the service over a real database: the register and its privacy,
pairing limits, contacts (dates, double taps), quiet pairs escalating exactly once, hand-back,
the purge and the figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.stats import Period
from bot.domain.sunshine import HANDED_BACK, PROPOSAL, QUIET_CADRES, QUIET_VOLUNTEER
from bot.domain.sunshine.rules import parse_child_code, parse_day, parse_minutes, parse_needs, parse_rhythm
from bot.model.organisation import OrgKind, Role
from bot.model.sunshine import (
    Availability,
    ChildDraft,
    ChildPrivate,
    ContactDraft,
    ContactKind,
    EndReason,
    LeaveReason,
    Origin,
    PairStatus,
    Support,
    VolunteerKind,
    VolunteerProfile,
)
from storage.audit import AuditRepository
from tests.harness import COUNTY_ADMIN_ID

CADRE, OTHER_CADRE, VOLUNTEER, SECOND, STRANGER = 500001, 500002, 500003, 500004, 500005
PRIVATE = ChildPrivate(real_name="王小华", guardian="王大山", guardian_phone="13900139000", address="李家村 3 组")


class World:
    def __init__(self, harness, township: int, village: int, other: int) -> None:
        self.harness = harness
        self.services = harness.services
        self.sunshine = harness.services.sunshine
        self.township, self.village, self.other = township, village, other

    async def child(self, alias="小华", *, consent=True, private=PRIVATE, needs=("数学", "画画")):
        draft = ChildDraft(self.village, alias, "五年级", needs, consent, private if consent else None)
        return await self.sunshine.add(CADRE, draft)

    async def pair(self, child_id, volunteer=VOLUNTEER, support=Support.TUTORING, rhythm=7, *, accept=True):
        pair = await self.sunshine.propose(CADRE, child_id, volunteer, support, rhythm)
        if accept:
            pair = await self.sunshine.answer(volunteer, pair.id, True)
        return pair

    async def queued(self, kind: str) -> list[tuple[int, dict]]:
        rows = await self.services.db.fetch_all(
            "SELECT chat_id, params FROM outbox WHERE kind = ? ORDER BY id", (kind,)
        )
        import json

        return [(row["chat_id"], json.loads(row["params"])) for row in rows]


@pytest.fixture
async def world(harness) -> World:
    services = harness.services
    township = (await services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)).id
    village = (await services.orgs.create(COUNTY_ADMIN_ID, "李家村团支部", OrgKind.VILLAGE_BRANCH, township)).id
    other = (await services.orgs.create(COUNTY_ADMIN_ID, "张家村团支部", OrgKind.VILLAGE_BRANCH, township)).id
    now = harness.clock.now()
    for user_id, name in (
        (CADRE, "李书记"),
        (OTHER_CADRE, "张书记"),
        (VOLUNTEER, "陈老师"),
        (SECOND, "刘同学"),
        (STRANGER, "路人"),
    ):
        harness.user(user_id, name)
        await services.people.seen(user_id, name, None, "zh-hans", private=True)
    await services.membership.memberships.grant(village, CADRE, Role.CADRE, COUNTY_ADMIN_ID, now)
    await services.membership.memberships.grant(other, OTHER_CADRE, Role.CADRE, COUNTY_ADMIN_ID, now)
    return World(harness, township, village, other)


def test_typed_values_are_read_or_refused_with_an_example():
    assert parse_child_code("C0012") == 12 and parse_child_code("c7") == 7
    assert parse_needs("数学，英语、画画 数学") == ("数学", "英语", "画画")
    assert parse_minutes("45分钟") == 45 and parse_minutes("1.5小时") == 90
    assert parse_rhythm("weekly") == 7 and parse_rhythm("10") == 10
    today = date(2026, 11, 26)
    assert parse_day("昨天", today) == date(2026, 11, 25) and parse_day("11-20", today) == date(2026, 11, 20)
    for bad, call in (("X1", parse_child_code), ("0", parse_minutes), ("999", parse_rhythm)):
        with pytest.raises(DomainError):
            call(bad)


async def test_a_child_without_consent_keeps_no_details_and_can_still_be_paired(world):
    child = await world.child(consent=False)
    assert child.code == "C0001" and not child.consent
    with pytest.raises(DomainError) as refused:
        await world.sunshine.set_private_details(CADRE, child.id, PRIVATE)
    assert refused.value.key == "sunshine.private_without_consent"
    pair = await world.pair(child.id)
    assert pair.status is PairStatus.ACTIVE


async def test_private_details_only_for_cadres_and_the_paired_volunteer_every_view_audited(world):
    child = await world.child()
    assert await world.sunshine.private_details(CADRE, child.id) == PRIVATE
    for outsider in (OTHER_CADRE, VOLUNTEER, COUNTY_ADMIN_ID):
        with pytest.raises(PermissionDenied):
            await world.sunshine.private_details(outsider, child.id)
    await world.pair(child.id)
    assert (await world.sunshine.private_details(VOLUNTEER, child.id)).real_name == "王小华"
    entries = await AuditRepository(world.services.db).for_subject(f"child:{child.id}")
    views = [(actor, details["role"]) for _, actor, action, details in entries if action == "child.private_view"]
    assert views == [(CADRE, "cadre"), (VOLUNTEER, "volunteer")]
    assert "王小华" not in repr(PRIVATE)


async def test_duplicates_and_a_real_name_as_alias_are_refused(world):
    await world.child()
    with pytest.raises(DomainError) as duplicate:
        await world.child()
    assert duplicate.value.key == "sunshine.duplicate"
    with pytest.raises(DomainError) as real:
        await world.child(alias="王小华")
    assert real.value.key == "sunshine.alias_is_real_name"


async def test_pairing_limits_name_the_fix(world, harness):
    children = [await world.child(alias=f"小{name}") for name in "一二三四"]
    for child in children[:3]:
        await world.pair(child.id, accept=False)
    assert [chat for chat, _ in await world.queued(PROPOSAL)] == [VOLUNTEER] * 3
    with pytest.raises(DomainError) as full:
        await world.pair(children[3].id)
    assert full.value.key == "sunshine.volunteer_full" and full.value.params["max"] == 3
    await world.pair(children[3].id, volunteer=SECOND)
    with pytest.raises(DomainError) as twice:
        await world.pair(children[3].id, volunteer=SECOND, accept=False)
    assert twice.value.key == "sunshine.child_has_pair"
    assert (await world.pair(children[3].id, volunteer=SECOND, support=Support.COUNSELLING)).live
    harness.user(600001, "没开始", started=False)
    with pytest.raises(DomainError) as never:
        await world.sunshine.propose(CADRE, children[3].id, 600001, Support.INTEREST, 7)
    assert never.value.key == "sunshine.volunteer_not_started"
    with pytest.raises(PermissionDenied):
        await world.sunshine.propose(OTHER_CADRE, children[3].id, SECOND, Support.INTEREST, 7)


async def test_contacts_refuse_future_and_pre_pair_dates_and_count_a_double_tap_once(world, harness):
    child = await world.child()
    pair = await world.pair(child.id)
    today = world.sunshine.today()
    draft = ContactDraft(pair.id, today, ContactKind.VISIT, 60, "讲了分数")
    contact, stored = await world.sunshine.log(VOLUNTEER, draft, "k1")
    again, stored_again = await world.sunshine.log(VOLUNTEER, draft, "k1")
    assert stored and not stored_again and again.id == contact.id
    assert len(await world.sunshine.contacts(CADRE, pair.id)) == 1
    for day, key in (
        (today + timedelta(days=1), "sunshine.contact_in_future"),
        (today - timedelta(days=1), "sunshine.contact_before_pair"),
    ):
        with pytest.raises(DomainError) as refused:
            await world.sunshine.log(VOLUNTEER, ContactDraft(pair.id, day, ContactKind.CALL, 10), f"k-{day}")
        assert refused.value.key == key
    with pytest.raises(PermissionDenied):
        await world.sunshine.log(SECOND, ContactDraft(pair.id, today, ContactKind.CALL, 10), "k2")


async def test_a_quiet_pair_reminds_the_volunteer_then_tells_the_cadres_once_each(world, harness):
    child = await world.child()
    pair = await world.pair(child.id, rhythm=7)
    assert await world.sunshine.sweep() == (0, 0)
    harness.clock.advance(days=8)
    assert await world.sunshine.sweep() == (1, 0)
    assert await world.sunshine.sweep() == (0, 0)
    harness.clock.advance(days=7)
    assert await world.sunshine.sweep() == (0, 1)
    assert await world.sunshine.sweep() == (0, 0)
    assert [chat for chat, _ in await world.queued(QUIET_VOLUNTEER)] == [VOLUNTEER]
    assert [chat for chat, _ in await world.queued(QUIET_CADRES)] == [CADRE]
    # A contact starts a new spell: quiet again only a rhythm later.
    await world.sunshine.log(VOLUNTEER, ContactDraft(pair.id, world.sunshine.today(), ContactKind.CALL, 20), "c")
    harness.clock.advance(days=7)
    assert await world.sunshine.sweep() == (0, 0)
    harness.clock.advance(days=1)
    assert await world.sunshine.sweep() == (1, 0)


async def test_the_daily_job_is_a_system_reminder_run_once_per_occurrence(world, harness):
    child = await world.child()
    await world.pair(child.id, rhythm=1)
    harness.clock.advance(days=3)
    await harness.tick()
    await harness.tick()
    assert len(await world.queued(QUIET_VOLUNTEER)) == 1 and len(await world.queued(QUIET_CADRES)) == 1


async def test_a_volunteer_leaving_hands_the_children_back(world):
    first, second = await world.child(alias="小一"), await world.child(alias="小二")
    await world.pair(first.id)
    await world.pair(second.id, support=Support.COUNSELLING)
    ended = await world.sunshine.hand_back(VOLUNTEER)
    assert len(ended) == 2 and await world.sunshine.hand_back(VOLUNTEER) == []
    assert [chat for chat, _ in await world.queued(HANDED_BACK)] == [CADRE, CADRE]
    pairs = await world.sunshine.pairs.of_orgs(None)
    assert {(pair.status, pair.end_reason) for pair in pairs} == {(PairStatus.ENDED, EndReason.VOLUNTEER_LEFT)}
    assert (await world.pair(first.id, volunteer=SECOND)).live


async def test_leaving_ends_pairs_counts_the_reason_and_the_details_are_purged_later(world, harness):
    child = await world.child()
    await world.pair(child.id)
    await world.sunshine.leave(CADRE, child.id, LeaveReason.HIGH_SCHOOL)
    assert (await world.sunshine.children.get_private(child.id)) is not None
    harness.clock.advance(days=89)
    assert await world.sunshine.purge_private(harness.clock.now()) == 0
    harness.clock.advance(days=2)
    assert await world.sunshine.purge_private(harness.clock.now()) == 1
    assert await world.sunshine.children.get_private(child.id) is None
    year = Period.of_year(2026)
    figures = await world.sunshine.figures(year)
    assert figures.leavers == {"high_school": 1} and figures.pairs_ended == {"child_left": 1}


async def test_figures_count_distinct_children_person_times_kinds_origins_and_areas(world, harness):
    await world.sunshine.save_profile(
        VolunteerProfile(VOLUNTEER, VolunteerKind.TEACHER, "县一中", ("数学",), (Availability.WEEKENDS,), "李家村")
    )
    await world.sunshine.save_profile(VolunteerProfile(SECOND, VolunteerKind.STUDENT, origin=Origin.HK))
    one, two = await world.child(alias="小一"), await world.child(alias="小二")
    first = await world.pair(one.id)
    second = await world.pair(two.id, volunteer=SECOND)
    today = world.sunshine.today()
    for key, pair, volunteer in (("a", first, VOLUNTEER), ("b", first, VOLUNTEER), ("c", second, SECOND)):
        await world.sunshine.log(volunteer, ContactDraft(pair.id, today, ContactKind.VISIT, 30), key)
    figures = await world.sunshine.figures(Period.of_year(today.year))
    assert (figures.children_covered, figures.child_person_times, figures.contacts) == (2, 3, 3)
    assert figures.by_kind == {"teacher": (2, 60), "student": (1, 30)}
    assert figures.by_origin == {"": 2, "hk": 1}
    assert (figures.pairs_active, figures.pairs_quiet) == (2, 0)
    assert [(line.name, line.children, line.contacts) for line in figures.by_township] == [("城关镇团委", 2, 3)]
    suggestions = await world.sunshine.suggest(CADRE, (await world.child(alias="小三")).id, Support.TUTORING)
    assert suggestions[0].volunteer_id == VOLUNTEER
    assert ("skill", "数学") in suggestions[0].reasons and ("area", "李家村") in suggestions[0].reasons


async def test_a_volunteer_leaving_an_organisation_ends_only_its_childrens_pairs_through_turnover(world, harness):
    """Cadre turnover (bot/domain/turnover.py): a member who stops acting for an organisation
    gives up its children's pairs (they end, its cadres are asked to re-pair); pairs with
    other organisations' children go on."""
    services = world.services
    await services.people.seen(COUNTY_ADMIN_ID, "县管理员", None, "zh-hans", private=True)
    here = await world.child(alias="小一")
    there = await world.sunshine.add(OTHER_CADRE, ChildDraft(world.other, "小二", "四年级", ("画画",), False, None))
    await world.pair(here.id)
    kept = await world.sunshine.propose(OTHER_CADRE, there.id, VOLUNTEER, Support.INTEREST, 14)
    kept = await world.sunshine.answer(VOLUNTEER, kept.id, True)
    await services.membership.memberships.grant(
        world.village, VOLUNTEER, Role.CADRE, COUNTY_ADMIN_ID, harness.clock.now()
    )
    held = await services.turnover.registry.held(VOLUNTEER, world.village)
    assert [(duty.subject_id, duty.label) for duty in held["pairing"]] == [(here.id, here.public_label)]
    await services.membership.remove_member(COUNTY_ADMIN_ID, world.village, VOLUNTEER)
    pairs = {pair.child_id: pair for pair in await world.sunshine.pairs.of_orgs(None)}
    assert (pairs[here.id].status, pairs[here.id].end_reason) == (PairStatus.ENDED, EndReason.VOLUNTEER_LEFT)
    assert pairs[there.id].status is PairStatus.ACTIVE
    assert [chat for chat, _ in await world.queued(HANDED_BACK)] == [CADRE]


async def test_contacts_count_in_the_volunteers_service_record_with_their_minutes(world, harness):
    """The records (#19): each contact is a person-time of the volunteer with the minutes logged
    (a double tap once), named by the pair, never by the child."""
    from bot.model.records import ServiceKind

    child = await world.child()
    pair = await world.pair(child.id)
    today = world.sunshine.today()
    await world.sunshine.log(VOLUNTEER, ContactDraft(pair.id, today, ContactKind.VISIT, 60, "讲了分数"), "k1")
    await world.sunshine.log(VOLUNTEER, ContactDraft(pair.id, today, ContactKind.VISIT, 60, "讲了分数"), "k1")
    harness.clock.advance(days=1)
    await world.sunshine.log(VOLUNTEER, ContactDraft(pair.id, world.sunshine.today(), ContactKind.CALL, 25), "k2")
    record = await world.services.records.service.record_of(VOLUNTEER)
    assert [(line.kind, line.day, line.minutes, line.title) for line in record.lines] == [
        (ServiceKind.CONTACT, today, 60, "P0001"),
        (ServiceKind.CONTACT, today + timedelta(days=1), 25, "P0001"),
    ]
    assert record.lines[0].org_name == "李家村团支部"
    assert child.alias not in repr(record) and "王小华" not in repr(record)
