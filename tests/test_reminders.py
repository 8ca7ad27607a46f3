"""Persistent reminders: exactly one delivery per occurrence across restarts and crashes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.domain.activities import ActivityDraft
from bot.domain.schedule_grammar import parse_schedule
from bot.model.activity import Category, Place
from bot.model.organisation import OrgKind
from tests.harness import COUNTY_ADMIN_ID, FakeClock, Harness
from tests.harness import test_config as make_config

SHANGHAI = ZoneInfo("Asia/Shanghai")
HUB, ORG_A, ORG_B = -1001, -2001, -2002


def schedule(harness, text: str):
    return parse_schedule(text, now=harness.clock.now(), zone=SHANGHAI)


def reminder_texts(harness, chat_id: int) -> list[str]:
    return [m.text for m in harness.fake.bot_messages(chat_id) if "提醒" in (m.text or "")]


async def county_with_groups(harness) -> dict[int, int]:
    """A hub and two organisation groups, bound; returns chat id → stable record id."""
    services = harness.services
    harness.admin()
    ids = {}
    for chat_id, title, org_name in (
        (HUB, "县团干部群", None),
        (ORG_A, "教育局群", "县教育局团委"),
        (ORG_B, "城关镇群", "城关镇团委"),
    ):
        await harness.group_with_bot(chat_id, title, admins=(COUNTY_ADMIN_ID,))
        if org_name is None:
            chat = await services.groups.bind_hub(COUNTY_ADMIN_ID, chat_id)
        else:
            org = await services.orgs.create(COUNTY_ADMIN_ID, org_name, OrgKind.COUNTY_LEVEL, None)
            chat = await services.groups.bind_org(COUNTY_ADMIN_ID, chat_id, org.id, is_chat_admin=True)
        ids[chat_id] = chat.id
    return ids


async def test_one_off_is_sent_once_at_its_time(harness):
    await county_with_groups(harness)
    await harness.services.reminders.create(
        COUNTY_ADMIN_ID, "hub", None, "下午三点开会", schedule(harness, "今天 15:00")
    )
    harness.clock.advance(hours=4, minutes=59)  # 14:59 local
    await harness.tick()
    assert reminder_texts(harness, HUB) == []
    harness.clock.advance(minutes=1)
    await harness.tick()
    await harness.tick()
    assert reminder_texts(harness, HUB) == ["⏰ 提醒\n下午三点开会"]


async def test_recurring_reminder_survives_a_restart_between_occurrences(tmp_path, fake):
    clock = FakeClock()
    first = Harness(make_config(tmp_path), fake, clock)
    await first.start()
    await county_with_groups(first)
    await first.services.reminders.create(
        COUNTY_ADMIN_ID, "all_groups", None, "每日安全提示", schedule(first, "每天 12:00")
    )
    clock.advance(hours=2)  # 12:00 local
    await first.tick()
    await first.stop()
    clock.advance(days=1)
    second = Harness(make_config(tmp_path), fake, clock)
    await second.start()
    await second.tick()
    await second.tick()
    for chat_id in (HUB, ORG_A, ORG_B):
        assert reminder_texts(second, chat_id) == ["⏰ 提醒\n每日安全提示"] * 2
    await second.stop()
    assert first.errors == second.errors == []


async def test_crash_after_sending_before_recording_sends_nothing_twice(tmp_path, fake):
    """The hub's send was recorded as begun, then the process died: the hub is not sent again."""
    clock = FakeClock()
    first = Harness(make_config(tmp_path), fake, clock)
    await first.start()
    await county_with_groups(first)
    reminder = await first.services.reminders.create(
        COUNTY_ADMIN_ID, "all_groups", None, "周报截止", schedule(first, "今天 12:00")
    )
    clock.advance(hours=2)
    repo = first.services.reminders.reminders
    occurrence = await repo.claim_occurrence(reminder.id, reminder.next_due_at, "sending", clock.now())
    await repo.start_delivery(occurrence, HUB, clock.now())
    await first.app.bot.send_message(HUB, "⏰ 提醒\n周报截止")  # it went out; then the crash
    await first.stop()
    second = Harness(make_config(tmp_path), fake, clock)
    await second.start()
    await second.tick()
    assert [len(reminder_texts(second, c)) for c in (HUB, ORG_A, ORG_B)] == [1, 1, 1]
    await second.stop()


