"""Deeds, statistics and star ratings at the domain level: the real database and services of the
running bot (the harness), a hand-moved clock, small fixed data and hand-computed figures.

The county year 2026 (Shanghai):
- 城关镇团委 (township, quota 1): A1 tutoring 3月7日 09:00–11:30 (served confirmed 25, a deed);
  A2 visit 12月31日 23:30–1月1日 00:30 (expected 10: still 2026 though it starts 15:30 UTC).
- 县教育局团委 (county level, quota 3): A3 tutoring, cancelled; A4 clinic 2027年1月1日 00:30–01:30
  (expected 8: 2027, though it starts on 31 December in UTC).
- 县第一小学 (school, no quota) collects wishes W1–W4 in 2026 and W5 on 2025-12-31 23:30.
Attendance at A1: 志愿者1 08:50–11:40 → 150 min (clipped), 志愿者2 09:10–10:20 → 70 → 60 (rounded down
to 15), 志愿者3 09:20 with no check-out → to 11:30 = 130 → 120, 志愿者4 removed, 志愿者5 a no-show.
At A2: 志愿者1 23:30–00:30 → 60, 志愿者2 23:45, no check-out → 45. At A4: 志愿者3 00:30–01:00 → 30.
So 2026: 5 person-times, 3 volunteers, 435 minutes, served 25 + 10 = 35.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.activities import ActivityDraft
from bot.domain.config import StarsConfig
from bot.domain.deeds import due_by, is_behind
from bot.domain.errors import DomainError, PermissionDenied
from bot.domain.stars import (
    FACT_ACTIVITIES,
    FACT_DEEDS,
    FACT_OVERDUE,
    FACT_SERVED,
    FACT_WISHES_ON_TIME,
    Hint,
    rate_facts,
    scaled,
)
from bot.domain.stats import OrgFacts, Period, parse_period
from bot.domain.wishes import WishDraft
from bot.model.activity import Category, Place
from bot.model.organisation import Organisation, OrgKind, Role
from bot.model.wish import WishCategory
from handlers.i18n import translate
from tests.harness import COUNTY_ADMIN_ID

SH = ZoneInfo("Asia/Shanghai")
LI, DONOR, TEACHER, OUTSIDER = 300001, 300002, 300003, 300009
V = {n: 400000 + n for n in range(1, 6)}
TOWNSHIP_GROUP = -2001
YEAR = Period.of_year(2026)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def at(harness, moment: datetime) -> None:
    harness.clock.moment = moment.astimezone(UTC)


def chinese(error: DomainError) -> str:
    text = translate("zh-Hans", error.key, **error.params)
    assert "{" not in text and "{" not in translate("en", error.key, **error.params)
    return text


class County:
    def __init__(self, harness) -> None:
        self.harness = harness
        self.services = harness.services
        self.ids: dict[str, int] = {}

    async def arrange_orgs(self) -> None:
        services = self.services
        at(self.harness, local(2026, 3, 1, 10))
        for name, kind in (
            ("城关镇团委", OrgKind.TOWNSHIP),
            ("县教育局团委", OrgKind.COUNTY_LEVEL),
            ("县第一小学", OrgKind.SCHOOL),
        ):
            self.ids[name] = (await services.orgs.create(COUNTY_ADMIN_ID, name, kind, None)).id
        for user_id, name, org in (
            (LI, "李书记", "城关镇团委"),
            (DONOR, "张干事", "县教育局团委"),
            (TEACHER, "王老师", "县第一小学"),
            (OUTSIDER, "路人", None),
        ):
            await services.people.seen(user_id, name, None, "zh-hans", private=True)
            if org:
                await services.membership.memberships.grant(
                    self.ids[org], user_id, Role.ORG_ADMIN, COUNTY_ADMIN_ID, self.harness.clock.now()
                )
        for number, user_id in V.items():
            await services.people.seen(user_id, f"志愿者{number}", None, "zh-hans", private=False)
        # The township's group, where its volunteers sign up.
        await self.harness.group_with_bot(TOWNSHIP_GROUP, "城关镇志愿者群", admins=(COUNTY_ADMIN_ID,))
        await services.groups.bind_org(COUNTY_ADMIN_ID, TOWNSHIP_GROUP, self.ids["城关镇团委"], is_chat_admin=True)

    async def activity(
        self,
        org: str,
        category: Category,
        starts: datetime,
        ends: datetime,
        expected: int,
        *,
        deed: bool = False,
        actor: int = COUNTY_ADMIN_ID,
    ):
        draft = ActivityDraft(
            org_id=self.ids[org],
            title=f"{org}{category.value}",
            category=category,
            starts_at=starts,
            ends_at=ends,
            place=Place("县城"),
            slots=20,
            expected_served=expected,
            counts_as_deed=deed,
        )
        return await self.services.activities.create(actor, draft)

    async def attend(self, activity_id: int, number: int, came: datetime, left: datetime | None) -> None:
        await self.services.attendance.add_or_correct(COUNTY_ADMIN_ID, activity_id, V[number], came, left, "补录")

    async def wish(self, alias: str):
        draft = WishDraft(
            collector_org_id=self.ids["县第一小学"],
            alias=alias,
            grade="三年级",
            text="一个篮球",
            category=WishCategory.SPORTS,
            value_yuan=80,
            consent=False,
        )
        return await self.services.wishes.add(TEACHER, draft)


@pytest.fixture
async def county(harness) -> County:
    harness.admin()
    county = County(harness)
    await county.arrange_orgs()
    return county


async def arrange_year(county: County) -> dict[str, int]:
    """The activities, attendance, wishes and deeds of the module docstring; the clock ends 2027-01-02."""
    harness, services = county.harness, county.services
    wishes = services.wishes
    at(harness, local(2025, 12, 31, 23, 30))
    await county.wish("去年")  # W5: collected in 2025
    at(harness, local(2026, 3, 1, 10))
    w1, w2, w3, _w4 = [await county.wish(alias) for alias in ("小明", "小红", "小刚", "小丽")]
    a1 = await county.activity(
        "城关镇团委", Category.TUTORING, local(2026, 3, 7, 9), local(2026, 3, 7, 11, 30), 30, deed=True, actor=LI
    )
    a2 = await county.activity("城关镇团委", Category.VISIT, local(2026, 12, 31, 23, 30), local(2027, 1, 1, 0, 30), 10)
    a3 = await county.activity(
        "县教育局团委", Category.TUTORING, local(2026, 3, 8, 9), local(2026, 3, 8, 10), 5, deed=True
    )
    a4 = await county.activity("县教育局团委", Category.CLINIC, local(2027, 1, 1, 0, 30), local(2027, 1, 1, 1, 30), 8)
    await services.activities.sign_up(V[5], a1.id, chat_id=TOWNSHIP_GROUP)
    await services.activities.cancel(COUNTY_ADMIN_ID, a3.id)

    at(harness, local(2026, 3, 7, 12))
    await county.attend(a1.id, 1, local(2026, 3, 7, 8, 50), local(2026, 3, 7, 11, 40))
    await county.attend(a1.id, 2, local(2026, 3, 7, 9, 10), local(2026, 3, 7, 10, 20))
    await county.attend(a1.id, 3, local(2026, 3, 7, 9, 20), None)
    await county.attend(a1.id, 4, local(2026, 3, 7, 9), local(2026, 3, 7, 11, 30))
    await services.attendance.remove(COUNTY_ADMIN_ID, a1.id, V[4], "误登记")
    await services.attendance.mark_no_show(COUNTY_ADMIN_ID, a1.id, V[5], "未到场")
    await services.activities.confirm_served(LI, a1.id, 25)
    await services.deeds.record_from_activity(LI, a1.id)

    # Wishes: W1 and W2 claimed by 教育局 (W1 delivered in time, W2 late), W3 by 城关镇 (never delivered).
    claimed_at = local(2026, 4, 1, 10)
    at(harness, claimed_at)
    deadline = local(2026, 4, 15, 18)
    assert await wishes.claim(DONOR, county.ids["县教育局团委"], w1.id, claimed_at.astimezone(UTC), deadline=deadline)
    assert await wishes.claim(DONOR, county.ids["县教育局团委"], w2.id, claimed_at.astimezone(UTC), deadline=deadline)
    assert await wishes.claim(LI, county.ids["城关镇团委"], w3.id, claimed_at.astimezone(UTC), deadline=deadline)
    at(harness, local(2026, 4, 10, 10))
    await wishes.mark_delivered(DONOR, w1.id, "photo-1")
    at(harness, local(2026, 4, 12, 10))
    await wishes.confirm_received(TEACHER, w1.id)
    at(harness, local(2026, 4, 20, 10))
    await wishes.mark_delivered(DONOR, w2.id, "photo-2")
    at(harness, local(2026, 4, 21, 10))
    await wishes.confirm_received(TEACHER, w2.id)
    at(harness, local(2026, 5, 2, 10))
    await services.deeds.record(DONOR, county.ids["县教育局团委"], "捐建图书室", date(2026, 5, 1), note="图书 300 册")

    at(harness, local(2027, 1, 1, 1))
    await county.attend(a2.id, 1, local(2026, 12, 31, 23, 30), local(2027, 1, 1, 0, 30))
    await county.attend(a2.id, 2, local(2026, 12, 31, 23, 45), None)
    await county.attend(a4.id, 3, local(2027, 1, 1, 0, 30), local(2027, 1, 1, 1))
    at(harness, local(2027, 1, 2, 10))
    return {"a1": a1.id, "a2": a2.id, "a3": a3.id, "a4": a4.id}


# ---- periods --------------------------------------------------------------------------------------
TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("本月", date(2026, 11, 1), date(2026, 11, 30)),
        ("this month", date(2026, 11, 1), date(2026, 11, 30)),
        ("上月", date(2026, 10, 1), date(2026, 10, 31)),
        ("last month", date(2026, 10, 1), date(2026, 10, 31)),
        ("今年", date(2026, 1, 1), date(2026, 12, 31)),
        ("本年", date(2026, 1, 1), date(2026, 12, 31)),
        ("This Year", date(2026, 1, 1), date(2026, 12, 31)),
        ("去年", date(2025, 1, 1), date(2025, 12, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("２０２６", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026年2月", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-01-01..2026-06-30", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-01-01 至 2026-06-30", date(2026, 1, 1), date(2026, 6, 30)),
        (" 2026-01-01 .. 2026-01-01 ", date(2026, 1, 1), date(2026, 1, 1)),
    ],
)
def test_parse_period_examples(text, start, end):
    assert parse_period(text, TODAY, SH) == Period(start, end)


def test_last_month_in_january_is_last_december():
    assert parse_period("上月", date(2026, 1, 15), SH) == Period(date(2025, 12, 1), date(2025, 12, 31))


@pytest.mark.parametrize("text", ["", "明年吧", "2026-13", "2026-02-30..2026-03-01", "1999", "26", "2026-01-01"])
def test_bad_period_says_what_to_send_with_examples(text):
    with pytest.raises(DomainError) as caught:
        parse_period(text, TODAY, SH)
    assert caught.value.key == "stats.err_bad_period"
    message = chinese(caught.value)
    assert "本月" in message and "2026-01-01..2026-06-30" in message


def test_reversed_range_is_refused_with_its_own_message():
    with pytest.raises(DomainError) as caught:
        parse_period("2026-06-30..2026-01-01", TODAY, SH)
    assert caught.value.key == "stats.err_period_reversed"
    assert "2026-01-01" in chinese(caught.value)


def test_period_bounds_are_local_midnights():
    assert YEAR.bounds(SH) == (datetime(2025, 12, 31, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))
    assert YEAR.days == 365 and YEAR.year == 2026


# ---- figures ------------------------------------------------------------------------------------
async def test_county_figures_of_the_year_by_hand(county):
    await arrange_year(county)
    figures = await county.services.stats.figures(YEAR)
    assert figures.activities_by_category == {Category.TUTORING: 1, Category.VISIT: 1}  # A3 cancelled, A4 2027
    assert figures.activities == 2
    assert (figures.person_times, figures.volunteers) == (5, 3)
    assert figures.volunteer_minutes == 150 + 60 + 120 + 60 + 45
    assert figures.hours == 7.2
    assert figures.served == 25 + 10
    assert (
        figures.wishes_collected,
        figures.wishes_claimed,
        figures.wishes_fulfilled,
        figures.wishes_fulfilled_on_time,
        figures.wishes_overdue,
    ) == (4, 3, 2, 1, 1)
    assert (figures.deeds_done, figures.deeds_quota) == (2, 1 + 3)


async def test_an_activity_at_half_past_midnight_on_new_year_belongs_to_the_new_year(county):
    await arrange_year(county)
    stats = county.services.stats
    figures = await stats.figures(parse_period("2027-01", date(2027, 1, 2), SH))
    assert figures.activities_by_category == {Category.CLINIC: 1}
    assert (figures.person_times, figures.volunteer_minutes, figures.served) == (1, 30, 8)
    # The last day of 2026 alone holds A2, which starts at 15:30 UTC on that day.
    last_day = await stats.figures(Period(date(2026, 12, 31), date(2026, 12, 31)))
    assert (last_day.activities, last_day.person_times, last_day.volunteer_minutes) == (1, 2, 105)
    # Wishes collected at 23:30 on 31 December 2025 count for 2025.
    assert (await stats.figures(Period.of_year(2025))).wishes_collected == 1


async def test_figures_of_one_organisation(county):
    await arrange_year(county)
    stats, ids = county.services.stats, county.ids
    town = await stats.figures(YEAR, ids["城关镇团委"])
    assert (town.activities, town.person_times, town.volunteers, town.volunteer_minutes, town.served) == (
        2,
        5,
        3,
        435,
        35,
    )
    assert (town.wishes_collected, town.wishes_claimed, town.wishes_fulfilled, town.wishes_overdue) == (0, 1, 0, 1)
    assert (town.deeds_done, town.deeds_quota) == (1, 1)
    edu = await stats.figures(YEAR, ids["县教育局团委"])
    assert (edu.activities, edu.person_times, edu.served) == (0, 0, 0)
    assert (edu.wishes_claimed, edu.wishes_fulfilled, edu.wishes_fulfilled_on_time, edu.wishes_overdue) == (2, 2, 1, 0)
    assert (edu.deeds_done, edu.deeds_quota) == (1, 3)
    school = await stats.figures(YEAR, ids["县第一小学"])
    assert (school.wishes_collected, school.wishes_claimed, school.deeds_quota) == (4, 0, 0)


async def test_missing_check_out_credits_nothing_when_configured_so(county):
    await arrange_year(county)
    services = county.services
    services.attendance.settings = replace(services.attendance.settings, credit_missing_checkout=False)
    figures = await services.stats.figures(YEAR)
    assert figures.volunteer_minutes == 150 + 60 + 60  # 志愿者3 at A1 and 志愿者2 at A2 credit nothing
    assert figures.person_times == 5  # they still came


# ---- deeds ----------------------------------------------------------------------------------------
async def test_a_deed_from_an_activity_is_recorded_once(county):
    ids = await arrange_year(county)
    deeds = county.services.deeds
    again = await deeds.record_from_activity(LI, ids["a1"])
    assert (again.title, again.done_on, again.org_id) == (
        "城关镇团委tutoring",
        date(2026, 3, 7),
        county.ids["城关镇团委"],
    )
    assert (await deeds.record_from_activity(COUNTY_ADMIN_ID, ids["a1"])).id == again.id
    assert [d.title for d in await deeds.of_org(county.ids["城关镇团委"], 2026)] == ["城关镇团委tutoring"]
    with pytest.raises(PermissionDenied):
        await deeds.record_from_activity(DONOR, ids["a1"])  # another organisation's admin
    with pytest.raises(DomainError) as caught:
        await deeds.record_from_activity(COUNTY_ADMIN_ID, ids["a2"])
    assert caught.value.key == "stats.err_deed_activity_not_deed" and "计入实事" in chinese(caught.value)
    with pytest.raises(DomainError) as caught:
        await deeds.record_from_activity(COUNTY_ADMIN_ID, ids["a3"])
    assert caught.value.key == "activities.err_cancelled"


async def test_an_activity_not_yet_ended_is_not_a_deed_yet(county):
    activity = await county.activity(
        "城关镇团委", Category.TUTORING, local(2026, 3, 7, 9), local(2026, 3, 7, 11), 5, deed=True
    )
    at(county.harness, local(2026, 3, 7, 10))
    with pytest.raises(DomainError) as caught:
        await county.services.deeds.record_from_activity(LI, activity.id)
    assert caught.value.key == "stats.err_deed_activity_not_ended"
    assert "2026-03-07 11:00" in chinese(caught.value)


async def test_a_deed_entered_directly_and_its_refusals(county):
    deeds, edu = county.services.deeds, county.ids["县教育局团委"]
    deed = await deeds.record(DONOR, edu, "  捐建  图书室 ", date(2026, 2, 20), evidence_file_id="photo-9")
    assert (deed.title, deed.done_on, deed.evidence_file_id, deed.activity_id) == (
        "捐建 图书室",
        date(2026, 2, 20),
        "photo-9",
        None,
    )
    assert (await deeds.record(COUNTY_ADMIN_ID, edu, "送医下乡", date(2026, 3, 1))).org_id == edu
    with pytest.raises(PermissionDenied) as caught:
        await deeds.record(OUTSIDER, edu, "送医下乡", date(2026, 3, 1))
    assert "县教育局团委" in chinese(caught.value) and "/join" in chinese(caught.value)
    for title, done_on, note, key in (
        ("  ", date(2026, 3, 1), None, "stats.err_deed_title_empty"),
        ("实" * 61, date(2026, 3, 1), None, "stats.err_deed_title_too_long"),
        ("送医下乡", date(2026, 3, 2), None, "stats.err_deed_date_in_future"),
        ("送医下乡", date(2026, 3, 1), "注" * 501, "stats.err_deed_note_too_long"),
    ):
        with pytest.raises(DomainError) as caught:
            await deeds.record(DONOR, edu, title, done_on, note=note)
        assert caught.value.key == key
        chinese(caught.value)
    assert len(await deeds.of_org(edu, 2026)) == 2


@pytest.mark.parametrize(
    "quota, done, today, behind",
    [
        (3, 0, date(2026, 4, 30), False),  # 3 × 120/365 rounds down to 0
        (3, 0, date(2026, 5, 2), True),  # 3 × 122/365 ≥ 1
        (3, 1, date(2026, 7, 1), False),  # due 1
        (3, 1, date(2026, 9, 1), True),  # due 2
        (3, 2, date(2026, 12, 31), True),  # due 3
        (1, 0, date(2026, 6, 30), False),  # due 0 until the very end, but…
        (1, 0, date(2026, 7, 1), True),  # …none done by 1 July is behind
        (1, 1, date(2026, 7, 1), False),
        (0, 0, date(2026, 12, 31), False),  # no quota, never behind
        (3, 0, date(2025, 12, 31), False),  # the year has not begun
        (3, 2, date(2027, 1, 5), True),  # the year is over
    ],
)
def test_behind_pace(quota, done, today, behind):
    assert is_behind(quota, done, 2026, today) is behind


def test_due_by_rounds_down():
    assert [due_by(3, 2026, d) for d in (date(2026, 1, 1), date(2026, 5, 2), date(2026, 9, 8), date(2026, 12, 31))] == [
        0,
        1,
        2,
        3,
    ]


async def test_progress_and_who_is_behind(county):
    deeds, ids = county.services.deeds, county.ids
    behind = await deeds.behind(2026, date(2026, 7, 1))
    assert {item.org.name for item in behind} == {"城关镇团委", "县教育局团委"}  # none done by mid-year
    await arrange_year(county)
    progress = {item.org.name: (item.quota, item.done) for item in await deeds.progress(2026, date(2026, 7, 1))}
    assert progress == {"城关镇团委": (1, 1), "县教育局团委": (3, 1)}  # the school owes none and did none
    assert await deeds.behind(2026, date(2026, 7, 1)) == []
    assert [item.org.id for item in await deeds.behind(2026, date(2026, 9, 1))] == [ids["县教育局团委"]]


# ---- stars ----------------------------------------------------------------------------------------
def org(quota: int) -> Organisation:
    return Organisation(1, "某团委", OrgKind.COUNTY_LEVEL, None, quota, None, datetime(2026, 1, 1, tzinfo=UTC))


DEEDS_ONLY = StarsConfig(
    weight_deeds=100,
    weight_activities=0,
    weight_person_times=0,
    weight_served=0,
    weight_wishes_on_time=0,
    weight_overdue=0,
)


@pytest.mark.parametrize(
    "done, quota, score, stars",
    [
        (0, 5, 0, 1),
        (1, 10, 10, 1),
        (19, 100, 19, 1),
        (1, 5, 20, 2),
        (39, 100, 39, 2),
        (2, 5, 40, 3),
        (3, 5, 60, 4),
        (79, 100, 79, 4),
        (4, 5, 80, 5),
        (5, 5, 100, 5),
        (9, 5, 100, 5),
    ],
)
def test_stars_at_each_threshold(done, quota, score, stars):
    rating = rate_facts(OrgFacts(org(quota), deeds_done=done), YEAR, DEEDS_ONLY)
    assert (rating.score, rating.stars) == (score, stars)
    assert (rating.next_star == []) is (stars == 5)


def test_a_rating_by_hand_with_the_default_weights():
    facts = OrgFacts(
        org(3), deeds_done=1, activities=6, person_times=120, served=150, fulfilled_on_time=5, claims=4, overdue=1
    )
    rating = rate_facts(facts, YEAR, StarsConfig())
    # 25×1/3 + 15×6/12 + 15 + 15×150/300 + 15×5/10 + 15×(1 − 1/4) = 57.08 of 100
    assert (rating.score, rating.stars) == (57, 3)
    assert [(f.name_key, f.value, f.target, f.points) for f in rating.facts] == [
        (FACT_DEEDS, 1, 3, 8.3),
        (FACT_ACTIVITIES, 6, 12, 7.5),
        ("stats.fact_person_times", 120, 120, 15.0),
        (FACT_SERVED, 150, 300, 7.5),
        (FACT_WISHES_ON_TIME, 5, 10, 7.5),
        (FACT_OVERDUE, 1, 4, 11.2),
    ]  # points to one decimal
    # Four stars need 60 (59.5 before rounding): one more deed, or two activities, 49 people served,
    # two wishes on time, or one overdue claim delivered; person-times are already at their target.
    assert rating.next_star == [
        Hint(FACT_DEEDS, 1),
        Hint(FACT_ACTIVITIES, 2),
        Hint(FACT_SERVED, 49),
        Hint(FACT_WISHES_ON_TIME, 2),
        Hint(FACT_OVERDUE, 1),
    ]
    assert rate_facts(replace(facts, activities=8), YEAR, StarsConfig()).stars == 4
    assert rate_facts(replace(facts, activities=7), YEAR, StarsConfig()).stars == 3


def test_targets_scale_with_the_period_and_facts_that_do_not_apply_are_left_out():
    november = Period.of_month(2026, 11)
    assert [scaled(n, november) for n in (12, 120, 300, 10)] == [1, 10, 25, 1]
    rating = rate_facts(
        OrgFacts(org(0), activities=1, person_times=10, served=25, fulfilled_on_time=1), november, StarsConfig()
    )
    assert [f.name_key for f in rating.facts] == [
        FACT_ACTIVITIES,
        "stats.fact_person_times",
        FACT_SERVED,
        FACT_WISHES_ON_TIME,
    ]  # no quota, no claims
    assert (rating.score, rating.stars) == (100, 5)


async def test_ratings_and_ranking_of_the_fixed_year(county):
    await arrange_year(county)
    stars, ids = county.services.stars, county.ids
    # 城关镇: 25 (deed 1/1) + 15×2/12 + 15×5/120 + 15×35/300 + 0 (no wish) + 0 (its one claim overdue) = 29.9
    town = await stars.rate(ids["城关镇团委"], YEAR)
    assert (town.score, town.stars) == (30, 2)
    # 教育局: 25×1/3 + 0 + 0 + 0 + 15×1/10 + 15 (no claim overdue) = 24.8
    edu = await stars.rate(ids["县教育局团委"], YEAR)
    assert (edu.score, edu.stars) == (25, 2)
    school = await stars.rate(ids["县第一小学"], YEAR)
    assert (school.score, school.stars) == (0, 1)
    ranking = await stars.ranking(YEAR)
    assert [(o.name, r.score) for o, r in ranking if o.id in ids.values()] == [
        ("城关镇团委", 30),
        ("县教育局团委", 25),
        ("县第一小学", 0),
    ]


async def test_a_stars_setting_change_applies_on_the_next_computation(county):
    await arrange_year(county)
    services = county.services
    services.stars.settings = DEEDS_ONLY
    assert (await services.stars.rate(county.ids["城关镇团委"], YEAR)).stars == 5
