"""Star ratings end to end: /stars for a cadre and a county admin, the next-star hint, a settings
change applying on the next computation, and the monthly ranking posted to the hub once.

Scores by hand (bot/domain/stars.py): each fact earns weight × min(1, value / target); the score is
100 × points / the weights that apply, rounded; stars 1, then 2/3/4/5 from 20/40/60/80.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.config import ConfigError, StarsConfig, parse_config
from bot.domain.stars import RANKING_SUBJECT
from bot.model.organisation import OrgKind, Role
from tests.harness import COUNTY_ADMIN_ID, FakeClock, Harness
from tests.harness import test_config as config_for

SH = ZoneInfo("Asia/Shanghai")
LI, ZHANG, OUTSIDER = 300001, 300002, 300009
DEEDS_ONLY = StarsConfig(
    weight_deeds=100,
    weight_activities=0,
    weight_person_times=0,
    weight_served=0,
    weight_wishes_on_time=0,
    weight_overdue=0,
)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH).astimezone(UTC)


async def arrange(harness) -> dict[str, int]:
    """城关镇团委 (quota 1, 李书记) and 县教育局团委 (quota 3, 张干事); the clock is 2026-11-26."""
    services, now = harness.services, harness.clock.now()
    harness.admin()
    ids = {}
    for name, kind in (("城关镇团委", OrgKind.TOWNSHIP), ("县教育局团委", OrgKind.COUNTY_LEVEL)):
        ids[name] = (await services.orgs.create(COUNTY_ADMIN_ID, name, kind, None)).id
    for user_id, name, org in ((LI, "李书记", "城关镇团委"), (ZHANG, "张干事", "县教育局团委")):
        await services.people.seen(user_id, name, None, "zh-hans", private=True)
        await services.membership.memberships.grant(ids[org], user_id, Role.ORG_ADMIN, COUNTY_ADMIN_ID, now)
    return ids


async def add_deeds(harness, org_id: int, count: int) -> None:
    for number in range(count):
        await harness.services.deeds.record(COUNTY_ADMIN_ID, org_id, f"实事{number}", date(2026, 3, 1), note="佐证")


async def test_a_cadre_sees_stars_facts_and_the_next_star_by_hand(harness):
    ids = await arrange(harness)
    await add_deeds(harness, ids["县教育局团委"], 1)
    zhang = harness.user(ZHANG, "张干事")
    await zhang.send("/stars")
    # Deeds 25 × 1/3 = 8.33; activities, person-times, served, wishes 0; no claims: overdue left out.
    # Score 100 × 8.33 / 85 = 9.8 → 10: one star. Two stars need 19.5 before rounding, i.e. 16.575
    # points: 8.24 more, which alone is 0.99 deed → 1, 8.24 × 12/15 = 6.6 activities → 7,
    # × 120/15 = 65.9 person-times → 66, × 300/15 = 164.8 served → 165, × 10/15 = 5.5 wishes → 6.
    assert zhang.last_reply().text.splitlines() == [
        "⭐ 「县教育局团委」2026 年星级",
        "★☆☆☆☆ 1 星，得分 10/100",
        "• 实事完成（对照年度任务）：1/3，得 8.3/25 分",
        "• 开展活动：0/12，得 0/15 分",
        "• 志愿者人次：0/120，得 0/15 分",
        "• 服务人次：0/300，得 0/15 分",
        "• 按时完成的微心愿：0/10，得 0/15 分",
        (
            "下一颗星：再完成 1 件实事，或再组织 7 场活动，或再增加 66 志愿者人次，或再服务 165 人次，"
            "或再按时完成 6 个微心愿 → ★★☆☆☆"
        ),
    ]


async def test_stars_at_each_threshold_through_stars(harness):
    ids = await arrange(harness)
    town = ids["城关镇团委"]
    await harness.services.orgs.change_quota(COUNTY_ADMIN_ID, town, 100)
    harness.services.stars.settings = DEEDS_ONLY  # score = deeds done out of 100
    li = harness.user(LI, "李书记")
    done = 0
    for target, stars in ((19, 1), (20, 2), (39, 2), (40, 3), (59, 3), (60, 4), (79, 4), (80, 5)):
        await add_deeds(harness, town, target - done)
        done = target
        await li.send("/stars")
        lines = li.last_reply().text.splitlines()
        assert lines[1] == f"{'★' * stars}{'☆' * (5 - stars)} {stars} 星，得分 {target}/100", target
        assert lines[2] == f"• 实事完成（对照年度任务）：{target}/100，得 {target}/100 分"
        if target in (19, 39, 59, 79):  # 0.5 short of the next threshold: one deed lifts it
            assert lines[-1] == f"下一颗星：再完成 1 件实事 → {'★' * (stars + 1)}{'☆' * (4 - stars)}"
    assert lines[-1] == "已经是最高的五星，继续保持！"


async def test_a_settings_change_applies_on_the_next_computation(harness):
    ids = await arrange(harness)
    await add_deeds(harness, ids["县教育局团委"], 1)
    zhang = harness.user(ZHANG, "张干事")
    await zhang.send("/stars")
    assert zhang.last_reply().text.splitlines()[1] == "★☆☆☆☆ 1 星，得分 10/100"
    harness.services.stars.settings = DEEDS_ONLY
    await zhang.send("/stars")
    assert zhang.last_reply().text.splitlines()[1] == "★★☆☆☆ 2 星，得分 33/100"  # 100 × 1/3
    harness.services.stars.settings = replace(DEEDS_ONLY, two_stars=40, three_stars=50, four_stars=70, five_stars=90)
    await zhang.send("/stars")
    assert zhang.last_reply().text.splitlines()[1] == "★☆☆☆☆ 1 星，得分 33/100"


async def test_a_period_scales_the_targets_and_a_bad_one_is_explained(harness):
    ids = await arrange(harness)
    await add_deeds(harness, ids["县教育局团委"], 1)
    zhang = harness.user(ZHANG, "张干事")
    await zhang.send("/stars 本月")
    lines = zhang.last_reply().text.splitlines()
    # November has 30 days: targets ⌈12 × 30/365⌉ = 1, ⌈120 × 30/365⌉ = 10, ⌈300 × 30/365⌉ = 25, ⌈10 × 30/365⌉ = 1.
    assert lines[0] == "⭐ 「县教育局团委」2026 年 11 月星级"
    assert lines[3:7] == [
        "• 开展活动：0/1，得 0/15 分",
        "• 志愿者人次：0/10，得 0/15 分",
        "• 服务人次：0/25，得 0/15 分",
        "• 按时完成的微心愿：0/1，得 0/15 分",
    ]
    await zhang.send("/stars 2026-01-01..2026-06-30")
    assert zhang.last_reply().text.splitlines()[0] == "⭐ 「县教育局团委」2026-01-01 至 2026-06-30星级"
    await zhang.send("/stars 明年")
    assert zhang.last_reply().text.startswith("看不懂时间段「明年」。请发送：本月、上月、今年、去年")
    outsider = harness.user(OUTSIDER, "路人")
    await outsider.send("/stars")
    assert "请先发送 /join 申请加入" in outsider.last_reply().text


async def test_a_county_admin_picks_an_organisation_or_the_ranking(harness):
    ids = await arrange(harness)
    await add_deeds(harness, ids["城关镇团委"], 1)
    admin = harness.admin()
    await admin.send("/stars")
    assert admin.last_reply().text.startswith("2026 年的星级：选择一个组织查看（共 2 个），或查看排行榜。")
    await admin.tap("城关镇团委")
    # 25 (deed 1/1) of 85: 29.4 → 29, two stars.
    assert admin.last_reply().text.splitlines()[:2] == ["⭐ 「城关镇团委」2026 年星级", "★★☆☆☆ 2 星，得分 29/100"]
    await admin.send("/stars")
    await admin.tap("🏆 排行榜")
    assert admin.last_reply().text.splitlines() == [
        "🏆 2026 年星级排行（共 2 个组织）",
        "★★★★★ 0 个 · ★★★★ 0 个 · ★★★ 0 个 · ★★ 1 个 · ★ 1 个",
        "前 2 名：",
        "1. 城关镇团委 ★★☆☆☆ 29 分",
        "2. 县教育局团委 ★☆☆☆☆ 0 分",
        "团干部私聊我发送 /stars 可以查看本组织的得分明细和提升建议。",
    ]


@pytest.fixture
async def month_end(tmp_path, fake):
    """The bot started on 30 November 2026 with the default ranking schedule (每月1日 9:00)."""
    harness = Harness(config_for(tmp_path), fake, FakeClock(local(2026, 11, 30, 12)))
    await harness.start()
    yield harness
    await harness.stop()
    assert harness.errors == []
    assert fake.unknown_methods == []


async def test_the_monthly_ranking_goes_to_the_hub_once(month_end):
    harness = month_end
    ids = await arrange(harness)
    await harness.services.deeds.record(LI, ids["城关镇团委"], "慰问孤寡老人", date(2026, 11, 10), note="佐证")
    hub = await harness.group_with_bot(-1000, "团县委工作群", admins=(COUNTY_ADMIN_ID,))
    await harness.services.groups.bind_hub(COUNTY_ADMIN_ID, hub)
    before = len(harness.fake.messages(hub))
    harness.clock.moment = local(2026, 12, 1, 8, 59)
    await harness.tick()
    assert len(harness.fake.messages(hub)) == before
    harness.clock.moment = local(2026, 12, 1, 9)
    await harness.tick()
    # November: deeds 1/1 → 25 of 85 → 29 (two stars); 县教育局团委 nothing → 0 (one star).
    text = harness.fake.last_bot_message(hub).text
    assert text.splitlines()[:4] == [
        "🏆 2026 年 11 月星级排行（共 2 个组织）",
        "★★★★★ 0 个 · ★★★★ 0 个 · ★★★ 0 个 · ★★ 1 个 · ★ 1 个",
        "前 2 名：",
        "1. 城关镇团委 ★★☆☆☆ 29 分",
    ]
    assert "李书记" not in text and "张干事" not in text  # organisations only, no people
    after = len(harness.fake.messages(hub))
    await harness.tick()
    harness.clock.moment = local(2026, 12, 1, 10)
    await harness.tick()
    assert len(harness.fake.messages(hub)) == after  # exactly once
    reminder = await harness.services.reminders.reminders.by_subject(RANKING_SUBJECT)
    assert reminder.next_due_at == local(2027, 1, 1, 9)


async def test_the_ranking_is_cut_to_the_configured_top(harness):
    await arrange(harness)
    harness.services.stars.settings = replace(StarsConfig(), ranking_top=1)
    admin = harness.admin()
    await admin.send("/stars 2026-11")
    await admin.tap("🏆 排行榜")
    lines = admin.last_reply().text.splitlines()
    assert lines[2] == "前 1 名：" and len([line for line in lines if line[:2] in ("1.", "2.")]) == 1


async def test_the_monthly_ranking_can_be_switched_off(tmp_path, fake):
    config = replace(config_for(tmp_path), stars=replace(StarsConfig(), ranking=""))
    harness = Harness(config, fake, FakeClock(local(2026, 11, 30, 12)))
    await harness.start()
    try:
        assert await harness.services.reminders.reminders.by_subject(RANKING_SUBJECT) is None
    finally:
        await harness.stop()


def test_the_ranking_settings_are_checked_with_one_line_messages():
    config = parse_config('[stars]\nranking = "every month on the 1st 8:00"\nranking_top = 5\n', environ={})
    assert (config.stars.ranking, config.stars.ranking_top) == ("every month on the 1st 8:00", 5)
    assert parse_config("", environ={}).stars.ranking == "每月1日 9:00"
    for text, start in (
        ('ranking = "明天 9:00"', "stars.ranking:"),
        ("ranking = 5", "stars.ranking:"),
        ("ranking_top = 0", "stars.ranking_top:"),
        ('weight_deeds = "25"', "stars.weight_deeds:"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse_config(f"[stars]\n{text}\n", environ={})
        assert str(caught.value).startswith(start) and "\n" not in str(caught.value)


async def test_the_monthly_ranking_is_not_repeated_after_a_restart(tmp_path, fake):
    config = config_for(tmp_path)
    first = Harness(config, fake, FakeClock(local(2026, 11, 30, 12)))
    await first.start()
    await arrange(first)
    hub = await first.group_with_bot(-1000, "团县委工作群", admins=(COUNTY_ADMIN_ID,))
    await first.services.groups.bind_hub(COUNTY_ADMIN_ID, hub)
    first.clock.moment = local(2026, 12, 1, 9)
    await first.tick()
    posted = len(fake.messages(hub))
    assert fake.last_bot_message(hub).text.startswith("🏆 2026 年 11 月星级排行")
    await first.stop()

    again = Harness(config, fake, FakeClock(local(2026, 12, 1, 9, 5)))
    await again.start()
    try:
        await again.tick()
        assert len(fake.messages(hub)) == posted
        assert again.errors == []
    finally:
        await again.stop()
    assert first.errors == []
