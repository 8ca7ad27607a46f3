"""Activities through the real bot: /newactivity, the group post and its sign-up button, waitlist,
organisers' sheet and corrections, edit and cancel, the summary after the end, and /me."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.domain.activities import ActivityDraft
from bot.model.activity import Category, Place
from bot.model.organisation import OrgKind, Role
from handlers.activities import SignupTap, publish, send_due_summaries, start_activity_jobs
from handlers.live_message import flush_refreshes
from tests.harness import COUNTY_ADMIN_ID

LI = 300001  # the township's org admin, who organises
ZHOU = 300002  # a cadre of the township
GROUP = -100100
HUB = -100900
NOT_MODIFIED = "message is not modified"


# ---- the world ----------------------------------------------------------------------------------
async def township(harness):
    """A township organisation with its admin 李老师 and its bound group."""
    services = harness.services
    harness.admin()
    org = await services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)
    li = harness.user(LI, "李老师", username="li")
    await li.send("/start")
    await services.membership.appoint_admin(COUNTY_ADMIN_ID, org.id, LI)
    await harness.group_with_bot(GROUP, "城关镇志愿者群", admins=(LI,))
    await services.groups.bind_org(COUNTY_ADMIN_ID, GROUP, org.id, is_chat_admin=True)
    return org, li


def volunteer(harness, user_id: int, name: str, username: str | None = None, chat_id: int = GROUP):
    client = harness.user(user_id, name, username=username)
    harness.fake.add_member(chat_id, user_id)
    return client


async def arranged(
    harness,
    org,
    *,
    starts_in=timedelta(days=1),
    hours: float = 3,
    slots: int = 2,
    place: Place | None = None,
    title: str = "周六学业辅导",
    expected: int = 30,
    creator: int = LI,
    also_hub: bool = False,
):
    """An activity made directly through the services and published like the conversation does."""
    now = harness.clock.now()
    draft = ActivityDraft(
        org_id=org.id,
        title=title,
        category=Category.TUTORING,
        starts_at=now + starts_in,
        ends_at=now + starts_in + timedelta(hours=hours),
        place=place or Place("第一村村委会"),
        slots=slots,
        expected_served=expected,
        counts_as_deed=True,
        also_hub=also_hub,
    )
    activity = await harness.services.activities.create(creator, draft)
    await publish(harness.app, activity)
    return activity


def post_of(harness, activity, chat_id: int = GROUP):
    for message in harness.fake.bot_messages(chat_id):
        if any(data == SignupTap(activity=activity.id, action="in").pack() for _, data in message.buttons()) or (
            message.text and f"编号 {activity.code}" in message.text and "志愿服务活动" in (message.text or "")
        ):
            return message
    for message in harness.fake.bot_messages(chat_id):
        if message.text and f"（编号 {activity.code}）" in message.text:
            return message
    raise AssertionError(f"no post of {activity.code} in {chat_id}")


async def sign_up(client, harness, activity, chat_id: int = GROUP):
    post = post_of(harness, activity, chat_id)
    await client.tap_data(SignupTap(activity=activity.id, action="in").pack(), chat_id, message_id=post.message_id)


async def withdraw(client, harness, activity, chat_id: int = GROUP):
    post = post_of(harness, activity, chat_id)
    await client.tap("取消报名", chat_id, message_id=post.message_id)


async def step_of(harness, user_id: int) -> str | None:
    state = await harness.services.conversations.get(user_id)
    return None if state is None else f"{state.flow}:{state.step}"


def latest(client, containing: str) -> str:
    """The newest bot message in the private chat that contains this (taps edit older messages)."""
    return [m.text for m in client.replies() if containing in (m.text or "")][-1]


def not_modified_errors(harness) -> list:
    return [error for error in harness.fake.errors if NOT_MODIFIED in error[2]]


# ---- /newactivity -------------------------------------------------------------------------------
async def test_an_org_admin_creates_an_activity_and_it_is_posted_with_a_sign_up_button(harness):
    _org, li = await township(harness)

    await li.send("/newactivity")
    assert "请发送活动名称" in li.last_reply().text  # one organisation: no picker
    await li.send("周六学业辅导")
    await li.tap("学业辅导")
    assert "活动什么时候开始" in li.last_reply().text
    await li.send("明天 14:00")
    assert "2026-11-27 14:00" in li.last_reply().text
    await li.send("17:00")
    assert "2026-11-27（周五）14:00–17:00" in li.last_reply().text
    await li.send("第一村村委会二楼")
    await li.tap("⏭ 跳过")
    await li.send("20")
    await li.send("30")
    await li.tap("✅ 算作实事")
    confirm = li.last_reply().text
    assert "请确认活动信息" in confirm and "志愿者名额：20 人" in confirm and "预计服务：30 人" in confirm
    # Not a county admin: never asked whether to post in the county cadres' group, so not shown it.
    assert "团干部群" not in confirm and "枢纽群" not in confirm
    await li.tap("✅ 确认发布")

    created = li.last_reply().text
    assert "活动已创建" in created and "A1" in created and "已发布到：城关镇志愿者群" in created
    post = harness.fake.last_bot_message(GROUP)
    assert "周六学业辅导" in post.text and "编号 A1" in post.text
    assert "2026-11-27（周五）14:00–17:00" in post.text and "第一村村委会二楼" in post.text
    assert post.button_labels() == ["报名 0/20", "取消报名"]
    activity = await harness.services.activities.by_code("A1")
    assert activity.counts_as_deed and activity.expected_served == 30 and activity.place.radius_m is None
    assert await step_of(harness, LI) is None
    # The reminders before the start are set, in the group.
    hour = await harness.services.reminders.reminders.by_subject(f"activity:{activity.id}:hour")
    assert hour is not None and hour.next_due_at == activity.starts_at - timedelta(hours=1)


async def test_bad_input_at_every_step_explains_and_stays(harness):
    _org, li = await township(harness)
    await li.send("/newactivity")

    async def bad(text: str, expected: str, step: str) -> None:
        await li.send(text)
        assert expected in li.last_reply().text, li.last_reply().text
        assert await step_of(harness, LI) == f"na:{step}"

    await bad("活" * 61, "活动名称太长了", "title")
    await li.send("敬老院探访")
    await bad("唱歌", "没有「唱歌」这个类别", "category")
    await li.send("敬老")  # a typed category label works too
    await bad("下雨天", "看不懂开始时间", "start")
    await bad("每天 9:00", "是重复的时间", "start")
    await bad("今天 8:00", "已经过去了", "start")
    await li.send("明天 9:00")
    await bad("8:00", "必须晚于开始时间", "end")
    await bad("很久", "看不懂结束时间", "end")
    await bad("5天", "看不懂结束时间", "end")
    await li.send("90分钟")
    assert "09:00–10:30" in li.last_reply().text
    await bad("地" * 101, "地点太长了", "place")
    await li.send("县敬老院")
    await bad("就在这里", "需要发送一个位置", "location")
    await li.send_location(25.0435, 117.4821)
    assert "多远以内可以用位置签到" in li.last_reply().text
    await bad("20", "20 米超出了范围", "radius")
    await bad("很近", "不是数字", "radius")
    await li.send("300米")
    await bad("0", "超出了范围", "slots")
    await bad("好多", "不是数字", "slots")
    await li.send("10")
    await bad("-1", "超出了范围", "expected")
    await li.send("12")
    await bad("是的", "请点击上面消息中的按钮", "deed")
    await li.tap("不算")
    confirm = latest(li, "请确认活动信息")
    assert "县敬老院（可在 300 米内发送位置签到）" in confirm and "09:00–10:30" in confirm
    await li.tap("✅ 确认发布")
    activity = await harness.services.activities.by_code("A1")
    assert activity.category is Category.ELDER_CARE and activity.place.radius_m == 300
    assert activity.place.latitude == pytest.approx(25.0435) and not activity.counts_as_deed


async def test_an_approximate_number_of_people_is_quoted_back_with_its_unit_and_kept(harness):
    org, li = await township(harness)
    await li.send("/newactivity")
    for text in ("走访留守儿童", "走访", "明天 15:00", "2小时", "第二村"):
        await li.send(text)
    await li.tap("⏭ 跳过")
    await li.send("5人")
    await li.send("约30人")
    assert "已记下：预计服务 约 30 人。" in li.last_reply().text and "实事" in li.last_reply().text
    await li.tap("不算")
    assert "预计服务：约 30 人" in latest(li, "请确认活动信息")
    await li.tap("✅ 确认发布")
    activity = await harness.services.activities.by_code("A1")
    assert (activity.slots, activity.expected_served) == (5, 30)

    for typed, number in (("~40", 40), ("约 25 人", 25), ("35人左右", 35), ("20人", 20)):
        await li.send("/editactivity A1")
        await li.tap("预计服务人数")
        await li.send(typed)
        assert (await harness.services.activities.get(activity.id)).expected_served == number
    await li.send("/editactivity A1")
    await li.tap("预计服务人数")
    await li.send("很多人")
    assert "「很多人」不是数字" in li.last_reply().text


async def test_default_radius_button_and_duration_in_hours(harness):
    _org, li = await township(harness)
    await li.send("/newactivity")
    await li.send("义诊")
    await li.tap("义诊")
    await li.send("12-05 9:00")
    await li.send("3h")
    await li.send("镇卫生院")
    await li.send_location(25.0, 117.0)
    await li.tap("500 米")
    assert "需要多少名志愿者" in li.last_reply().text
    await li.send("5")
    await li.send("100")
    await li.tap("不算")
    await li.tap("✅ 确认发布")
    activity = await harness.services.activities.by_code("A1")
    local = activity.ends_at.astimezone(harness.config.zone)
    assert activity.place.radius_m == 500 and f"{local:%m-%d %H:%M}" == "12-05 12:00"


async def test_someone_outside_any_organisation_is_told_to_join_first(harness):
    await township(harness)
    stranger = harness.user(200001, "路人", username="passer")
    await stranger.send("/newactivity")
    assert "/join" in stranger.last_reply().text
    assert await step_of(harness, 200001) is None


async def test_county_admin_picks_the_organisation_and_also_posts_in_the_hub(harness):
    _org, _li = await township(harness)
    await harness.services.orgs.create(COUNTY_ADMIN_ID, "县教育局团委", OrgKind.COUNTY_LEVEL, None)
    admin = harness.admin()
    await admin.send("/start")
    await harness.group_with_bot(HUB, "县团干部群", admins=(COUNTY_ADMIN_ID,))
    await harness.services.groups.bind_hub(COUNTY_ADMIN_ID, HUB)

    await admin.send("/newactivity")
    assert "由哪个组织举办" in admin.last_reply().text
    await admin.send("不存在")
    assert "没有名称包含「不存在」的组织" in admin.last_reply().text
    await admin.send("城关")
    assert admin.last_reply().button_labels() == ["城关镇团委", "✖️ 取消"]
    await admin.tap("城关镇团委")
    await admin.send("春节写春联")
    await admin.tap("兴趣培养")
    await admin.send("明天 9:00")
    await admin.send("12:00")
    await admin.send("镇文化站")
    await admin.tap("⏭ 跳过")
    await admin.send("8")
    await admin.send("50")
    await admin.tap("✅ 算作实事")
    assert "也发布到全县团干部群「县团干部群」吗" in admin.last_reply().text
    await admin.tap("📣 同时发到全县团干部群")
    assert "发到全县团干部群：是" in latest(admin, "请确认活动信息")  # asked, so shown back
    await admin.tap("✅ 确认发布")
    assert "已发布到：城关镇志愿者群、县团干部群" in admin.last_reply().text
    activity = await harness.services.activities.by_code("A1")
    assert post_of(harness, activity, GROUP).button_labels()[0] == "报名 0/8"
    assert post_of(harness, activity, HUB).button_labels()[0] == "报名 0/8"


async def test_without_a_bound_group_the_activity_is_saved_and_the_organiser_told_how_to_bind(harness):
    services = harness.services
    harness.admin()
    org = await services.orgs.create(COUNTY_ADMIN_ID, "第二村团支部", OrgKind.VILLAGE_BRANCH, None)
    zhou = harness.user(ZHOU, "周", username="zhou")
    await zhou.send("/start")
    request = await services.membership.request_join(ZHOU, org.id)
    await services.membership.decide(COUNTY_ADMIN_ID, request.id, True)  # a cadre may create too

    await zhou.send("/newactivity")
    for text in ("走访留守儿童", "走访", "明天 15:00", "2小时", "第二村"):
        if text == "走访":
            await zhou.tap(text)
        else:
            await zhou.send(text)
    await zhou.tap("⏭ 跳过")
    await zhou.send("4")
    await zhou.send("10")
    await zhou.tap("不算")
    await zhou.tap("✅ 确认发布")
    assert "还没有绑定组织群" in zhou.last_reply().text and "/bind" in zhou.last_reply().text
    assert await services.activities.by_code("A1") is not None

    # Once the group is bound, the organiser posts it from /activities.
    await harness.group_with_bot(GROUP, "第二村群", admins=(COUNTY_ADMIN_ID,))
    await services.groups.bind_org(COUNTY_ADMIN_ID, GROUP, org.id, is_chat_admin=True)
    await zhou.send("/activities")
    assert "走访留守儿童" in zhou.last_reply().text
    # A cadre who created it organises it: they get the buttons, and the one to post it.
    await zhou.tap("📣 A1 发布到群")
    assert "已发布到：第二村群" in zhou.last_reply().text
    activity = await services.activities.by_code("A1")
    assert post_of(harness, activity).button_labels()[0] == "报名 0/4"
    await zhou.tap("📋 A1 签到表")
    assert "签到表" in zhou.last_reply().text and "还没有人签到" in zhou.last_reply().text


# ---- sign-up, waitlist, live count --------------------------------------------------------------
async def test_sign_up_fills_then_waitlist_and_withdrawal_promotes_with_a_private_message(harness):
    org, _li = await township(harness)
    activity = await arranged(harness, org, slots=2)
    wang = volunteer(harness, 400001, "小王")
    zhang = volunteer(harness, 400002, "小张")
    zhao = volunteer(harness, 400003, "小赵")
    assert post_of(harness, activity).button_labels()[0] == "报名 0/2"

    await sign_up(wang, harness, activity)
    assert wang.callback_answers[-1].startswith("报名成功")
    await sign_up(wang, harness, activity)
    assert "您已经报名了" in wang.callback_answers[-1]
    await sign_up(zhang, harness, activity)
    await sign_up(zhao, harness, activity)
    assert "候补第 1 位" in zhao.callback_answers[-1]
    await sign_up(zhao, harness, activity)
    assert "已经在候补名单上（第 1 位）" in zhao.callback_answers[-1]

    await flush_refreshes(harness.app)
    post = post_of(harness, activity)
    assert post.button_labels()[0] == "报名 2/2" and "候补 1 人" in post.text

    await withdraw(wang, harness, activity)
    assert wang.callback_answers[-1] == "已取消报名。"
    await withdraw(wang, harness, activity)
    assert "还没有报名" in wang.callback_answers[-1]
    promoted = zhao.last_reply()
    assert "递补成功" in promoted.text and "周六学业辅导" in promoted.text

    await flush_refreshes(harness.app)
    post = post_of(harness, activity)
    assert post.button_labels()[0] == "报名 2/2" and "候补 1 人" not in post.text
    roster = await harness.services.activities.roster(activity.id)
    assert roster.signed == (400002, 400003) and roster.waitlist == ()
    assert not_modified_errors(harness) == []


async def test_a_forged_sign_up_from_outside_the_activitys_group_is_refused(harness):
    """Sign-up buttons live on the group's post. The same tap forged in a private chat or in
    another group used to sign anyone up for any group's activity."""
    org, _li = await township(harness)
    activity = await arranged(harness, org, slots=5)
    outsider = harness.user(400009, "路人")
    other_group = -100555
    await harness.group_with_bot(other_group, "别的群", members=(400009,))
    tap = SignupTap(activity=activity.id, action="in").pack()
    await outsider.send("/start")
    for chat in (400009, other_group):
        await outsider.tap_data(tap, chat, forge=True)
        assert (
            outsider.callback_answers[-1]
            == "只能在发布这个活动的群里报名。请在您所在的志愿者群里点活动下面的「报名」按钮。"
        )
    assert (await harness.services.activities.roster(activity.id)).signed == ()
    assert "周六学业辅导" not in " ".join(outsider.callback_answers)  # nothing about the activity shown

    member = volunteer(harness, 400001, "小王")  # in the group: the post's button works
    await sign_up(member, harness, activity)
    assert member.callback_answers[-1].startswith("报名成功")
    zhou = harness.user(ZHOU, "周干事")  # the organisation's own cadre may, from anywhere
    await zhou.send("/start")
    await harness.services.membership.memberships.grant(org.id, ZHOU, Role.CADRE, COUNTY_ADMIN_ID, harness.clock.now())
    await zhou.tap_data(tap, forge=True)
    assert zhou.callback_answers[-1].startswith("报名成功")
    assert (await harness.services.activities.roster(activity.id)).signed == (400001, ZHOU)


