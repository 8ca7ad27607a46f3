"""/remind and /reminders, as admins use them: pick where, type when and what, confirm; pause,
resume and delete; and the clock moving until the reminder arrives (or, paused, does not)."""

from __future__ import annotations

import pytest

from bot.domain.schedule_grammar import parse_schedule
from bot.model.organisation import OrgKind
from tests.harness import COUNTY_ADMIN_ID

HUB, ORG_A, ORG_B = -1001, -2001, -2002
LI, ZHANG, WANG = 300001, 300002, 300003  # an org admin, another org's admin, a plain cadre


def reminders_in(harness, chat_id: int) -> list[str]:
    return [m.text for m in harness.fake.bot_messages(chat_id) if (m.text or "").startswith("⏰")]


async def county(harness) -> dict[str, object]:
    """A hub and two organisation groups; 李 runs the first organisation, 张 the second."""
    services = harness.services
    admin = harness.admin()
    await admin.send("/start")
    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    await services.groups.bind_hub(COUNTY_ADMIN_ID, HUB)
    orgs = {}
    for chat_id, title, name in ((ORG_A, "教育局团委群", "县教育局团委"), (ORG_B, "城关镇团委群", "城关镇团委")):
        org = await services.orgs.create(COUNTY_ADMIN_ID, name, OrgKind.COUNTY_LEVEL, None)
        await harness.group_with_bot(chat_id, title, admins=(COUNTY_ADMIN_ID,))
        await services.groups.bind_org(COUNTY_ADMIN_ID, chat_id, org.id, is_chat_admin=True)
        orgs[chat_id] = org
    li = harness.user(LI, "李老师", username="li")
    zhang = harness.user(ZHANG, "张书记", username="zhang")
    for person, chat_id in ((li, ORG_A), (zhang, ORG_B)):
        await person.send("/start")
        await services.membership.appoint_admin(COUNTY_ADMIN_ID, orgs[chat_id].id, person.user_id)
    return {"admin": admin, "li": li, "zhang": zhang, "orgs": orgs}


def message(user, message_id: int):
    return next(m for m in user.replies() if m.message_id == message_id)


async def start_to_when(user, target: str = "🏛 全县团干部群") -> None:
    await user.send("/remind")
    await user.tap(target)
    assert "第 2 步" in user.last_reply().text


# ---- /remind ----------------------------------------------------------------------------------
async def test_county_admin_creates_a_weekly_reminder_to_the_hub_and_it_arrives_on_monday(harness):
    people = await county(harness)
    admin = people["admin"]
    await admin.send("/remind")
    labels = admin.last_reply().button_labels()
    assert labels[:2] == ["🏛 全县团干部群", "📣 全部组织群"]
    assert "👥 县教育局团委（教育局团委群）" in labels and "👥 城关镇团委（城关镇团委群）" in labels
    assert "🙋 只提醒我自己" in labels
    await admin.tap("🏛 全县团干部群")
    prompt = admin.last_reply().text
    assert "发到：全县团干部群「县团干部群」" in prompt
    for example in (
        "2026-12-03 09:00",  # a week after the clock's 2026-11-26
        "12-03 9:00",
        "明天 9:00",
        "下周一 14:30",
        "每天 8:30",
        "每周一 9:00",
        "每月1日 9:00",
    ):
        assert example in prompt
    assert "tomorrow" not in prompt and "按北京时间" in prompt
    await admin.send("每周一 9:00")
    assert "时间：每周一 09:00" in admin.last_reply().text
    await admin.send("周一例会材料请提前准备")
    confirm = admin.last_reply().text
    assert "接下来的发送时间：\n• 2026-11-30 周一 09:00\n• 2026-12-07 周一 09:00\n• 2026-12-14 周一 09:00" in confirm
    assert "免打扰" not in confirm
    assert "内容：\n周一例会材料请提前准备" in confirm
    await admin.tap("✅ 保存")
    saved = admin.last_reply().text
    assert "提醒已保存" in saved and "下次发送：2026-11-30 周一 09:00" in saved
    assert admin.last_reply().buttons() == []
    [reminder] = await harness.services.reminders.visible_to(COUNTY_ADMIN_ID)
    assert (reminder.target_kind, reminder.urgent, reminder.text) == ("hub", False, "周一例会材料请提前准备")
    assert await harness.services.conversations.get(COUNTY_ADMIN_ID) is None
    # The wake-up job follows the database.
    assert harness.app.job_queue.get_jobs_by_name("reminders:wake")

    harness.clock.advance(hours=94, minutes=59)  # Monday 08:59 local
    await harness.tick()
    assert reminders_in(harness, HUB) == []
    harness.clock.advance(minutes=1)
    await harness.tick()
    assert reminders_in(harness, HUB) == ["⏰ 提醒\n周一例会材料请提前准备"]
    assert reminders_in(harness, ORG_A) == []


