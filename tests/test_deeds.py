"""Deeds (实事) end to end: /deed (from an activity marked as a deed, or entered directly), /deeds
for a cadre and for the county, and the behind-pace reminders sent by the reminder scheduler.

The default harness clock is 2026-11-26 10:00 in Shanghai (day 330 of 365). Pace (bot/domain/deeds.py):
due = ⌊quota × elapsed days / 365⌋, and from 1 July none done at all is behind too.
On 26 November a quota of 3 is due ⌊3 × 330/365⌋ = 2; a quota of 1 is due ⌊330/365⌋ = 0.
On 1 July (day 182) a quota of 3 is due ⌊546/365⌋ = 1, a quota of 1 is due 0 (but none done is behind).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.activities import ActivityDraft
from bot.domain.config import ConfigError, parse_config
from bot.domain.deeds import BEHIND_SUBJECT
from bot.model.activity import Category, Place
from bot.model.organisation import OrgKind, Role
from tests.harness import COUNTY_ADMIN_ID, FakeClock, Harness
from tests.harness import test_config as config_for

SH = ZoneInfo("Asia/Shanghai")
LI, ZHANG, WANG, OUTSIDER = 300001, 300002, 300003, 300009
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH).astimezone(UTC)


class County:
    """Three organisations and their cadres: 城关镇团委 (township, quota 1, 李书记),
    县教育局团委 (county level, quota 3, 张干事), 县第一小学 (school, no quota, 王老师)."""

    def __init__(self, harness) -> None:
        self.harness = harness
        self.services = harness.services
        self.ids: dict[str, int] = {}

    async def arrange(self) -> County:
        services, now = self.services, self.harness.clock.now()
        for name, kind in (
            ("城关镇团委", OrgKind.TOWNSHIP),
            ("县教育局团委", OrgKind.COUNTY_LEVEL),
            ("县第一小学", OrgKind.SCHOOL),
        ):
            self.ids[name] = (await services.orgs.create(COUNTY_ADMIN_ID, name, kind, None)).id
        for user_id, name, org in (
            (LI, "李书记", "城关镇团委"),
            (ZHANG, "张干事", "县教育局团委"),
            (WANG, "王老师", "县第一小学"),
        ):
            await services.people.seen(user_id, name, None, "zh-hans", private=True)
            await services.membership.memberships.grant(self.ids[org], user_id, Role.ORG_ADMIN, COUNTY_ADMIN_ID, now)
        return self

    async def deed(self, org: str, title: str, done_on: date) -> None:
        await self.services.deeds.record(COUNTY_ADMIN_ID, self.ids[org], title, done_on, note="佐证")

    async def ended_activity(self, org: str, title: str, *, deed: bool, day: int = 20):
        """An activity on 2026-11-<day> 09:00–11:00, created beforehand, ended by the harness's now."""
        clock = self.harness.clock
        now = clock.moment
        clock.moment = local(2026, 11, 1, 10)
        draft = ActivityDraft(
            org_id=self.ids[org],
            title=title,
            category=Category.TUTORING,
            starts_at=local(2026, 11, day, 9),
            ends_at=local(2026, 11, day, 11),
            place=Place("县城"),
            slots=10,
            expected_served=20,
            counts_as_deed=deed,
        )
        activity = await self.services.activities.create(COUNTY_ADMIN_ID, draft)
        clock.moment = now
        return activity


@pytest.fixture
async def county(harness) -> County:
    harness.admin()
    return await County(harness).arrange()


def photo_update(harness, user_id: int, file_id: str) -> dict:
    """A photo message (the fake's users can only send files): the update Telegram would send."""
    update = harness.fake.user_sends(
        user_id, user_id, document={"file_name": "x.png", "mime_type": "image/png", "content": PNG}
    )
    message = update["message"]
    del message["document"]
    message["photo"] = [{"file_id": file_id, "file_unique_id": "AgADphoto", "width": 320, "height": 320}]
    return update


async def step_of(harness, user_id: int) -> str | None:
    state = await harness.services.conversations.get(user_id)
    return None if state is None else f"{state.flow}:{state.step}"


