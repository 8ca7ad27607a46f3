"""Reminders in the catch-up after downtime: a chat's late occurrences in one message, oldest
first; those more than the catch-up window late listed to the county admins instead; nothing sent
twice across a restart beyond the outbox's one message in flight."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.domain.catch_up import REMINDERS_TOGETHER
from tests.harness import COUNTY_ADMIN_ID, FakeClock, Harness
from tests.harness import test_config as make_config
from tests.test_outbox import kill_after_the_second_send
from tests.test_reminders import HUB, ORG_A, ORG_B, county_with_groups, schedule

TOGETHER_MARK = "机器人暂停期间错过的"  # the listing's title (catch_up.reminders_title)
STALE_MARK = "没有再补发"  # the county admins' list (catch_up.stale_reminders_title)


def new_texts(harness, chat_id: int, before: int | None = None) -> list[str]:
    """The bot's messages to the chat since the reminders were set up (or since `before` of them)."""
    start = harness.seen.get(chat_id, 0) if before is None else before
    return [m.text or "" for m in harness.fake.bot_messages(chat_id)[start:]]


def set_up(harness) -> None:
    """What the chats held before the downtime (the bot's greetings) is not counted."""
    harness.seen = {chat: len(harness.fake.bot_messages(chat)) for chat in (HUB, ORG_A, ORG_B, COUNTY_ADMIN_ID)}


async def mine(harness, created) -> list:
    """This test's reminders' outcomes (the county's system reminders run too)."""
    ids = {reminder.id for reminder in created}
    return [outcome for outcome in await harness.tick() if outcome.reminder_id in ids]


async def missed_in_two_groups(harness) -> dict[int, int]:
    """Three reminders for ORG_A, two for ORG_B, one for the hub, all due this afternoon; each
    group's created out of order, so "oldest first" is the due time's order, not the creation's."""
    ids = await county_with_groups(harness)
    await harness.admin().send("/start")
    reminders = harness.services.reminders
    created = []
    for target, text, when in (
        (ids[ORG_A], "A-下午两点交表", "今天 14:00"),
        (ids[ORG_A], "A-上午十一点开会", "今天 11:00"),
        (ids[ORG_A], "A-中午签到", "今天 12:00"),
        (ids[ORG_B], "B-下午一点半值班", "今天 13:30"),
        (ids[ORG_B], "B-上午十一点半集合", "今天 11:30"),
    ):
        created.append(await reminders.create(COUNTY_ADMIN_ID, "chat", target, text, schedule(harness, when)))
    created.append(
        await reminders.create(COUNTY_ADMIN_ID, "hub", None, "H-十二点半例会", schedule(harness, "今天 12:30"))
    )
    set_up(harness)
    return created


async def test_after_downtime_each_group_gets_one_listing_of_its_missed_reminders_oldest_first(harness):
    created = await missed_in_two_groups(harness)
    harness.clock.advance(hours=6)  # down from 10:00 to 16:00 local: all of them missed, 2-5 h late

    outcomes = await mine(harness, created)

    assert {o.outcome for o in outcomes} == {"late"} and len(outcomes) == 6
    [in_a] = new_texts(harness, ORG_A)  # one message, not three
    assert in_a.startswith("⏰ 提醒（机器人暂停期间错过的 3 条，按原定时间先后排列）")
    assert in_a.index("A-上午十一点开会") < in_a.index("A-中午签到") < in_a.index("A-下午两点交表")
    assert "原定 2026-11-26 周四 11:00：A-上午十一点开会" in in_a  # when it was due, in the county's zone
    [in_b] = new_texts(harness, ORG_B)
    assert "错过的 2 条" in in_b and in_b.index("B-上午十一点半集合") < in_b.index("B-下午一点半值班")
    assert "A-" not in in_b
    # The hub was owed one: the usual reminder, marked late.
    assert new_texts(harness, HUB) == ["⏰ 提醒（因机器人暂停，晚送达）\nH-十二点半例会"]
    # Each occurrence's delivery to its chat is recorded, as /reminders' history reads it.
    assert all(list(o.deliveries.values()) == ["sent"] for o in outcomes)
    assert await mine(harness, created) == []  # once only
    assert [len(new_texts(harness, chat)) for chat in (ORG_A, ORG_B, HUB)] == [1, 1, 1]
    assert not any(STALE_MARK in text for text in new_texts(harness, COUNTY_ADMIN_ID))
    assert harness.errors == []