@pytest.mark.parametrize(
    ("typed", "described", "first"),
    [
        ("2026-12-01 09:00", "2026-12-01（周二）09:00，仅一次", "2026-12-01 周二 09:00"),
        ("12-01 9:00", "2026-12-01（周二）09:00，仅一次", "2026-12-01 周二 09:00"),
        ("明天 9:00", "2026-11-27（周五）09:00，仅一次", "2026-11-27 周五 09:00"),
        ("下周一 14:30", "2026-11-30（周一）14:30，仅一次", "2026-11-30 周一 14:30"),
        ("每天 8:30", "每天 08:30", "2026-11-27 周五 08:30"),
        ("每周一 9:00", "每周一 09:00", "2026-11-30 周一 09:00"),
        ("每月1日 9:00", "每月1日 09:00", "2026-12-01 周二 09:00"),
        ("tomorrow 9:00", "2026-11-27（周五）09:00，仅一次", "2026-11-27 周五 09:00"),
        ("every monday 9:00", "每周一 09:00", "2026-11-30 周一 09:00"),
    ],
)
async def test_every_grammar_example_is_accepted(harness, typed, described, first):
    admin = (await county(harness))["admin"]
    await start_to_when(admin)
    await admin.send(typed)
    assert f"时间：{described}" in admin.last_reply().text
    await admin.send("示例提醒")
    assert f"接下来的发送时间：\n• {first}" in admin.last_reply().text


@pytest.mark.parametrize(
    ("typed", "explained"),
    [
        ("明天", "缺少具体时间"),
        ("25:00", "25:00"),
        ("2月30日 9:00", "日期「2月30日」不存在"),
        ("2020-01-01 9:00", "已经过去了"),
        ("whenever", "看不懂时间「whenever」"),
        ("每月32日 9:00", "每月没有第 32 天"),
    ],
)
async def test_bad_times_are_explained_and_the_step_stays(harness, typed, explained):
    admin = (await county(harness))["admin"]
    await start_to_when(admin)
    await admin.send(typed)
    reply = admin.last_reply().text
    assert explained in reply
    assert "9:00" in reply  # every refusal shows an example of what to send instead
    state = await harness.services.conversations.get(COUNTY_ADMIN_ID)
    assert (state.flow, state.step) == ("rd", "when")
    await admin.send("明天 9:00")
    assert "第 3 步" in admin.last_reply().text


async def test_empty_and_overlong_texts_are_refused_with_an_example(harness):
    admin = (await county(harness))["admin"]
    await start_to_when(admin)
    await admin.send("明天 9:00")
    await admin.send("   ")
    assert "提醒内容不能是空的" in admin.last_reply().text and "例如" in admin.last_reply().text
    await admin.send("字" * 3501)
    assert "3501 个字，超过了上限 3500 字" in admin.last_reply().text
    assert (await harness.services.conversations.get(COUNTY_ADMIN_ID)).step == "text"
    await admin.send("明早九点交材料")
    assert "第 4 步" in admin.last_reply().text


async def test_quiet_hours_are_pointed_out_and_urgent_is_sent_on_time(harness):
    admin = (await county(harness))["admin"]
    await start_to_when(admin)
    await admin.send("每天 23:00")
    await admin.send("夜间值班提醒")
    confirm = admin.last_reply().text
    assert "• 2026-11-26 周四 23:00 🌙（在免打扰时段，普通提醒顺延到 2026-11-27 周五 07:00 发出）" in confirm
    assert "免打扰时段是每天 22:00–07:00" in confirm
    await admin.tap("⚡ 保存为紧急（不受免打扰限制）")
    saved = admin.last_reply().text
    assert "⚡ 紧急" in saved and "下次发送：2026-11-26 周四 23:00" in saved
    harness.clock.advance(hours=13)  # 23:00 local
    await harness.tick()
    assert reminders_in(harness, HUB) == ["⏰ 提醒\n夜间值班提醒"]


