"""Activities and volunteer check-in, at the domain level: the real database and services, a hand-moved
clock. (The conversation, buttons and group replies are tested with the handlers.)

The clock starts on Thursday 2026-11-26 10:00 in Shanghai; the usual activity is Saturday
2026-11-28 09:00–11:30, so its check-in window is 08:30–12:00."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.activities import ActivityDraft
from bot.domain.attendance import AttendanceService, distance_m
from bot.domain.config import ActivitiesConfig
from bot.domain.errors import DomainError, PermissionDenied
from bot.model.activity import Category, Place
from bot.model.organisation import OrgKind
from handlers.i18n import translate
from tests.harness import COUNTY_ADMIN_ID

SH = ZoneInfo("Asia/Shanghai")
ORG_CHAT, OTHER_CHAT, HUB = -2001, -2002, -1001
LI, WANG, ZHAO, OUTSIDER = 300001, 300002, 300003, 300009  # org admin, cadre, other org's admin, nobody
VOLUNTEERS = tuple(range(400001, 400013))
LAT, LON = 27.0, 117.0


def local(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def at(harness, moment: datetime) -> None:
    harness.clock.moment = moment.astimezone(UTC)


@dataclass
class World:
    org_id: int
    other_org_id: int
    org_chat_record: int


async def make_world(harness) -> World:
    """Two organisations with bound groups and a hub; 李 runs the first, 王 is its cadre, 赵 runs the
    second; twelve volunteers (志愿者1..12) who have talked to the bot."""
    services = harness.services
    harness.admin()
    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    await services.groups.bind_hub(COUNTY_ADMIN_ID, HUB)
    org = await services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)
    other = await services.orgs.create(COUNTY_ADMIN_ID, "县教育局团委", OrgKind.COUNTY_LEVEL, None)
    for chat_id, title, org_id in ((ORG_CHAT, "城关镇志愿者群", org.id), (OTHER_CHAT, "教育局志愿者群", other.id)):
        await harness.group_with_bot(chat_id, title, admins=(COUNTY_ADMIN_ID,))
        await services.groups.bind_org(COUNTY_ADMIN_ID, chat_id, org_id, is_chat_admin=True)
    for user_id, name in ((LI, "李老师"), (WANG, "王干事"), (ZHAO, "赵书记"), (OUTSIDER, "路人")):
        await services.people.seen(user_id, name, None, "zh-hans", private=True)
    await services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, LI)
    await services.membership.appoint_admin(COUNTY_ADMIN_ID, other.id, ZHAO)
    request = await services.membership.request_join(WANG, org.id)
    await services.membership.decide(LI, request.id, True)
    for number, user_id in enumerate(VOLUNTEERS, start=1):
        await services.people.seen(user_id, f"志愿者{number}", None, "zh-hans", private=False)
    chat = await services.groups.of_org(org.id)
    return World(org.id, other.id, chat.id)


def draft(org_id: int, **changes) -> ActivityDraft:
    base = ActivityDraft(
        org_id=org_id,
        title="周末学业辅导",
        category=Category.TUTORING,
        starts_at=local(11, 28, 9),
        ends_at=local(11, 28, 11, 30),
        place=Place("城关镇中心小学三楼"),
        slots=20,
        expected_served=30,
        counts_as_deed=True,
    )
    return replace(base, **changes)


async def refused(awaitable, key: str) -> str:
    """The call is refused with this catalog key, and the message renders with the params given."""
    with pytest.raises(DomainError) as caught:
        await awaitable
    assert caught.value.key == key
    return translate("zh-Hans", key, **caught.value.params)


def refused_now(call, key: str, *args) -> str:
    with pytest.raises(DomainError) as caught:
        call(*args)
    assert caught.value.key == key
    return translate("zh-Hans", key, **caught.value.params)


async def reminder(harness, activity_id: int, which: str):
    return await harness.services.reminders.reminders.by_subject(f"activity:{activity_id}:{which}")


# ---- creating -----------------------------------------------------------------------------------
async def test_a_cadre_creates_an_activity_an_outsider_is_refused(harness):
    world = await make_world(harness)
    activities = harness.services.activities
    activity = await activities.create(WANG, draft(world.org_id))
    assert activity.code == f"A{activity.id}" and activity.state == "published"
    assert (activity.starts_at, activity.slots, activity.counts_as_deed) == (local(11, 28, 9), 20, True)
    assert await activities.by_code(f"a{activity.id}") == activity
    text = await refused(activities.create(OUTSIDER, draft(world.org_id)), "activities.err_not_member")
    assert "城关镇团委" in text
    # Another organisation's admin is an outsider here too; a county admin may publish anywhere.
    with pytest.raises(PermissionDenied):
        await activities.create(ZHAO, draft(world.org_id))
    assert (await activities.create(COUNTY_ADMIN_ID, draft(world.org_id))).org_id == world.org_id
    assert [o.name for o in await activities.organisations_for(WANG)] == ["城关镇团委"]
    assert await activities.organisations_for(OUTSIDER) == []
    assert len(await activities.organisations_for(COUNTY_ADMIN_ID)) == 2
    audit = await harness.services.orgs.audit.for_subject(f"activity:{activity.id}")
    assert [(actor, action) for _, actor, action, _ in audit] == [(WANG, "activity.create")]
    await refused(activities.by_code("A999"), "activities.err_unknown_code")


async def test_each_check_refuses_bad_input_with_its_own_message(harness):
    world = await make_world(harness)
    activities = harness.services.activities
    assert activities.check_title("  周末   学业辅导 ") == "周末 学业辅导"
    refused_now(activities.check_title, "activities.err_title_empty", "   ")
    assert "61" in refused_now(activities.check_title, "activities.err_title_too_long", "字" * 61)
    refused_now(activities.check_times, "activities.err_end_not_after_start", local(11, 28, 9), local(11, 28, 9))
    assert "2026-11-26 09:00" in refused_now(
        activities.check_times, "activities.err_start_in_past", local(11, 26, 9), local(11, 26, 11)
    )
    refused_now(activities.check_times, "activities.err_span_too_long", local(11, 28, 9), local(12, 1, 9, 1))
    activities.check_times(local(11, 28, 9), local(12, 1, 9))  # exactly three days is fine
    assert activities.check_slots("２０") == 20
    assert "abc" in refused_now(activities.check_slots, "activities.err_slots_not_number", "abc")
    refused_now(activities.check_slots, "activities.err_slots_out_of_range", "0")
    refused_now(activities.check_slots, "activities.err_slots_out_of_range", "501")
    assert activities.check_expected("0") == 0 and activities.check_expected("10000") == 10000
    refused_now(activities.check_expected, "activities.err_expected_out_of_range", "-1")
    refused_now(activities.check_expected, "activities.err_expected_not_number", "三十")
    assert activities.check_radius("300") == 300
    refused_now(activities.check_radius, "activities.err_radius_out_of_range", "49")
    refused_now(activities.check_radius, "activities.err_radius_out_of_range", "5001")
    refused_now(activities.check_radius, "activities.err_radius_not_number", "三百米")
    # create re-checks everything the conversation collected.
    await refused(activities.create(WANG, draft(world.org_id, title="")), "activities.err_title_empty")
    await refused(activities.create(WANG, draft(world.org_id, place=Place(""))), "activities.err_place_empty")
    await refused(
        activities.create(WANG, draft(world.org_id, place=Place("操场", radius_m=300))), "activities.err_bad_location"
    )
    await refused(
        activities.create(WANG, draft(world.org_id, place=Place("操场", LAT, LON, 20))),
        "activities.err_radius_out_of_range",
    )
    await refused(activities.create(WANG, draft(world.org_id, slots=0)), "activities.err_slots_out_of_range")
    await refused(
        activities.create(WANG, draft(world.org_id, starts_at=local(11, 25, 9))), "activities.err_start_in_past"
    )


# ---- signing up ---------------------------------------------------------------------------------
async def test_sign_up_is_idempotent_and_a_full_activity_has_a_waitlist(harness):
    world = await make_world(harness)
    activities = harness.services.activities
    activity = await activities.create(WANG, draft(world.org_id, slots=2))
    v1, v2, v3, v4 = VOLUNTEERS[:4]
    assert (await activities.sign_up(v1, activity.id, chat_id=ORG_CHAT)).status == "signed"
    again = await activities.sign_up(v1, activity.id, chat_id=ORG_CHAT)
    assert again.status == "already_signed" and again.roster.count == 1
    assert (await activities.sign_up(v2, activity.id, chat_id=ORG_CHAT)).status == "signed"
    assert (await activities.sign_up(v3, activity.id, chat_id=ORG_CHAT)).status == "waitlisted"
    result = await activities.sign_up(v4, activity.id, chat_id=ORG_CHAT)
    assert result.status == "waitlisted" and result.roster.signed == (v1, v2) and result.roster.waitlist == (v3, v4)
    assert (await activities.sign_up(v3, activity.id, chat_id=ORG_CHAT)).status == "already_waitlisted"

    # The first on the waitlist takes the place given up.
    withdrawn = await activities.withdraw(v1, activity.id)
    assert withdrawn.withdrew and withdrawn.promoted_user_id == v3
    assert withdrawn.roster.signed == (v2, v3) and withdrawn.roster.waitlist == (v4,)
    assert (await activities.withdraw(v1, activity.id)).withdrew is False  # idempotent
    # Leaving the waitlist promotes nobody; coming back queues at the end.
    harness.clock.advance(minutes=1)
    assert (await activities.withdraw(v4, activity.id)).promoted_user_id is None
    assert (await activities.sign_up(v1, activity.id, chat_id=ORG_CHAT)).status == "waitlisted"
    harness.clock.advance(minutes=1)
    assert (await activities.sign_up(v4, activity.id, chat_id=ORG_CHAT)).status == "waitlisted"
    assert (await activities.roster(activity.id)).waitlist == (v1, v4)


async def test_ten_volunteers_racing_for_three_places_get_exactly_three(harness):
    world = await make_world(harness)
    activities = harness.services.activities
    activity = await activities.create(WANG, draft(world.org_id, slots=3))
    results = await asyncio.gather(*(activities.sign_up(v, activity.id, chat_id=ORG_CHAT) for v in VOLUNTEERS[:10]))
    assert sorted(r.status for r in results).count("signed") == 3
    roster = await activities.roster(activity.id)
    assert roster.count == 3 and len(roster.waitlist) == 7
    assert set(roster.signed) | set(roster.waitlist) == set(VOLUNTEERS[:10])


async def test_no_sign_up_for_a_cancelled_or_ended_activity(harness):
    world = await make_world(harness)
    activities = harness.services.activities
    first = await activities.create(WANG, draft(world.org_id))
    second = await activities.create(WANG, draft(world.org_id, title="敬老院探访", category=Category.ELDER_CARE))
    await activities.cancel(LI, first.id)
    text = await refused(activities.sign_up(VOLUNTEERS[0], first.id, chat_id=ORG_CHAT), "activities.err_cancelled")
    assert "周末学业辅导" in text and first.code in text
    at(harness, local(11, 28, 11, 31))
    await refused(activities.sign_up(VOLUNTEERS[0], second.id, chat_id=ORG_CHAT), "activities.err_ended")
    await refused(activities.withdraw(VOLUNTEERS[0], second.id), "activities.err_ended")


# ---- editing, cancelling, reminders -------------------------------------------------------------
async def test_reminders_a_day_and_an_hour_before_follow_edits_sign_ups_and_cancellation(harness):
    world = await make_world(harness)
    activities = harness.services.activities
    activity = await activities.create(WANG, draft(world.org_id, title="书法&对联"))
    day, hour = await reminder(harness, activity.id, "day"), await reminder(harness, activity.id, "hour")
    assert day.next_due_at == local(11, 27, 9) and hour.next_due_at == local(11, 28, 8)
    assert (hour.target_kind, hour.target_id) == ("chat", world.org_chat_record)
    assert "书法&对联" in hour.text and activity.code in hour.text and "暂无" in hour.text
    assert "2026-11-28 09:00–11:30" in hour.text and "城关镇中心小学三楼" in hour.text

    await activities.sign_up(VOLUNTEERS[0], activity.id, chat_id=ORG_CHAT)
    await activities.sign_up(VOLUNTEERS[1], activity.id, chat_id=ORG_CHAT)
    assert "志愿者1、志愿者2" in (await reminder(harness, activity.id, "hour")).text
    await activities.withdraw(VOLUNTEERS[0], activity.id)
    assert "志愿者1" not in (await reminder(harness, activity.id, "hour")).text

    _, changed, promoted = await activities.edit(
        WANG,
        activity.id,
        starts_at=local(11, 29, 14),
        ends_at=local(11, 29, 16),
        title="春联义写",
    )
    assert sorted(changed) == ["ends_at", "starts_at", "title"] and promoted == []
    hour = await reminder(harness, activity.id, "hour")
    assert hour.next_due_at == local(11, 29, 13) and "春联义写" in hour.text
    assert (await reminder(harness, activity.id, "day")).next_due_at == local(11, 28, 14)
    audit = await harness.services.orgs.audit.for_subject(f"activity:{activity.id}")
    assert audit[-1][2] == "activity.edit"

    # An edit that changes nothing changes nothing.
    assert (await activities.edit(WANG, activity.id, title="春联义写"))[1] == []

    # Both reminders arrive in the group at their (new) times, naming who signed up.
    at(harness, local(11, 28, 14))
    await harness.tick()
    at(harness, local(11, 29, 13))
    await harness.tick()
    texts = [m.text for m in harness.fake.bot_messages(ORG_CHAT) if "春联义写" in (m.text or "")]
    assert len(texts) == 2 and "明天的活动" in texts[0] and "1 小时后开始" in texts[1]
    assert all("已报名：志愿者2\n" in text for text in texts)

    cancelled = await activities.cancel(LI, activity.id)
    assert cancelled.state == "cancelled"
    assert await reminder(harness, activity.id, "day") is None
    assert await reminder(harness, activity.id, "hour") is None
    await refused(activities.cancel(LI, activity.id), "activities.err_cancelled")


async def test_a_passed_day_reminder_is_skipped_and_an_org_without_group_gets_none(harness):
    world = await make_world(harness)
    activities = harness.services.activities
    today = await activities.create(WANG, draft(world.org_id, starts_at=local(11, 26, 15), ends_at=local(11, 26, 17)))
    assert await reminder(harness, today.id, "day") is None
    assert (await reminder(harness, today.id, "hour")).next_due_at == local(11, 26, 14)
    unbound = await harness.services.orgs.create(COUNTY_ADMIN_ID, "无群团支部", OrgKind.VILLAGE_BRANCH, None)
    lonely = await activities.create(COUNTY_ADMIN_ID, draft(unbound.id))
    assert await reminder(harness, lonely.id, "day") is None and await reminder(harness, lonely.id, "hour") is None


async def test_edit_rules_slots_promote_organisers_only(harness):
    world = await make_world(harness)
    activities = harness.services.activities
    activity = await activities.create(WANG, draft(world.org_id, slots=1))
    for volunteer in VOLUNTEERS[:3]:
        await activities.sign_up(volunteer, activity.id, chat_id=ORG_CHAT)
    updated, changed, promoted = await activities.edit(LI, activity.id, slots="2")
    assert changed == ["slots"] and promoted == [VOLUNTEERS[1]] and updated.slots == 2
    text = await refused(activities.edit(WANG, activity.id, slots=1), "activities.err_slots_below_signed")
    assert "2" in text
    # A plain cadre who did not create it, another org's admin: no.
    other = await activities.create(LI, draft(world.org_id))
    await refused(activities.edit(WANG, other.id, title="改名"), "activities.err_not_organiser")
    await refused(activities.cancel(ZHAO, other.id), "activities.err_not_organiser")
    assert await activities.can_organise(COUNTY_ADMIN_ID, other) and not await activities.can_organise(WANG, other)
    # Once it has started, its end may move but not into the past.
    at(harness, local(11, 28, 10))
    await refused(activities.edit(WANG, activity.id, ends_at=local(11, 28, 9, 30)), "activities.err_end_in_past")
    assert (await activities.edit(WANG, activity.id, ends_at=local(11, 28, 12)))[1] == ["ends_at"]
    await refused(activities.edit(WANG, activity.id, starts_at=local(11, 28, 9, 30)), "activities.err_start_in_past")


async def test_posts_follow_a_supergroup_upgrade_and_listing(harness):
    world = await make_world(harness)
    activities = harness.services.activities
    activity = await activities.create(WANG, draft(world.org_id))
    await activities.record_post(activity.id, ORG_CHAT, 55)
    await activities.record_post(activity.id, HUB, 7)
    await activities.record_post(activity.id, ORG_CHAT, 56)  # re-posted: the newer message counts
    new_id = harness.fake.migrate_to_supergroup(ORG_CHAT, by_user_id=COUNTY_ADMIN_ID)
    await harness.services.groups.migrated(ORG_CHAT, new_id)
    assert await activities.posts(activity.id) == [(new_id, 56), (HUB, 7)]
    await refused(activities.record_post(activity.id, -999, 1), "activities.err_group_unknown")
    mine = await activities.create(ZHAO, draft(world.other_org_id))
    await activities.sign_up(VOLUNTEERS[0], mine.id, chat_id=OTHER_CHAT)
    assert [a.id for a in await activities.upcoming_for_org(world.org_id)] == [activity.id]
    assert [a.id for a in await activities.list_for_user(VOLUNTEERS[0])] == [mine.id]
    assert [a.id for a in await activities.list_for_user(WANG)] == [activity.id]
    assert len(await activities.list_for_user(COUNTY_ADMIN_ID)) == 2


# ---- checking in --------------------------------------------------------------------------------
async def test_check_in_by_text_inside_before_and_after_the_window(harness):
    world = await make_world(harness)
    activities, attendance = harness.services.activities, harness.services.attendance
    activity = await activities.create(WANG, draft(world.org_id))
    signed, walker = VOLUNTEERS[0], VOLUNTEERS[1]
    await activities.sign_up(signed, activity.id, chat_id=ORG_CHAT)

    at(harness, local(11, 28, 7))
    early = await attendance.check_in(signed, ORG_CHAT, method="text")
    assert early.outcome == "not_open" and early.opens_at == local(11, 28, 8, 30) and early.activity.id == activity.id

    at(harness, local(11, 28, 8, 30))
    first = await attendance.check_in(signed, ORG_CHAT, method="text")
    assert (first.outcome, first.walk_in, first.activity.code) == ("checked_in", False, activity.code)
    harness.clock.advance(minutes=20)
    assert (await attendance.check_in(signed, ORG_CHAT, method="command")).outcome == "already"
    line = await attendance.attendance_of(activity.id, signed)
    assert line.checked_in_at == local(11, 28, 8, 30)  # the repeat changed nothing
    walk_in = await attendance.check_in(walker, ORG_CHAT, method="text")
    assert walk_in.outcome == "checked_in" and walk_in.walk_in

    # Other chats: another org's group, an unbound or unknown chat, the hub (not published there).
    assert (await attendance.check_in(walker, OTHER_CHAT, method="text")).outcome == "none_open"
    assert (await attendance.check_in(walker, -555, method="text")).outcome == "none_open"
    assert (await attendance.check_in(walker, HUB, method="text")).outcome == "none_open"

    at(harness, local(11, 28, 12, 1))
    late = await attendance.check_in(VOLUNTEERS[2], ORG_CHAT, method="text")
    assert late.outcome == "closed" and late.activity.id == activity.id
    at(harness, local(11, 29, 9))
    assert (await attendance.check_in(VOLUNTEERS[2], ORG_CHAT, method="text")).outcome == "none_open"


async def test_two_open_activities_need_a_code(harness):
    world = await make_world(harness)
    activities, attendance = harness.services.activities, harness.services.attendance
    tutoring = await activities.create(WANG, draft(world.org_id))
    visit = await activities.create(
        WANG,
        draft(
            world.org_id,
            title="敬老院探访",
            category=Category.ELDER_CARE,
            starts_at=local(11, 28, 10),
            ends_at=local(11, 28, 12),
        ),
    )
    elsewhere = await activities.create(ZHAO, draft(world.other_org_id))
    at(harness, local(11, 28, 9, 45))
    volunteer = VOLUNTEERS[0]
    ambiguous = await attendance.check_in(volunteer, ORG_CHAT, method="text")
    assert ambiguous.outcome == "ambiguous" and ambiguous.codes == (tutoring.code, visit.code)
    by_code = await attendance.check_in(volunteer, ORG_CHAT, code=visit.code.lower(), method="text")
    assert by_code.outcome == "checked_in" and by_code.activity.id == visit.id
    assert (await attendance.check_in(volunteer, ORG_CHAT, code="A999", method="text")).outcome == "unknown_code"
    foreign = await attendance.check_in(volunteer, ORG_CHAT, code=elsewhere.code, method="command")
    assert foreign.outcome == "unknown_code" and foreign.codes == (tutoring.code, visit.code)
    # With a code, a window not yet open or already closed is said so.
    later = await activities.create(WANG, draft(world.org_id, starts_at=local(11, 28, 15), ends_at=local(11, 28, 16)))
    not_yet = await attendance.check_in(volunteer, ORG_CHAT, code=later.code, method="command")
    assert not_yet.outcome == "not_open" and not_yet.opens_at == local(11, 28, 14, 30)
    at(harness, local(11, 28, 16, 31))
    assert (await attendance.check_in(volunteer, ORG_CHAT, code=later.code, method="command")).outcome == "closed"


async def test_hub_check_in_for_activities_published_there_too(harness):
    world = await make_world(harness)
    activities, attendance = harness.services.activities, harness.services.attendance
    shared = await activities.create(WANG, draft(world.org_id, also_hub=True))
    at(harness, local(11, 28, 9))
    result = await attendance.check_in(VOLUNTEERS[0], HUB, method="text")
    assert result.outcome == "checked_in" and result.activity.id == shared.id


async def test_check_in_by_location_inside_and_outside_the_radius(harness):
    world = await make_world(harness)
    activities, attendance = harness.services.activities, harness.services.attendance
    assert 1100 < distance_m(LAT, LON, LAT + 0.01, LON) < 1125  # 0.01° of latitude ≈ 1112 m
    circled = await activities.create(WANG, draft(world.org_id, place=Place("村委会", LAT, LON, 500)))
    at(harness, local(11, 28, 9))
    outside = await attendance.check_in(VOLUNTEERS[0], ORG_CHAT, location=(LAT + 0.01, LON), method="location")
    assert outside.outcome == "outside_radius" and 1100 < outside.distance_m < 1125
    assert await attendance.attendance_of(circled.id, VOLUNTEERS[0]) is None
    inside = await attendance.check_in(VOLUNTEERS[0], ORG_CHAT, location=(LAT + 0.003, LON), method="location")
    assert inside.outcome == "checked_in" and inside.activity.id == circled.id
    # Text still works for an activity with a radius (the location is optional proof).
    assert (await attendance.check_in(VOLUNTEERS[1], ORG_CHAT, method="text")).outcome == "checked_in"

    # Two open: a location inside one circle picks it; an activity without a circle takes no location.
    plain = await activities.create(
        WANG,
        draft(
            world.org_id,
            title="义诊",
            category=Category.CLINIC,
            starts_at=local(11, 28, 9, 30),
            ends_at=local(11, 28, 11),
        ),
    )
    picked = await attendance.check_in(VOLUNTEERS[2], ORG_CHAT, location=(LAT, LON + 0.001), method="location")
    assert picked.outcome == "checked_in" and picked.activity.id == circled.id
    no_circle = await attendance.check_in(
        VOLUNTEERS[3], ORG_CHAT, code=plain.code, location=(LAT, LON), method="location"
    )
    assert no_circle.outcome == "no_location"


async def test_check_out(harness):
    world = await make_world(harness)
    activities, attendance = harness.services.activities, harness.services.attendance
    activity = await activities.create(WANG, draft(world.org_id))
    at(harness, local(11, 28, 8, 50))
    volunteer = VOLUNTEERS[0]
    assert (await attendance.check_out(volunteer, ORG_CHAT, method="text")).outcome == "not_checked_in"
    await attendance.check_in(volunteer, ORG_CHAT, method="text")
    at(harness, local(11, 28, 11, 10))
    done = await attendance.check_out(volunteer, ORG_CHAT, method="text")
    assert done.outcome == "checked_out" and done.activity.id == activity.id
    assert (await attendance.check_out(volunteer, ORG_CHAT, method="command")).outcome == "already"
    line = await attendance.attendance_of(activity.id, volunteer)
    assert line.checked_out_at == local(11, 28, 11, 10) and line.credited_minutes == 120  # 9:00-11:10 → 130 → 120
    assert (await attendance.check_out(volunteer, ORG_CHAT, code="A999", method="command")).outcome == "unknown_code"
    at(harness, local(11, 28, 12, 5))
    assert (await attendance.check_out(VOLUNTEERS[1], ORG_CHAT, method="text")).outcome == "closed"
    assert (await attendance.check_out(VOLUNTEERS[1], ORG_CHAT, code=activity.code, method="text")).outcome == "closed"


async def test_two_check_ins_open_then_check_out_needs_a_code(harness):
    world = await make_world(harness)
    activities, attendance = harness.services.activities, harness.services.attendance
    one = await activities.create(WANG, draft(world.org_id))
    two = await activities.create(WANG, draft(world.org_id, title="敬老院探访"))
    at(harness, local(11, 28, 9))
    volunteer = VOLUNTEERS[0]
    await attendance.check_in(volunteer, ORG_CHAT, code=one.code, method="text")
    # Only one of the two is checked in: 签退 picks it.
    assert (await attendance.check_out(volunteer, ORG_CHAT, method="text")).activity.id == one.id
    await attendance.check_in(volunteer, ORG_CHAT, code=two.code, method="text")
    await attendance.check_in(VOLUNTEERS[1], ORG_CHAT, code=one.code, method="text")
    await attendance.check_in(VOLUNTEERS[1], ORG_CHAT, code=two.code, method="text")
    both = await attendance.check_out(VOLUNTEERS[1], ORG_CHAT, method="text")
    assert both.outcome == "ambiguous" and both.codes == (one.code, two.code)
    assert (await attendance.check_out(VOLUNTEERS[1], ORG_CHAT, code=two.code, method="text")).outcome == "checked_out"


# ---- credit -------------------------------------------------------------------------------------
async def test_credit_rule(harness):
    world = await make_world(harness)
    activity = await harness.services.activities.create(WANG, draft(world.org_id))  # 09:00-11:30
    credit = harness.services.attendance.credited_minutes
    assert credit(activity, local(11, 28, 9, 10), local(11, 28, 10, 52)) == 90  # 102 → 90
    assert credit(activity, local(11, 28, 8, 35), local(11, 28, 10, 0)) == 60  # counted from 09:00
    assert credit(activity, local(11, 28, 9, 0), local(11, 28, 11, 55)) == 150  # capped at 11:30
    assert credit(activity, local(11, 28, 9, 10), None) == 135  # to the end: 140 → 135
    assert credit(activity, local(11, 28, 8, 40), local(11, 28, 8, 55)) == 0  # left before the start
    assert credit(activity, local(11, 28, 11, 40), None) == 0  # came after the end
    assert credit(activity, None, None) == 0
    assert credit(activity, local(11, 28, 9, 0), local(11, 28, 9, 14)) == 0
    services = harness.services
    strict = AttendanceService(
        services.db,
        services.attendance.repo,
        services.activities,
        services.attendance.chats,
        services.attendance.audit,
        harness.clock,
        ActivitiesConfig(credit_missing_checkout=False, credit_rounding_minutes=10),
    )
    assert strict.credited_minutes(activity, local(11, 28, 9, 10), None) == 0
    assert strict.credited_minutes(activity, local(11, 28, 9, 10), local(11, 28, 10, 52)) == 100


# ---- organiser corrections ----------------------------------------------------------------------
async def test_organiser_adds_corrects_removes_with_a_reason_and_marks_no_shows(harness):
    world = await make_world(harness)
    activities, attendance = harness.services.activities, harness.services.attendance
    activity = await activities.create(WANG, draft(world.org_id))
    forgot, wrong, absent, never = VOLUNTEERS[:4]
    await activities.sign_up(forgot, activity.id, chat_id=ORG_CHAT)
    await activities.sign_up(absent, activity.id, chat_id=ORG_CHAT)
    at(harness, local(11, 28, 9, 5))
    await attendance.check_in(wrong, ORG_CHAT, method="text")
    at(harness, local(11, 28, 12, 30))

    text = await refused(
        attendance.add_or_correct(WANG, activity.id, forgot, local(11, 28, 9), None, "  "),
        "checkin.err_reason_required",
    )
    assert "200" in text
    await refused(
        attendance.add_or_correct(WANG, activity.id, forgot, local(11, 28, 9), None, "字" * 201),
        "checkin.err_reason_too_long",
    )
    await refused(
        attendance.add_or_correct(ZHAO, activity.id, forgot, local(11, 28, 9), None, "手机没电"),
        "activities.err_not_organiser",
    )
    await refused(
        attendance.add_or_correct(WANG, activity.id, forgot, local(11, 28, 7), None, "手机没电"),
        "checkin.err_time_outside_window",
    )
    await refused(
        attendance.add_or_correct(WANG, activity.id, forgot, local(11, 28, 10), local(11, 28, 9, 30), "手机没电"),
        "checkin.err_checkout_before_checkin",
    )
    await refused(
        attendance.add_or_correct(WANG, activity.id, 999999, local(11, 28, 9), None, "手机没电"),
        "checkin.err_unknown_person",
    )
    line = await attendance.add_or_correct(
        WANG, activity.id, forgot, local(11, 28, 9), local(11, 28, 11), "手机没电，现场登记"
    )
    assert (line.credited_minutes, line.walk_in) == (120, False)
    corrected = await attendance.add_or_correct(
        LI, activity.id, wrong, local(11, 28, 9, 5), local(11, 28, 10), "实际 10 点离开"
    )
    assert corrected.walk_in and corrected.credited_minutes == 45

    await refused(attendance.remove(WANG, activity.id, never, "误签"), "checkin.err_no_record")
    await refused(attendance.remove(WANG, activity.id, wrong, ""), "checkin.err_reason_required")
    await attendance.remove(WANG, activity.id, wrong, "不是本活动的志愿者")
    await refused(attendance.remove(WANG, activity.id, wrong, "再删一次"), "checkin.err_no_record")

    await refused(attendance.mark_no_show(WANG, activity.id, never, "没来"), "checkin.err_not_signed_up")
    await refused(attendance.mark_no_show(WANG, activity.id, forgot, "没来"), "checkin.err_already_checked_in")
    await attendance.mark_no_show(WANG, activity.id, absent, "未到场，也未请假")

    sheet = {line.user_id: line for line in await attendance.sheet(activity.id)}
    assert set(sheet) == {forgot, absent}
    assert sheet[absent].no_show and sheet[absent].credited_minutes == 0
    audit = await harness.services.orgs.audit.for_subject(f"activity:{activity.id}")
    actions = [(actor, action, details.get("reason")) for _, actor, action, details in audit][1:]
    assert actions == [
        (WANG, "attendance.add", "手机没电，现场登记"),
        (LI, "attendance.correct", "实际 10 点离开"),
        (WANG, "attendance.remove", "不是本活动的志愿者"),
        (WANG, "attendance.no_show", "未到场，也未请假"),
    ]


async def test_no_show_only_once_it_started_and_a_late_arrival_clears_it(harness):
    world = await make_world(harness)
    activities, attendance = harness.services.activities, harness.services.attendance
    activity = await activities.create(WANG, draft(world.org_id))
    volunteer = VOLUNTEERS[0]
    await activities.sign_up(volunteer, activity.id, chat_id=ORG_CHAT)
    at(harness, local(11, 28, 8, 45))
    text = await refused(attendance.mark_no_show(WANG, activity.id, volunteer, "没来"), "checkin.err_no_show_too_early")
    assert "09:00" in text
    at(harness, local(11, 28, 9, 30))
    await attendance.mark_no_show(WANG, activity.id, volunteer, "没来")
    at(harness, local(11, 28, 9, 45))
    late = await attendance.check_in(volunteer, ORG_CHAT, method="text")
    assert late.outcome == "checked_in" and not late.walk_in
    line = await attendance.attendance_of(activity.id, volunteer)
    assert not line.no_show and line.credited_minutes == 105  # 09:45-11:30


# ---- summary, served, /me -----------------------------------------------------------------------
async def test_summary_figures_and_confirming_the_number_served(harness):
    world = await make_world(harness)
    activities, attendance = harness.services.activities, harness.services.attendance
    activity = await activities.create(WANG, draft(world.org_id, expected_served=30))
    a, b, c, walker = VOLUNTEERS[:4]
    for volunteer in (a, b, c):
        await activities.sign_up(volunteer, activity.id, chat_id=ORG_CHAT)
    at(harness, local(11, 28, 8, 45))
    await attendance.check_in(a, ORG_CHAT, method="text")
    at(harness, local(11, 28, 9, 20))
    await attendance.check_in(b, ORG_CHAT, method="text")
    at(harness, local(11, 28, 10))
    await attendance.check_in(walker, ORG_CHAT, method="text")
    await attendance.mark_no_show(LI, activity.id, c, "未到场")
    at(harness, local(11, 28, 10, 40))
    await attendance.check_out(walker, ORG_CHAT, method="text")
    at(harness, local(11, 28, 11))
    await attendance.check_out(a, ORG_CHAT, method="text")
    assert await activities.due_summaries(harness.clock.now()) == []

    at(harness, local(11, 28, 11, 30))
    [due] = await activities.due_summaries(harness.clock.now())
    assert due.id == activity.id
    # a: 09:00-11:00 = 120; b: 09:20-11:30 (no check-out) = 130 → 120; walk-in: 10:00-10:40 = 40 → 30.
    summary = await attendance.summary(activity.id)
    assert (summary.volunteers, summary.volunteer_minutes, summary.served, summary.no_shows, summary.walk_ins) == (
        3,
        270,
        30,
        1,
        1,
    )
    await refused(activities.confirm_served(WANG, activity.id, "10001"), "activities.err_served_out_of_range")
    await refused(activities.confirm_served(ZHAO, activity.id, 28), "activities.err_not_organiser")
    confirmed = await activities.confirm_served(WANG, activity.id, "28")
    assert confirmed.served_confirmed == 28
    assert (await attendance.summary(activity.id)).served == 28
    assert await activities.mark_summary_sent(activity.id) is True
    assert await activities.mark_summary_sent(activity.id) is False
    assert await activities.due_summaries(harness.clock.now()) == []
    assert (await activities.get(activity.id)).summary_sent


async def test_my_year_counts_activities_by_the_local_calendar_year(harness):
    world = await make_world(harness)
    activities, attendance = harness.services.activities, harness.services.attendance
    volunteer = VOLUNTEERS[0]
    saturday = await activities.create(WANG, draft(world.org_id))
    new_years_eve = await activities.create(
        WANG, draft(world.org_id, title="跨年敬老", starts_at=local(12, 31, 22), ends_at=local(12, 31, 23, 30))
    )
    new_year = await activities.create(
        WANG,
        draft(
            world.org_id, title="元旦义写", starts_at=local(1, 1, 0, 30, year=2027), ends_at=local(1, 1, 2, year=2027)
        ),
    )
    dropped = await activities.create(
        WANG, draft(world.org_id, title="取消的活动", starts_at=local(12, 5, 9), ends_at=local(12, 5, 10))
    )
    at(harness, local(11, 28, 9))
    await attendance.check_in(volunteer, ORG_CHAT, method="text")
    at(harness, local(11, 28, 10, 20))
    await attendance.check_out(volunteer, ORG_CHAT, method="text")  # 80 → 75
    at(harness, local(12, 5, 9))
    await attendance.check_in(volunteer, ORG_CHAT, method="text")
    at(harness, local(12, 5, 9, 30))
    await activities.cancel(WANG, dropped.id)
    at(harness, local(1, 1, 3, year=2027))
    await attendance.add_or_correct(WANG, new_years_eve.id, volunteer, local(12, 31, 22), None, "补登")  # 90
    await attendance.add_or_correct(
        WANG, new_year.id, volunteer, local(1, 1, 0, 30, year=2027), local(1, 1, 1, 30, year=2027), "补登"
    )  # 60

    year_2026 = await attendance.my_year(volunteer, 2026, SH)
    assert [(a.id, minutes) for a, minutes in year_2026.activities] == [(saturday.id, 75), (new_years_eve.id, 90)]
    assert (year_2026.total_minutes, year_2026.person_times) == (165, 2)
    year_2027 = await attendance.my_year(volunteer, 2027, SH)
    assert (year_2027.total_minutes, year_2027.person_times) == (60, 1)
    assert (await attendance.my_year(VOLUNTEERS[1], 2026, SH)).person_times == 0


async def test_reminder_text_never_names_real_names_and_stays_plain(harness):
    """Reminders go to a group: display names only; catalog HTML-escaping is undone (sent as text)."""
    world = await make_world(harness)
    services = harness.services
    await services.people.people.set_private_details(VOLUNTEERS[0], "张真名", "13800000000")
    activity = await services.activities.create(WANG, draft(world.org_id, title="<b>义诊</b> & 咨询"))
    await services.activities.sign_up(VOLUNTEERS[0], activity.id, chat_id=ORG_CHAT)
    text = (await reminder(harness, activity.id, "hour")).text
    assert "<b>义诊</b> & 咨询" in text and "&amp;" not in text
    assert "志愿者1" in text and "张真名" not in text


async def test_a_long_sign_up_list_is_cut_short_in_the_reminder(harness):
    world = await make_world(harness)
    services = harness.services
    activity = await services.activities.create(WANG, draft(world.org_id, slots=100))
    for number in range(45):
        user_id = 500000 + number
        await services.people.seen(user_id, f"长名字志愿者{number:02d}", None, "zh-hans", private=False)
        await services.activities.sign_up(user_id, activity.id, chat_id=ORG_CHAT)
    text = (await reminder(harness, activity.id, "hour")).text
    assert "长名字志愿者39" in text and "长名字志愿者40" not in text and "等，另有 5 人" in text


async def test_times_outside_the_bots_dates_are_refused_whoever_computed_them(harness):
    """The conversation refuses 9999-12-31 where it is typed; the rule itself holds too."""
    world = await make_world(harness)
    activities = harness.services.activities
    for starts in (local(11, 28, 9, year=2101), datetime(9999, 12, 31, 13, tzinfo=UTC)):
        with pytest.raises(DomainError) as caught:
            await activities.create(WANG, draft(world.org_id, starts_at=starts, ends_at=starts))
        assert caught.value.key == "bounds.bad_date"