async def test_thirty_quick_sign_ups_make_one_or_two_edits_not_thirty(harness):
    org, _li = await township(harness)
    activity = await arranged(harness, org, slots=40)
    edits_before = harness.fake.count_calls("editMessageText")
    for index in range(30):
        client = volunteer(harness, 410000 + index, f"志愿者{index}")
        await sign_up(client, harness, activity)
    await flush_refreshes(harness.app)
    edits = harness.fake.count_calls("editMessageText") - edits_before
    assert 1 <= edits <= 2
    assert post_of(harness, activity).button_labels()[0] == "报名 30/40"
    assert not_modified_errors(harness) == []
    # Nothing changed since: another flush edits nothing.
    await flush_refreshes(harness.app)
    assert harness.fake.count_calls("editMessageText") - edits_before == edits


async def test_sign_up_is_refused_after_cancellation_and_forged_buttons_are_refused(harness):
    org, _li = await township(harness)
    activity = await arranged(harness, org)
    wang = volunteer(harness, 400001, "小王")
    await wang.tap_data(SignupTap(activity=999, action="in").pack(), GROUP, forge=True)
    assert "找不到这个活动" in wang.callback_answers[-1]
    await wang.tap_data(f"as:{activity.id}:xx", GROUP, forge=True)
    assert "已过期" in wang.callback_answers[-1]
    await harness.services.activities.cancel(LI, activity.id)
    await wang.tap_data(SignupTap(activity=activity.id, action="in").pack(), GROUP, forge=True)
    assert "已取消" in wang.callback_answers[-1]
    assert (await harness.services.activities.roster(activity.id)).signed == ()