async def test_org_admin_sees_only_their_group_and_themselves(harness):
    people = await county(harness)
    li = people["li"]
    await li.send("/remind")
    pick = li.last_reply()
    assert pick.button_labels() == ["👥 县教育局团委（教育局团委群）", "🙋 只提醒我自己", "✖️ 取消"]
    # A forged tap on the hub, or on another organisation's group, gets nothing.
    chat_b = await harness.services.groups.get(ORG_B)
    for value in ("hub", "all", str(chat_b.id)):
        await li.tap_data(f"cv:rd:target:{value}", forge=True)
        assert "组织管理员只能提醒本组织的群" in li.last_reply().text
        assert (await harness.services.conversations.get(LI)).step == "target"
    await li.tap("👥 县教育局团委（教育局团委群）")
    assert "发到：县教育局团委 的组织群「教育局团委群」" in message(li, pick.message_id).text
    await li.send("明天 9:00")
    await li.send("明天上午交团费")
    await li.tap("✅ 保存")
    assert "提醒已保存" in li.last_reply().text
    harness.clock.advance(hours=23)  # tomorrow 09:00
    await harness.tick()
    assert reminders_in(harness, ORG_A) == ["⏰ 提醒\n明天上午交团费"]
    assert reminders_in(harness, HUB) == reminders_in(harness, ORG_B) == []


async def test_org_admin_without_a_bound_group_is_told_how_to_bind_and_can_remind_themselves(harness):
    harness.admin()
    org = await harness.services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)
    li = harness.user(LI, "李老师")
    await li.send("/start")
    await harness.services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, LI)
    await li.send("/remind")
    assert "城关镇团委 还没有绑定组织群" in li.last_reply().text and "/bind" in li.last_reply().text
    assert li.last_reply().button_labels() == ["🙋 只提醒我自己", "✖️ 取消"]
    await li.tap("🙋 只提醒我自己")
    assert "发到：您自己（私聊）" in li.last_reply().text
    await li.send("今天 11:00")
    await li.send("给县里回电话")
    await li.tap("✅ 保存")
    harness.clock.advance(hours=1)
    await harness.tick()
    assert li.last_reply().text == "⏰ 提醒\n给县里回电话"


async def test_a_plain_cadre_is_refused(harness):
    people = await county(harness)
    wang = harness.user(WANG, "小王")
    await wang.send("/start")
    org = people["orgs"][ORG_A]
    request = await harness.services.membership.request_join(WANG, org.id)
    await harness.services.membership.decide(COUNTY_ADMIN_ID, request.id, True)
    await wang.send("/remind")
    assert "只有该组织的管理员（或团县委管理员）可以这样做" in wang.last_reply().text
    assert await harness.services.conversations.get(WANG) is None
    await wang.send("/reminders")
    assert "您还没有可管理的提醒" in wang.last_reply().text and "/remind" in wang.last_reply().text


async def test_cancel_leaves_nothing_behind(harness):
    admin = (await county(harness))["admin"]
    await start_to_when(admin)
    await admin.send("每天 8:30")
    await admin.send("早读")
    await admin.tap("✖️ 取消")
    assert "已取消" in admin.last_reply().text
    assert await harness.services.reminders.visible_to(COUNTY_ADMIN_ID) == []
    await admin.send("/reminders")
    assert "您还没有可管理的提醒" in admin.last_reply().text


# ---- /reminders --------------------------------------------------------------------------------
async def make(harness, actor: int, kind: str, target, text: str, when: str):
    schedule = parse_schedule(when, now=harness.clock.now(), zone=harness.config.zone)
    return await harness.services.reminders.create(actor, kind, target, text, schedule)


async def test_list_pause_resume_and_delete(harness):
    people = await county(harness)
    admin = people["admin"]
    await make(harness, COUNTY_ADMIN_ID, "hub", None, "每日早读打卡", "每天 9:00")
    await admin.send("/reminders")
    header, item = admin.replies()[-2:]
    assert "提醒（共 1 条）" in header.text
    assert "发到：全县团干部群「县团干部群」" in item.text and "时间：每天 09:00" in item.text
    assert "下次发送：2026-11-27 周五 09:00" in item.text and "内容：每日早读打卡" in item.text
    assert item.button_labels() == ["⏸ 暂停", "🗑 删除"]

    await admin.tap("⏸ 暂停")
    assert admin.callback_answers[-1] == "已暂停：恢复之前不会发送。"
    item = admin.last_reply()
    assert "下次发送：⏸ 暂停中" in item.text and item.button_labels() == ["▶️ 恢复", "🗑 删除"]
    harness.clock.advance(hours=23)  # Friday 09:00: would be due
    await harness.tick()
    assert reminders_in(harness, HUB) == []

    harness.clock.advance(hours=1)  # 10:00: resume; the missed one is not sent late
    await admin.tap("▶️ 恢复")
    assert admin.callback_answers[-1] == "已恢复：从下一次起照常发送。"
    item = admin.last_reply()
    assert "下次发送：2026-11-28 周六 09:00" in item.text and item.button_labels() == ["⏸ 暂停", "🗑 删除"]
    await harness.tick()
    assert reminders_in(harness, HUB) == []
    harness.clock.advance(hours=23)
    await harness.tick()
    assert reminders_in(harness, HUB) == ["⏰ 提醒\n每日早读打卡"]

    await admin.tap("🗑 删除")
    assert "确定要删除这条提醒吗" in admin.last_reply().text
    assert admin.last_reply().button_labels() == ["⚠️ 确认删除", "↩️ 不删了"]
    await admin.tap("↩️ 不删了")
    assert admin.last_reply().button_labels() == ["⏸ 暂停", "🗑 删除"]
    assert len(await harness.services.reminders.visible_to(COUNTY_ADMIN_ID)) == 1
    await admin.tap("🗑 删除")
    await admin.tap("⚠️ 确认删除")
    assert "已删除提醒" in admin.last_reply().text and admin.last_reply().buttons() == []
    assert await harness.services.reminders.visible_to(COUNTY_ADMIN_ID) == []
    harness.clock.advance(days=1)
    await harness.tick()
    assert reminders_in(harness, HUB) == ["⏰ 提醒\n每日早读打卡"]