async def test_missed_occurrence_inside_the_window_is_sent_late_outside_is_skipped(harness):
    """The catch-up window ([catch_up] window_hours, 24), not grace_minutes, bounds how late."""
    await county_with_groups(harness)
    reminders = harness.services.reminders
    await reminders.create(COUNTY_ADMIN_ID, "hub", None, "例会", schedule(harness, "明天 11:00"))
    await reminders.create(COUNTY_ADMIN_ID, "hub", None, "早已过时", schedule(harness, "今天 10:30"))
    harness.clock.advance(days=1, hours=1, minutes=40)  # 11:40 tomorrow: one is 40 min late, the other 25 h
    outcomes = {o.outcome for o in await harness.tick()}
    assert outcomes == {"late", "skipped"}
    assert reminder_texts(harness, HUB) == ["⏰ 提醒（因机器人暂停，晚送达）\n例会"]


async def test_quiet_hours_hold_non_urgent_broadcasts_until_morning(harness):
    await county_with_groups(harness)
    reminders = harness.services.reminders
    await reminders.create(COUNTY_ADMIN_ID, "hub", None, "明早集合", schedule(harness, "今天 23:00"))
    await reminders.create(COUNTY_ADMIN_ID, "hub", None, "紧急：暴雨停课", schedule(harness, "今天 23:00"), urgent=True)
    harness.clock.advance(hours=13)  # 23:00 local
    await harness.tick()
    assert reminder_texts(harness, HUB) == ["⏰ 提醒\n紧急：暴雨停课"]
    harness.clock.advance(hours=8)  # 07:00 next morning
    await harness.tick()
    assert reminder_texts(harness, HUB)[-1] == "⏰ 提醒\n明早集合"


async def test_fan_out_marks_a_kicking_group_inactive_and_follows_a_migration(harness):
    ids = await county_with_groups(harness)
    harness.fake.bot_removed_from_group(ORG_A, COUNTY_ADMIN_ID)  # the bot has not been told yet
    new_b = harness.fake.migrate_to_supergroup(ORG_B, by_user_id=COUNTY_ADMIN_ID)
    await harness.services.reminders.create(
        COUNTY_ADMIN_ID, "all_groups", None, "周五交表", schedule(harness, "今天 12:00")
    )
    harness.clock.advance(hours=2)
    [outcome] = await harness.tick()
    assert outcome.deliveries == {HUB: "sent", ORG_A: "chat_gone", ORG_B: "sent"}
    assert not (await harness.services.groups.get(ORG_A)).active
    assert reminder_texts(harness, new_b) == ["⏰ 提醒\n周五交表"]
    assert (await harness.services.groups.get(new_b)).id == ids[ORG_B]


async def test_pause_resume_delete(harness):
    await county_with_groups(harness)
    reminders = harness.services.reminders
    daily = await reminders.create(COUNTY_ADMIN_ID, "hub", None, "打卡", schedule(harness, "每天 12:00"))
    await reminders.pause(COUNTY_ADMIN_ID, daily.id)
    harness.clock.advance(hours=2)
    await harness.tick()
    assert reminder_texts(harness, HUB) == []
    resumed = await reminders.resume(COUNTY_ADMIN_ID, daily.id)
    assert resumed.next_due_at == datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # tomorrow 12:00, not today's
    await reminders.delete(COUNTY_ADMIN_ID, daily.id)
    harness.clock.advance(days=1)
    await harness.tick()
    assert reminder_texts(harness, HUB) == []


async def test_system_reminder_is_replaced_when_its_subject_changes(harness):
    await county_with_groups(harness)
    reminders = harness.services.reminders
    await reminders.set_for_subject("activity:7:start", "hub", None, "活动 14:00 开始", schedule(harness, "今天 13:00"))
    await reminders.set_for_subject(
        "activity:7:start", "hub", None, "活动改到 16:00 开始", schedule(harness, "今天 15:00")
    )
    harness.clock.advance(hours=5)  # 15:00 local
    await harness.tick()
    assert reminder_texts(harness, HUB) == ["⏰ 提醒\n活动改到 16:00 开始"]