# ---- /activities, edit, cancel ------------------------------------------------------------------
async def test_activities_lists_upcoming_with_the_volunteers_own_status(harness):
    org, li = await township(harness)
    activity = await arranged(harness, org, slots=1)
    wang = volunteer(harness, 400001, "小王")
    zhang = volunteer(harness, 400002, "小张")
    await sign_up(wang, harness, activity)
    await sign_up(zhang, harness, activity)
    await wang.send("/activities")
    listing = wang.last_reply()
    assert "周六学业辅导" in listing.text and "A1" in listing.text and "您已报名" in listing.text
    assert listing.buttons() == []  # not an organiser: no organiser buttons
    await zhang.send("/activities")
    assert "您在候补第 1 位" in zhang.last_reply().text
    await li.send("/activities")
    assert li.last_reply().button_labels() == ["📋 A1 签到表", "✏️ 修改 A1", "❌ 取消 A1"]
    await flush_refreshes(harness.app)


async def test_edit_time_is_announced_and_reminders_follow(harness):
    org, li = await township(harness)
    activity = await arranged(harness, org)
    await li.send("/editactivity")
    assert "/editactivity A12" in li.last_reply().text
    await li.send("/editactivity a1")
    await li.tap("时间")
    await li.send("不知道")
    assert "看不懂开始时间" in li.last_reply().text
    await li.send("12-03 15:00")
    await li.send("3小时")
    assert "已修改活动" in li.last_reply().text
    notice = harness.fake.last_bot_message(GROUP).text
    assert "活动变更" in notice and "2026-12-03（周四）15:00–18:00" in notice
    edited = await harness.services.activities.get(activity.id)
    hour = await harness.services.reminders.reminders.by_subject(f"activity:{activity.id}:hour")
    assert hour.next_due_at == edited.starts_at - timedelta(hours=1)
    await flush_refreshes(harness.app)
    assert "2026-12-03（周四）15:00–18:00" in post_of(harness, activity).text
    assert not_modified_errors(harness) == []