# ---- /deed ------------------------------------------------------------------------------------------
async def test_a_deed_entered_directly_with_a_note(county):
    harness = county.harness
    await county.deed("县教育局团委", "送医下乡", date(2026, 3, 1))
    zhang = harness.user(ZHANG, "张干事")
    await zhang.send("/deed")
    assert "为「县教育局团委」登记实事" in zhang.last_reply().text  # one organisation: no picker
    assert "没有已结束、标记为实事且未登记的活动" in zhang.last_reply().text
    await zhang.send("捐建图书室")
    assert "是哪天完成的" in zhang.last_reply().text and "2026-11-26" in zhang.last_reply().text
    await zhang.send("2026-11-20")
    assert "完成日期：2026-11-20" in zhang.last_reply().text
    await zhang.send("捐赠图书 300 册，受益学生 120 人")
    assert zhang.last_reply().text == "✅ 已登记实事「捐建图书室」（2026-11-20，县教育局团委）。\n本年度实事 2/3"
    assert await step_of(harness, ZHANG) is None
    deeds = await harness.services.deeds.of_org(county.ids["县教育局团委"], 2026)
    assert [(d.title, d.done_on, d.note, d.evidence_file_id) for d in deeds][-1] == (
        "捐建图书室",
        date(2026, 11, 20),
        "捐赠图书 300 册，受益学生 120 人",
        None,
    )


async def test_bad_inputs_keep_the_person_at_the_step(county):
    harness = county.harness
    zhang = harness.user(ZHANG, "张干事")
    await zhang.send("/deed")
    await zhang.send("   ")
    assert zhang.last_reply().text.startswith("实事名称不能为空。请发送实事名称（最多 60 个字），例如：")
    assert await step_of(harness, ZHANG) == "dd:title"
    await zhang.send("实" * 61)
    assert "太长了（61 个字）" in zhang.last_reply().text
    await zhang.send("送医下乡")
    await zhang.send("下周")
    assert zhang.last_reply().text == (
        "看不懂日期「下周」。请发送实事完成的日期，例如：今天、昨天、2026-11-26、2026年11月1日 或 11-01。"
    )
    assert await step_of(harness, ZHANG) == "dd:date"
    await zhang.send("2026-12-01")
    assert zhang.last_reply().text == (
        "完成日期 2026-12-01 还没到（今天是 2026-11-26）。实事完成后再登记，请发送已经过去的日期，例如：2026-11-26。"
    )
    assert await step_of(harness, ZHANG) == "dd:date"
    await zhang.send("2026-02-30")
    assert "看不懂日期「2026-02-30」" in zhang.last_reply().text
    await zhang.send("昨天")
    assert "完成日期：2026-11-25" in zhang.last_reply().text
    await zhang.send("注" * 501)
    assert "说明太长了（501 个字）" in zhang.last_reply().text
    assert await step_of(harness, ZHANG) == "dd:evidence"
    assert await harness.services.deeds.of_org(county.ids["县教育局团委"], 2026) == []


async def test_a_photo_as_evidence_and_the_today_button(county):
    harness = county.harness
    li = harness.user(LI, "李书记")
    await li.send("/deed")
    await li.send("慰问孤寡老人")
    await li.tap("📅 今天")
    assert "完成日期：2026-11-26" in li.last_reply().text
    await harness.deliver(photo_update(harness, LI, "AgACphoto-1"))
    assert li.last_reply().text == "✅ 已登记实事「慰问孤寡老人」（2026-11-26，城关镇团委）。\n本年度实事 1/1"
    (deed,) = await harness.services.deeds.of_org(county.ids["城关镇团委"], 2026)
    assert (deed.evidence_file_id, deed.note) == ("AgACphoto-1", None)


async def test_a_deed_from_an_ended_activity_marked_as_a_deed(county):
    harness = county.harness
    marked = await county.ended_activity("城关镇团委", "义务支教", deed=True)
    await county.ended_activity("城关镇团委", "篮球赛", deed=False)
    li = harness.user(LI, "李书记")
    await li.send("/deed")
    prompt = li.last_reply()
    assert "已结束、标记为实事但还没登记的活动（1 个）" in prompt.text
    labels = prompt.button_labels()
    assert f"{marked.code} 义务支教（2026-11-20）" in labels and not any("篮球赛" in label for label in labels)
    await li.tap(f"{marked.code} 义务支教（2026-11-20）")
    assert li.last_reply().text == "✅ 已登记实事「义务支教」（2026-11-20，城关镇团委）。\n本年度实事 1/1"
    (deed,) = await harness.services.deeds.of_org(county.ids["城关镇团委"], 2026)
    assert deed.activity_id == marked.id
    # Recorded once: the next /deed no longer offers it.
    await li.send("/deed")
    assert "没有已结束、标记为实事且未登记的活动" in li.last_reply().text