async def test_org_admin_lists_only_their_own_and_forged_actions_change_nothing(harness):
    people = await county(harness)
    li, zhang = people["li"], people["zhang"]
    chat_a = await harness.services.groups.get(ORG_A)
    chat_b = await harness.services.groups.get(ORG_B)
    mine = await make(harness, LI, "chat", chat_a.id, "交团费", "每月1日 9:00")
    theirs = await make(harness, ZHANG, "chat", chat_b.id, "城关镇例会", "每周一 9:00")
    await li.send("/reminders")
    item = li.last_reply()
    shown, edits = item.text, item.edited
    assert "提醒（共 1 条）" in li.replies()[-2].text
    assert "县教育局团委 的组织群「教育局团委群」" in item.text and "城关镇例会" not in item.text
    assert "下次发送：2026-12-01 周二 09:00" in item.text

    for forged in (f"rm:{theirs.id}:pause", f"rm:{theirs.id}:delok", f"rm:{theirs.id}:del"):
        await li.tap_data(forged, forge=True)
        assert li.callback_answers[-1].startswith("这是别人创建的提醒")
    await li.tap_data(f"rm:{mine.id}:x", forge=True)
    await li.tap_data("rm:1:x", forge=True)
    await li.tap_data(f"rm:{mine.id}:pause:1", forge=True)
    await li.tap_data("rm:999:pause", forge=True)
    assert li.callback_answers[-4:] == ["这个按钮已过期或无效。请重新发送命令开始。"] * 3 + [
        "找不到这个提醒，可能已被删除。"
    ]
    assert (li.last_reply().text, li.last_reply().edited) == (shown, edits)
    states = {r.id: r.state for r in await harness.services.reminders.visible_to(COUNTY_ADMIN_ID)}
    assert states == {mine.id: "active", theirs.id: "active"}

    # The county admin sees both, with who created them, and may pause either.
    admin = people["admin"]
    await admin.send("/reminders")
    texts = [m.text for m in admin.replies()[-2:]]
    assert any("创建者：李老师" in text for text in texts) and any("创建者：张书记" in text for text in texts)
    [zhangs] = [m for m in admin.replies()[-2:] if "城关镇例会" in m.text]
    await admin.tap("⏸ 暂停", message_id=zhangs.message_id)
    assert "⏸ 暂停中" in message(admin, zhangs.message_id).text
    states = {r.id: r.state for r in await harness.services.reminders.visible_to(COUNTY_ADMIN_ID)}
    assert states == {mine.id: "active", theirs.id: "paused"}
    await zhang.send("/reminders")
    assert "提醒（共 1 条）" in zhang.replies()[-2].text


async def test_a_stale_pause_button_does_not_resend_or_fail(harness):
    admin = (await county(harness))["admin"]
    await make(harness, COUNTY_ADMIN_ID, "all_groups", None, "周报", "每周五 17:00")
    await admin.send("/reminders")
    first = admin.last_reply()
    await admin.send("/reminders")
    await admin.tap("⏸ 暂停")
    await admin.tap("⏸ 暂停", message_id=first.message_id)  # the older listing still shows Pause
    assert admin.callback_answers[-1] == "这条提醒本来就是暂停状态。"
    assert "⏸ 暂停中" in admin.fake.messages(COUNTY_ADMIN_ID)[-1].text
    refreshed = message(admin, first.message_id)
    assert "⏸ 暂停中" in refreshed.text and refreshed.button_labels() == ["▶️ 恢复", "🗑 删除"]