async def test_edit_slots_up_promotes_and_below_signed_is_refused(harness):
    org, li = await township(harness)
    activity = await arranged(harness, org, slots=1)
    wang = volunteer(harness, 400001, "小王")
    zhang = volunteer(harness, 400002, "小张")
    await sign_up(wang, harness, activity)
    await sign_up(zhang, harness, activity)
    await li.send("/editactivity A1")
    await li.tap("志愿者名额")
    await li.send("0")
    assert "超出了范围" in li.last_reply().text and await step_of(harness, LI) == "ea:slots"
    await li.send("3")
    assert "递补成功" in zhang.last_reply().text
    assert "志愿者名额：3" in harness.fake.last_bot_message(GROUP).text
    await flush_refreshes(harness.app)
    assert post_of(harness, activity).button_labels()[0] == "报名 2/3"
    await li.send("/editactivity A1")
    await li.tap("志愿者名额")
    await li.send("1")
    assert "已经有 2 人报名" in li.last_reply().text


async def test_editing_the_title_to_the_same_value_changes_nothing(harness):
    org, li = await township(harness)
    await arranged(harness, org)
    before = len(harness.fake.bot_messages(GROUP))
    await li.send("/editactivity A1")
    await li.tap("名称")
    await li.send("周六学业辅导")
    assert "没有变化" in li.last_reply().text
    assert len(harness.fake.bot_messages(GROUP)) == before