async def test_org_admin_may_only_remind_their_own_group(harness):
    ids = await county_with_groups(harness)
    li = harness.user(300001, "李老师")
    await li.send("/start")
    org = await harness.services.orgs.get((await harness.services.groups.get(ORG_A)).org_id)
    await harness.services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, li.user_id)
    reminders = harness.services.reminders
    await reminders.create(li.user_id, "chat", ids[ORG_A], "本周例会", schedule(harness, "明天 9:00"))
    for kind, target in (("chat", ids[ORG_B]), ("hub", None), ("all_groups", None)):
        try:
            await reminders.create(li.user_id, kind, target, "x", schedule(harness, "明天 9:00"))
        except Exception as error:  # noqa: BLE001 - the assertion below names the expected kind
            assert getattr(error, "key", None) == "reminders.target_denied"
        else:
            raise AssertionError(f"{kind} should be refused")


async def test_weekly_digest_goes_only_where_there_is_something_to_say(harness):
    ids = await county_with_groups(harness)
    reminders = harness.services.reminders
    await reminders.keep_weekly_digest("每周一 9:00")
    await reminders.create(COUNTY_ADMIN_ID, "chat", ids[ORG_A], "周三下午团课", schedule(harness, "12-02 15:00"))
    await reminders.create(COUNTY_ADMIN_ID, "hub", None, "下月计划", schedule(harness, "12-20 9:00"))
    org_a = (await harness.services.groups.get(ORG_A)).org_id
    activity = await harness.services.activities.create(
        COUNTY_ADMIN_ID,
        ActivityDraft(
            org_id=org_a,
            title="周四义诊",
            category=Category.CLINIC,
            starts_at=datetime(2026, 12, 3, 1, 0, tzinfo=UTC),
            ends_at=datetime(2026, 12, 3, 4, 0, tzinfo=UTC),
            place=Place("村卫生室"),
            slots=5,
            expected_served=40,
            counts_as_deed=False,
        ),
    )
    harness.clock.advance(days=3, hours=23)  # Monday 2026-11-30 09:00 local
    [digest] = [o for o in await harness.tick() if o.deliveries]
    assert digest.deliveries == {HUB: "nothing_to_say", ORG_A: "sent", ORG_B: "nothing_to_say"}
    [text] = [m.text for m in harness.fake.bot_messages(ORG_A) if "本周安排" in m.text]
    assert text == (
        f"📅 本周安排（共 2 项）\n• 周三 12-02 15:00　周三下午团课\n• 周四 12-03 09:00　活动 {activity.code} 周四义诊"
    )
    assert not any("本周安排" in (m.text or "") for m in harness.fake.bot_messages(HUB))


async def test_weekly_digest_can_be_switched_off(harness):
    await county_with_groups(harness)
    await harness.services.reminders.keep_weekly_digest("")
    assert await harness.services.reminders.reminders.by_subject("digest:weekly") is None


async def test_a_one_off_with_sub_second_time_is_sent_once_and_finishes(harness):
    """Stored times have whole seconds; a finer schedule time must not make the occurrence repeat."""
    from datetime import timedelta

    from bot.domain.schedule import Schedule

    await county_with_groups(harness)
    due = harness.clock.now() + timedelta(seconds=30, microseconds=500_000)
    reminder = await harness.services.reminders.create(
        COUNTY_ADMIN_ID, "hub", None, "精确到毫秒", Schedule(kind="once", at=due, time=None)
    )
    harness.clock.advance(minutes=1)
    await harness.tick()
    await harness.tick()
    assert reminder_texts(harness, HUB) == ["⏰ 提醒\n精确到毫秒"]
    assert (await harness.services.reminders.reminders.get(reminder.id)).state == "finished"


async def test_recurring_reminder_in_a_utc_configured_county(tmp_path, fake):
    """The same daily reminder, with the county's zone set to UTC: it fires at 12:00 UTC each day."""
    clock = FakeClock()  # 2026-11-26 02:00 UTC
    harness = Harness(make_config(tmp_path, timezone="UTC"), fake, clock)
    await harness.start()
    await county_with_groups(harness)
    daily = parse_schedule("每天 12:00", now=clock.now(), zone=ZoneInfo("UTC"))
    reminder = await harness.services.reminders.create(COUNTY_ADMIN_ID, "hub", None, "午间提示", daily)
    sent_at = []
    for _ in range(2 * 24):
        clock.advance(hours=1)
        # Its own occurrences: the system reminders (e.g. Sunshine Home's daily job) run too.
        if any(outcome.reminder_id == reminder.id for outcome in await harness.tick()):
            sent_at.append(clock.now())
    await harness.stop()
    assert sent_at == [datetime(2026, 11, 26, 12, tzinfo=UTC), datetime(2026, 11, 27, 12, tzinfo=UTC)]
    assert harness.errors == []