async def test_a_listing_is_split_to_stay_inside_a_message_and_long_words_are_shortened(harness):
    ids = await county_with_groups(harness)
    reminders = harness.services.reminders
    for minute in range(25):
        text = f"第{minute:02d}条" + "请各支部按时提交志愿服务时长统计表。" * 150  # 2,700 characters each
        await reminders.create(COUNTY_ADMIN_ID, "chat", ids[ORG_A], text, schedule(harness, f"今天 11:{minute:02d}"))
    set_up(harness)
    harness.clock.advance(hours=3)

    await harness.tick()

    listings = new_texts(harness, ORG_A)
    assert [text.count("• 原定") for text in listings] == [20, 5]
    assert all(len(text.encode("utf-16-le")) // 2 <= 4096 for text in listings)
    joined = "".join(listings)
    assert [joined.index(f"第{minute:02d}条") for minute in range(25)] == sorted(
        joined.index(f"第{minute:02d}条") for minute in range(25)
    )
    assert "…" in listings[0]


async def test_an_occurrence_beyond_the_window_goes_to_the_county_admins_not_the_group(harness):
    ids = await county_with_groups(harness)
    await harness.admin().send("/start")
    reminders = harness.services.reminders
    created = [
        await reminders.create(COUNTY_ADMIN_ID, "chat", ids[ORG_A], "过时-上午交表", schedule(harness, "今天 10:30")),
        await reminders.create(COUNTY_ADMIN_ID, "chat", ids[ORG_B], "过时-上午开会", schedule(harness, "今天 11:00")),
        await reminders.create(COUNTY_ADMIN_ID, "chat", ids[ORG_A], "还来得及", schedule(harness, "明天 10:00")),
    ]
    set_up(harness)
    # 11:10 tomorrow: 24 h 40 min, 24 h 10 min, and 70 min late (beyond the old 60-minute grace: still sent)
    harness.clock.advance(days=1, hours=1, minutes=10)

    outcomes = await mine(harness, created)

    assert [o.outcome for o in outcomes] == ["skipped", "skipped", "late"]
    assert new_texts(harness, ORG_A) == ["⏰ 提醒（因机器人暂停，晚送达）\n还来得及"]
    assert new_texts(harness, ORG_B) == []
    [listing] = [text for text in new_texts(harness, COUNTY_ADMIN_ID) if STALE_MARK in text]
    assert "有 2 条提醒" in listing and "24 小时" in listing
    assert listing.index("过时-上午交表") < listing.index("过时-上午开会")  # oldest first
    assert "还来得及" not in listing
    assert [o.deliveries for o in outcomes] == [{}, {}, {ORG_A: "sent"}]  # never sent to their groups
    assert await mine(harness, created) == []
    assert len([text for text in new_texts(harness, COUNTY_ADMIN_ID) if STALE_MARK in text]) == 1


async def test_a_recurring_reminder_missed_for_days_is_caught_up_once(harness):
    ids = await county_with_groups(harness)
    await harness.admin().send("/start")
    reminders = harness.services.reminders
    created = [
        await reminders.create(COUNTY_ADMIN_ID, "chat", ids[ORG_A], "每日安全提示", schedule(harness, "每天 12:00")),
        await reminders.create(COUNTY_ADMIN_ID, "chat", ids[ORG_A], "周报截止", schedule(harness, "后天 15:00")),
    ]
    set_up(harness)
    harness.clock.advance(days=2, hours=6)  # 16:00 two days later: three daily occurrences missed

    outcomes = await mine(harness, created)

    assert len(outcomes) == 2  # the daily one by its latest occurrence only
    [listing] = new_texts(harness, ORG_A)
    assert "错过的 2 条" in listing and listing.count("每日安全提示") == 1
    assert listing.index("每日安全提示") < listing.index("周报截止")  # 12:00 before 15:00
    assert not any(STALE_MARK in text for text in new_texts(harness, COUNTY_ADMIN_ID))
    harness.clock.advance(hours=20)  # 12:00 the next day: on time again
    await harness.tick()
    assert new_texts(harness, ORG_A)[1:] == ["⏰ 提醒\n每日安全提示"]


async def test_an_urgent_late_reminder_stays_its_own_message(harness):
    ids = await county_with_groups(harness)
    reminders = harness.services.reminders
    await reminders.create(COUNTY_ADMIN_ID, "chat", ids[ORG_A], "交表", schedule(harness, "今天 11:00"))
    await reminders.create(COUNTY_ADMIN_ID, "chat", ids[ORG_A], "开会", schedule(harness, "今天 11:30"))
    await reminders.create(
        COUNTY_ADMIN_ID, "chat", ids[ORG_A], "紧急：暴雨停课", schedule(harness, "今天 12:00"), urgent=True
    )
    set_up(harness)
    harness.clock.advance(hours=4)

    await harness.tick()

    texts = new_texts(harness, ORG_A)
    assert texts[0] == "⏰ 提醒（因机器人暂停，晚送达）\n紧急：暴雨停课"  # a notice: ahead of the listing
    assert len(texts) == 2 and "错过的 2 条" in texts[1] and "暴雨" not in texts[1]


async def test_a_restart_mid_catch_up_sends_nothing_twice_beyond_the_one_in_flight(tmp_path, fake):
    """The catch-up is queued, the first listing goes out and is recorded, the second is accepted
    by Telegram and the process dies before recording it. After the restart that one goes again
    (the outbox's one message in flight), the rest once, and the catch-up is not queued again."""
    clock = FakeClock()
    config = make_config(tmp_path)
    config = replace(config, outbox=replace(config.outbox, in_flight=1))
    first = Harness(config, fake, clock)
    await first.start()
    created = await missed_in_two_groups(first)
    clock.advance(hours=6)
    await first.services.reminders.deliver_due(lambda: asyncio.sleep(0))  # queued only
    calls = kill_after_the_second_send(first.services.outbox)
    with pytest.raises(asyncio.CancelledError):
        await first.send_queued()
    await first.stop()

    second = Harness(config, fake, clock)
    second.seen = first.seen
    await second.start()
    try:
        await after_the_restart(second, created, calls)
    finally:
        await second.stop()
    assert first.errors == second.errors == []


async def after_the_restart(second, created, calls) -> None:
    assert await mine(second, created) == []  # every occurrence was queued before the crash: none again
    await second.send_queued()
    copies = {chat: len(new_texts(second, chat)) for chat in (ORG_A, ORG_B, HUB)}
    assert min(copies.values()) == 1 and sum(copies.values()) - len(copies) <= 1
    assert copies[calls[1]] == 2  # the duplicate is the message that was in flight
    assert all(TOGETHER_MARK in text for chat in (ORG_A, ORG_B) for text in new_texts(second, chat))
    rows = await second.services.db.fetch_all("SELECT id FROM outbox WHERE kind = ?", (REMINDERS_TOGETHER,))
    assert len(rows) == 2  # one listing per group
    statuses = await second.services.db.fetch_all("SELECT status FROM reminder_deliveries")
    assert {row[0] for row in statuses} == {"sent"} and len(statuses) == 6