async def test_only_organisers_edit_or_cancel(harness):
    org, _li = await township(harness)
    await arranged(harness, org)
    wang = volunteer(harness, 400001, "小王")
    await wang.send("/editactivity A1")
    assert "发起人" in wang.last_reply().text
    await wang.send("/cancelactivity A1")
    assert "发起人" in wang.last_reply().text
    await wang.send("/attendance A1")
    assert "发起人" in wang.last_reply().text
    await wang.send("/attendance A99")
    assert "没有编号为「A99」的活动" in wang.last_reply().text


async def test_cancel_is_confirmed_announced_and_the_post_loses_its_buttons(harness):
    org, li = await township(harness)
    activity = await arranged(harness, org)
    wang = volunteer(harness, 400001, "小王")
    await sign_up(wang, harness, activity)
    await li.send("/cancelactivity A1")
    assert "确定要取消这个活动吗" in li.last_reply().text and "已报名 1 人" in li.last_reply().text
    await li.tap("⚠️ 确认取消活动")
    assert "已取消活动" in li.last_reply().text
    assert "活动取消" in harness.fake.last_bot_message(GROUP).text
    await flush_refreshes(harness.app)
    post = post_of(harness, activity)
    assert post.buttons() == [] and "已取消的活动" in post.text
    assert await harness.services.reminders.reminders.by_subject(f"activity:{activity.id}:hour") is None
    assert await harness.services.reminders.reminders.by_subject(f"activity:{activity.id}:day") is None
    await li.send("/cancelactivity A1")
    assert "已取消" in li.last_reply().text
    assert not_modified_errors(harness) == []