async def test_a_forged_activity_id_is_refused(county):
    harness = county.harness
    await county.ended_activity("城关镇团委", "义务支教", deed=True)
    other = await county.ended_activity("县教育局团委", "送医下乡", deed=True)
    li = harness.user(LI, "李书记")
    await li.send("/deed")
    message = li.last_reply()
    update = harness.fake.user_taps(LI, LI, message.message_id, f"cv:dd:source:{other.id}", forge=True)
    await harness.deliver(update)
    assert li.last_reply().text == "这个按钮已过期或无效。请重新发送命令开始。"
    assert await harness.services.deeds.of_org(county.ids["县教育局团委"], 2026) == []


async def test_a_county_admin_picks_the_organisation_and_outsiders_are_told_to_join(county):
    harness = county.harness
    admin = harness.admin()
    await admin.send("/deed")
    assert "为哪个组织登记实事？（共 3 个）" in admin.last_reply().text
    await admin.send("教育")
    await admin.tap("县教育局团委")
    assert "为「县教育局团委」登记实事" in admin.last_reply().text
    outsider = harness.user(OUTSIDER, "路人")
    await outsider.send("/deed")
    assert "请先发送 /join 申请加入" in outsider.last_reply().text
    assert await step_of(harness, OUTSIDER) is None


# ---- /deeds -------------------------------------------------------------------------------------------
async def test_a_cadre_sees_their_deeds_and_pace(county):
    harness = county.harness
    await county.deed("县教育局团委", "送医下乡", date(2026, 3, 1))
    zhang = harness.user(ZHANG, "张干事")
    await zhang.send("/deeds")
    text = zhang.last_reply().text
    # 26 November: due ⌊3 × 330/365⌋ = 2, done 1.
    assert text.splitlines()[0] == ("⚠️ 「县教育局团委」2026 年实事 1/3，落后于进度：到今天应至少完成 2 件，还差 1 件。")
    assert "1. 03-01 送医下乡（文字佐证）" in text and "/deed" in text
    await county.deed("县教育局团委", "捐建图书室", date(2026, 5, 1))
    await zhang.send("/deeds")
    assert zhang.last_reply().text.splitlines()[0] == (
        "✅ 「县教育局团委」2026 年实事 2/3，进度正常（到今天应完成 2 件）。"
    )
    wang = harness.user(WANG, "王老师")
    await wang.send("/deeds")
    assert wang.last_reply().text.startswith("📋 「县第一小学」2026 年没有实事任务，已登记实事 0 件。")


async def test_the_county_sees_totals_and_who_is_behind_first(county):
    harness = county.harness
    await county.deed("城关镇团委", "慰问孤寡老人", date(2026, 4, 1))
    admin = harness.admin()
    await admin.send("/deeds")
    lines = admin.last_reply().text.splitlines()
    assert lines[0] == "📋 2026 年全县实事：已完成 1/4 件（2 个组织有实事任务），落后于进度的组织 1 个。"
    assert lines[1].startswith("进度规则：到某天应完成的件数 = 全年任务 × 已过天数 ÷ 全年天数（向下取整）")
    assert lines[2:] == ["⚠️ 县教育局团委：全年 3 件，已完成 0 件，按进度应完成 2 件", "✅ 城关镇团委 1/1"]
    await admin.send("/deeds 2025")
    assert admin.last_reply().text.splitlines()[0].startswith("📋 2025 年全县实事：已完成 0/4 件")
    await admin.send("/deeds 明年")
    assert admin.last_reply().text == "看不懂年份「明年」。请发送 /deeds 查看今年，或在后面加年份，例如：/deeds 2026。"


async def test_the_county_list_is_paged(county):
    harness = county.harness
    for number in range(1, 18):
        await harness.services.orgs.create(COUNTY_ADMIN_ID, f"第{number:02d}乡团委", OrgKind.TOWNSHIP, None)
    admin = harness.admin()
    await admin.send("/deeds")
    first = admin.last_reply()
    assert "第 1/2 页" in first.text and first.button_labels() == ["下一页 ▶"]
    assert "⚠️ 县教育局团委：全年 3 件，已完成 0 件，按进度应完成 2 件" in first.text  # the most behind first
    await admin.tap("下一页 ▶")
    assert "第 2/2 页" in admin.last_reply().text
    # Someone who is not a county admin tapping a forwarded button gets nothing.
    harness.user(LI, "李书记")
    update = harness.fake.user_taps(LI, LI, first.message_id, "dpg:2026:1", forge=True)
    await harness.deliver(update)
    assert "只有团县委管理员" in harness.fake.callback_answers[-1]["text"]