# ---- the organiser's sheet ----------------------------------------------------------------------
async def test_organiser_corrects_marks_no_show_and_removes_with_reasons(harness):
    org, li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=20), slots=3)
    wang = volunteer(harness, 400001, "小王", username="wang")
    zhang = volunteer(harness, 400002, "小张", username="zhang")
    liu = volunteer(harness, 400003, "小刘", username="liu")
    for client in (wang, zhang):
        await sign_up(client, harness, activity)
    await liu.send("签到", GROUP)  # a walk-in
    harness.clock.advance(hours=2)  # 12:00 local; the activity runs 10:20–13:20

    await li.send("/attendance A1")
    sheet = li.last_reply()
    assert "小刘 — 10:00 签到，未签退" in sheet.text and "现场报名" in sheet.text
    assert "已报名未签到：小王、小张" in sheet.text
    assert "🚫 小王 缺席" in sheet.button_labels()

    await li.tap("🚫 小张 缺席")
    assert li.callback_answers[-1] == "已标记为缺席。"
    assert "小张 — 🚫 缺席" in li.last_reply().text

    await li.tap("✏️ 补录/更正")
    assert "@用户名 签到时间 签退时间 原因" in li.last_reply().text
    await li.send("@wang 10:25")
    assert "格式不对" in li.last_reply().text and await step_of(harness, LI) == "at:fix"
    await li.send("@wang 25:00 11:30 忘记签到")
    assert "不是时间" in li.last_reply().text
    await li.send("@nobody 10:25 11:30 忘记签到")
    assert "找不到 @nobody" in li.last_reply().text
    await li.send("@wang 10:25 11:40 手机没电没签上")
    sheet = li.last_reply().text
    assert "已更新 小王 的签到记录" in sheet
    assert "小王 — 10:25 签到，11:40 签退，计 1 小时 15 分" in sheet

    await li.tap("➖ 移除记录")
    await li.send("@liu")
    assert "格式不对" in li.last_reply().text
    await li.send("@liu 误签到，本人未参加")
    assert "已移除 小刘 的签到记录" in li.last_reply().text
    lines = [line.user_id for line in await harness.services.attendance.sheet(activity.id)]
    assert 400003 not in lines
    await flush_refreshes(harness.app)