# ---- behind-pace reminders --------------------------------------------------------------------------
@pytest.fixture
async def summer(tmp_path, fake):
    """The bot started on 30 June 2026 with the default schedule (09:00 on 1 July and 1 October)."""
    harness = Harness(config_for(tmp_path), fake, FakeClock(local(2026, 6, 30, 10)))
    await harness.start()
    yield harness
    await harness.stop()
    assert harness.errors == []
    assert fake.unknown_methods == []


async def test_behind_pace_reminders_go_once_to_the_right_chats(summer):
    harness = summer
    harness.admin()
    county = await County(harness).arrange()
    services = harness.services
    await services.orgs.change_quota(COUNTY_ADMIN_ID, county.ids["县第一小学"], 1)
    await county.deed("县第一小学", "图书角", date(2026, 5, 4))  # on pace
    harness.user(LI, "李书记")
    harness.user(WANG, "王老师")
    town_group = await harness.group_with_bot(-1001, "城关镇团委群", admins=(LI,))
    school_group = await harness.group_with_bot(-1003, "一小团队群", admins=(WANG,))
    await services.groups.bind_org(COUNTY_ADMIN_ID, town_group, county.ids["城关镇团委"], is_chat_admin=True)
    await services.groups.bind_org(COUNTY_ADMIN_ID, school_group, county.ids["县第一小学"], is_chat_admin=True)
    harness.user(ZHANG, "张干事")  # 县教育局团委 has no group: its admin is told privately
    before = {chat: len(harness.fake.messages(chat)) for chat in (town_group, school_group, ZHANG, COUNTY_ADMIN_ID)}

    harness.clock.moment = local(2026, 7, 1, 8, 59)
    await harness.tick()
    assert all(len(harness.fake.messages(chat)) == count for chat, count in before.items())

    harness.clock.moment = local(2026, 7, 1, 9)
    await harness.tick()
    town = harness.fake.last_bot_message(town_group).text
    assert town == (
        "⏰ 实事进度提醒：「城关镇团委」2026 年实事 0/1，落后于进度——到 2026-07-01 应至少完成 1 件，还差 1 件。"
        "完成实事后，请团干部私聊我发送 /deed 登记（已结束并标记为实事的活动可以一键登记）。"
    )
    zhang = harness.fake.last_bot_message(ZHANG).text
    assert zhang.startswith(
        "⏰ 实事进度提醒：「县教育局团委」2026 年实事 0/3，落后于进度——到 2026-07-01 应至少完成 1 件"
    )
    admin = harness.fake.last_bot_message(COUNTY_ADMIN_ID).text.splitlines()
    assert admin[0] == "⏰ 2026-07-01 实事进度：2 个组织落后于进度"
    assert set(admin[1:3]) == {
        "⚠️ 县教育局团委：全年 3 件，已完成 0 件，按进度应完成 1 件",
        "⚠️ 城关镇团委：全年 1 件，已完成 0 件，按进度应完成 1 件",
    }
    assert len(harness.fake.messages(school_group)) == before[school_group]  # on pace: nothing

    counts = {chat: len(harness.fake.messages(chat)) for chat in before}
    await harness.tick()
    harness.clock.moment = local(2026, 7, 1, 12)
    await harness.tick()
    assert {chat: len(harness.fake.messages(chat)) for chat in before} == counts  # exactly once
    reminder = await services.reminders.reminders.by_subject(BEHIND_SUBJECT)
    assert reminder.next_due_at == local(2026, 10, 1, 9)  # the next date of the schedule


async def test_behind_pace_reminders_can_be_switched_off(tmp_path, fake):
    from dataclasses import replace

    from bot.domain.config import DeedsConfig

    config = replace(config_for(tmp_path), deeds=DeedsConfig(behind_reminders=""))
    harness = Harness(config, fake, FakeClock(local(2026, 6, 30, 10)))
    await harness.start()
    try:
        assert await harness.services.reminders.reminders.by_subject(BEHIND_SUBJECT) is None
    finally:
        await harness.stop()


def test_the_schedule_is_checked_with_a_one_line_message():
    config = parse_config('[deeds]\nbehind_reminders = "每月1日 9:00"\n', environ={})
    assert config.deeds.behind_reminders == "每月1日 9:00"
    assert parse_config("", environ={}).deeds.behind_reminders == "cron 0 9 1 7,10 *"
    with pytest.raises(ConfigError) as caught:
        parse_config('[deeds]\nbehind_reminders = "明天 9:00"\n', environ={})
    message = str(caught.value)
    assert message.startswith("deeds.behind_reminders:") and "\n" not in message and '""' in message