async def test_a_long_sheet_says_how_to_see_the_rest_and_turns_its_pages(harness, monkeypatch):
    monkeypatch.setattr("handlers.activities.sheet.SHEET_BUDGET", 90)  # two lines a page
    org, li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=20), slots=5)
    for index in range(5):
        await volunteer(harness, 400001 + index, f"志愿者{index}").send("签到", GROUP)
    harness.clock.advance(hours=1)

    await li.send(f"/attendance {activity.code}")
    sheet = li.last_reply()
    assert "1. 志愿者0" in sheet.text and "2. 志愿者1" in sheet.text and "3. 志愿者2" not in sheet.text
    assert "第 1/3 页，后面还有 3 条：点「下一页 ▶」翻页查看，或发送 /export 导出含全部记录的表格。" in sheet.text
    assert "下一页 ▶" in sheet.button_labels() and "◀ 上一页" not in sheet.button_labels()
    await li.tap("下一页 ▶")
    sheet = li.last_reply()
    assert "3. 志愿者2" in sheet.text and "1. 志愿者0" not in sheet.text and "第 2/3 页，后面还有 1 条" in sheet.text
    assert sheet.button_labels()[:2] == ["◀ 上一页", "下一页 ▶"]
    await li.tap("下一页 ▶")
    sheet = li.last_reply()
    assert "5. 志愿者4" in sheet.text and "第 3/3 页，是最后一页" in sheet.text
    assert "下一页 ▶" not in sheet.button_labels()
    await li.tap("◀ 上一页")
    assert "3. 志愿者2" in li.last_reply().text
    assert not_modified_errors(harness) == []


async def test_hours_read_the_same_in_the_summary_and_in_stats(harness):
    org, li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=20), hours=2)
    wang = volunteer(harness, 400001, "小王")
    harness.clock.advance(minutes=20)
    await wang.send("签到", GROUP)
    harness.clock.advance(hours=1, minutes=15)
    await wang.send("签退", GROUP)
    harness.clock.advance(hours=2)
    assert await send_due_summaries(harness.app) == 1
    summary = harness.fake.last_bot_message(GROUP).text
    assert "服务时长共 1 小时 15 分" in summary
    await li.send("/stats")
    stats = li.last_reply().text
    assert "服务时长 1 小时 15 分" in stats and not re.search(r"\d\.\d+ 小时", stats)  # not "1.2 小时"
    await li.send(f"/attendance {activity.code}")
    assert "合计 1 小时 15 分" in li.last_reply().text


# ---- after the end ------------------------------------------------------------------------------
async def test_summary_goes_to_the_group_once_and_the_organiser_confirms_the_number_served(harness):
    org, li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=20), hours=2, slots=3, expected=30)
    wang = volunteer(harness, 400001, "小王")
    zhang = volunteer(harness, 400002, "小张")
    await harness.services.people.people.set_private_details(400001, "王小明", "13800000000")
    await sign_up(wang, harness, activity)
    await wang.send("签到", GROUP)
    await zhang.send("签到", GROUP)
    harness.clock.advance(hours=2, minutes=25)  # ended 5 minutes ago: check-out still open
    assert await send_due_summaries(harness.app) == 0
    harness.clock.advance(minutes=30)
    assert await send_due_summaries(harness.app) == 1
    assert await send_due_summaries(harness.app) == 0

    summary = harness.fake.last_bot_message(GROUP).text
    assert "活动小结" in summary
    assert "参加志愿者 2 人，服务时长共 4 小时，服务对象 30 人次" in summary
    await flush_refreshes(harness.app)
    assert post_of(harness, activity).buttons() == []  # finished: no more sign-ups

    ask = li.last_reply()
    assert "请确认实际服务了多少人" in ask.text and "✅ 确认 30 人" in ask.button_labels()
    assert "发送 /deed 可一键登记" in ask.text  # it was marked as a practical deed
    await li.tap("✏️ 输入其他人数")
    await li.send("很多")
    assert "不是数字" in li.last_reply().text
    await li.send("约28人")
    assert "服务 28 人" in li.last_reply().text
    assert (await harness.services.activities.get(activity.id)).served_confirmed == 28
    await li.tap("✅ 确认 30 人")
    assert (await harness.services.activities.get(activity.id)).served_confirmed == 30

    # Privacy: nothing the bot wrote in the group carries a real name or phone.
    for message in harness.fake.bot_messages(GROUP):
        assert "王小明" not in (message.text or "") and "13800000000" not in (message.text or "")
    assert not_modified_errors(harness) == []


async def test_only_the_organiser_may_confirm_served(harness):
    org, _li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=20), hours=1)
    harness.clock.advance(hours=2)
    await send_due_summaries(harness.app)
    wang = volunteer(harness, 400001, "小王")
    await wang.tap_data(f"sv:{activity.id}:ok", message_id=1, forge=True)
    assert "发起人" in wang.callback_answers[-1]
    assert (await harness.services.activities.get(activity.id)).served_confirmed is None
    await flush_refreshes(harness.app)


async def test_me_shows_this_years_activities_hours_and_person_times(harness):
    org, _li = await township(harness)
    first = await arranged(harness, org, starts_in=timedelta(minutes=20), hours=2, title="学业辅导")
    wang = volunteer(harness, 400001, "小王")
    await wang.send("/me")
    assert "还没有志愿服务记录" in wang.last_reply().text
    await wang.send("签到", GROUP)
    harness.clock.advance(hours=1, minutes=50)
    await wang.send("签退", GROUP)
    harness.clock.advance(hours=1, minutes=10)  # the first one's check-out has closed
    second = await arranged(harness, org, starts_in=timedelta(minutes=10), hours=1, title="敬老院探访")
    await wang.send("签到", GROUP)
    harness.clock.advance(hours=2)
    await wang.send("/me")
    me = wang.last_reply().text
    assert "2026 年我的志愿服务" in me
    assert "参加活动 2 次（2 人次），服务时长共 2 小时 30 分" in me
    assert f"学业辅导（{first.code}）— 1 小时 30 分" in me
    assert f"敬老院探访（{second.code}）— 1 小时" in me
    await wang.send("/me", GROUP)
    assert "私聊" in harness.fake.last_bot_message(GROUP).text


async def test_the_summary_job_is_one_named_repeating_job(harness):
    start_activity_jobs(harness.app)
    start_activity_jobs(harness.app)  # called again (a restart of the wiring)
    [job] = harness.app.job_queue.get_jobs_by_name("activities:summaries")
    assert job.job.trigger.interval.total_seconds() == 60


def test_long_lists_are_cut_to_fit_one_message_with_a_note():
    from handlers.activities import fit
    from handlers.i18n import Translator

    lines = [f"{index}. 志愿者{index} — 10:00 签到，12:00 签退，计 2 小时" for index in range(300)]
    kept = fit(Translator("zh-Hans"), lines, 2500)
    assert sum(len(line) + 1 for line in kept) < 2600
    assert kept[-1] == f"……还有 {300 - len(kept) + 1} 条没有列出。"
    assert fit(Translator("zh-Hans"), lines[:3], 2500) == lines[:3]
