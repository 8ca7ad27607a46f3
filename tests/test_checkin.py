"""Check-in and check-out in the group: a 👍 on success, a short reply only for a problem."""

from __future__ import annotations

from datetime import timedelta

from bot.model.activity import Place
from tests.test_activities import GROUP, arranged, sign_up, township, volunteer

# 第一村村委会 and points around it; 0.001° of latitude is about 111 m.
SITE = (25.0400, 117.4800)
NEAR = (25.0408, 117.4800)  # ~89 m
FAR = (25.0500, 117.4800)  # ~1112 m


def bot_replies(harness) -> list[str]:
    """What the bot wrote in the group after its welcome and the activity posts."""
    return [
        m.text
        for m in harness.fake.bot_messages(GROUP)
        if "志愿服务活动" not in (m.text or "") and "/bind" not in (m.text or "")
    ]


async def sheet(harness, activity) -> dict[int, object]:
    return {line.user_id: line for line in await harness.services.attendance.sheet(activity.id)}


async def test_checkin_by_text_is_a_reaction_and_a_repeat_counts_once(harness):
    org, _li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=20))
    wang = volunteer(harness, 400001, "小王")
    await sign_up(wang, harness, activity)

    first = await wang.send("签到", GROUP)
    again = await wang.send(" 签到 ", GROUP)
    assert first.reactions == ["👍"] and again.reactions == ["👍"]
    assert bot_replies(harness) == []  # no replies: the group is not flooded
    lines = await sheet(harness, activity)
    assert list(lines) == [400001] and not lines[400001].walk_in
    assert lines[400001].checked_in_at == harness.clock.now()


async def test_a_user_never_seen_before_checks_in_as_a_walk_in(harness):
    org, li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=5))
    stranger = volunteer(harness, 400009, "路过的志愿者")
    message = await stranger.send("签到", GROUP)
    assert message.reactions == ["👍"]
    assert (await sheet(harness, activity))[400009].walk_in
    await li.send(f"/attendance {activity.code}")
    assert "路过的志愿者 — 10:00 签到，未签退" in li.last_reply().text and "现场报名" in li.last_reply().text


async def test_checkin_command_works_in_privacy_mode_and_checkout_too(harness):
    org, _li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=10), hours=2)
    wang = volunteer(harness, 400001, "小王")
    command = await wang.send("/checkin", GROUP)
    assert command.reactions == ["👍"]
    early = await wang.send("/checkout", GROUP)  # checking out is allowed any time it is open
    assert early.reactions == ["👍"]
    again = await wang.send("签退", GROUP)
    assert again.reactions == ["👍"]
    line = (await sheet(harness, activity))[400001]
    assert line.checked_out_at == harness.clock.now() and line.credited_minutes == 0
    assert bot_replies(harness) == []
    await wang.send("/checkin")
    assert "签到和签退请在活动所在的群里发送" in wang.last_reply().text


async def test_checkout_without_checkin_is_explained(harness):
    org, _li = await township(harness)
    await arranged(harness, org, starts_in=timedelta(minutes=10))
    wang = volunteer(harness, 400001, "小王")
    message = await wang.send("签退", GROUP)
    reply = harness.fake.last_bot_message(GROUP)
    assert reply.reply_to_message_id == message.message_id
    assert "您还没有签到，不能签退" in reply.text


async def test_two_open_activities_need_a_code_and_the_reply_lists_both(harness):
    org, _li = await township(harness)
    first = await arranged(harness, org, starts_in=timedelta(minutes=10), title="学业辅导")
    second = await arranged(harness, org, starts_in=timedelta(minutes=15), title="心理咨询")
    wang = volunteer(harness, 400001, "小王")
    message = await wang.send("签到", GROUP)
    reply = harness.fake.last_bot_message(GROUP)
    assert reply.reply_to_message_id == message.message_id and message.reactions == []
    assert f"签到 {first.code} 或 签到 {second.code}" in reply.text
    assert f"{first.code} 学业辅导" in reply.text and f"{second.code} 心理咨询" in reply.text
    chosen = await wang.send(f"签到　{second.code.lower()}", GROUP)  # full-width space, lower case
    assert chosen.reactions == ["👍"]
    assert list(await sheet(harness, second)) == [400001] and await sheet(harness, first) == {}
    unknown = await wang.send("签到 A99", GROUP)
    assert unknown.reactions == []
    assert "本群没有编号为 A99 的活动" in harness.fake.last_bot_message(GROUP).text
    # Checking out of the only one they are in needs no code.
    out = await wang.send("签退", GROUP)
    assert out.reactions == ["👍"]


async def test_a_wave_hitting_the_same_problem_gets_one_answer_and_eyes_for_the_rest(harness):
    org, _li = await township(harness)
    await arranged(harness, org, starts_in=timedelta(minutes=10), title="学业辅导")
    await arranged(harness, org, starts_in=timedelta(minutes=15), title="心理咨询")
    clients = [volunteer(harness, 400001 + index, f"志愿者{index}") for index in range(4)]
    before = len(harness.fake.bot_messages(GROUP))
    messages = [await client.send("签到", GROUP) for client in clients[:3]]
    assert len(harness.fake.bot_messages(GROUP)) == before + 1
    assert [message.reactions for message in messages] == [[], ["👀"], ["👀"]]
    harness.clock.advance(minutes=2)  # a while later the answer is repeated
    late = await clients[3].send("签到", GROUP)
    assert late.reactions == [] and len(harness.fake.bot_messages(GROUP)) == before + 2


async def test_outside_the_window_the_reply_says_when_it_opens_or_that_it_closed(harness):
    org, _li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(hours=2), hours=1)  # 12:00–13:00
    wang = volunteer(harness, 400001, "小王")
    await wang.send("签到", GROUP)
    assert "签到 今天 11:30 开始" in harness.fake.last_bot_message(GROUP).text
    harness.clock.advance(hours=3, minutes=31)  # 13:31: closed at 13:30
    await wang.send("签到", GROUP)
    assert "的签到已经结束" in harness.fake.last_bot_message(GROUP).text
    assert await sheet(harness, activity) == {}
    harness.clock.advance(days=2)
    await wang.send("签到", GROUP)
    assert "本群现在没有可以签到的活动。签到在活动开始前 30 分钟开放" in harness.fake.last_bot_message(GROUP).text


async def test_location_inside_the_radius_checks_in_and_outside_says_how_far(harness):
    org, _li = await township(harness)
    activity = await arranged(
        harness, org, starts_in=timedelta(minutes=10), place=Place("第一村村委会", SITE[0], SITE[1], 300)
    )
    wang = volunteer(harness, 400001, "小王")
    zhang = volunteer(harness, 400002, "小张")
    far = await zhang.send_location(*FAR, chat_id=GROUP)
    reply = harness.fake.last_bot_message(GROUP)
    assert far.reactions == [] and reply.reply_to_message_id == far.message_id
    assert "约 1112 米，超出了 300 米的签到范围" in reply.text
    near = await wang.send_location(*NEAR, chat_id=GROUP)
    assert near.reactions == ["👍"]
    assert (await sheet(harness, activity))[400001].checked_in_at is not None
    assert 400002 not in await sheet(harness, activity)


async def test_a_location_with_nothing_open_gets_no_reply(harness):
    org, _li = await township(harness)
    await arranged(harness, org, starts_in=timedelta(days=2))
    wang = volunteer(harness, 400001, "小王")
    before = len(harness.fake.bot_messages(GROUP))
    await wang.send_location(*SITE, chat_id=GROUP)
    assert len(harness.fake.bot_messages(GROUP)) == before


async def test_location_for_an_activity_without_a_place_on_the_map_asks_for_text(harness):
    org, _li = await township(harness)
    await arranged(harness, org, starts_in=timedelta(minutes=10))
    wang = volunteer(harness, 400001, "小王")
    await wang.send_location(*SITE, chat_id=GROUP)
    assert "没有设置签到位置，请直接发送「签到」" in harness.fake.last_bot_message(GROUP).text


async def test_anonymous_admin_is_asked_to_use_their_own_account(harness):
    org, li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=10))
    message = await li.send("签到", GROUP, as_group=True)
    assert message.reactions == []
    assert "匿名管理员" in harness.fake.last_bot_message(GROUP).text
    assert await sheet(harness, activity) == {}


async def test_plain_chat_that_merely_mentions_checkin_is_ignored(harness):
    org, _li = await township(harness)
    await arranged(harness, org, starts_in=timedelta(minutes=10))
    wang = volunteer(harness, 400001, "小王")
    before = len(harness.fake.bot_messages(GROUP))
    for text in ("大家记得签到哦", "签到了吗", "签到 明天"):
        message = await wang.send(text, GROUP)
        assert message.reactions == []
    assert len(harness.fake.bot_messages(GROUP)) == before


async def test_replies_in_the_group_never_show_real_names_or_phones(harness):
    org, _li = await township(harness)
    first = await arranged(harness, org, starts_in=timedelta(minutes=10), title="学业辅导")
    await arranged(harness, org, starts_in=timedelta(minutes=10), title="心理咨询")
    wang = volunteer(harness, 400001, "小王")
    await harness.services.people.people.set_private_details(400001, "王小明", "13800000000")
    await wang.send("签到", GROUP)
    await wang.send("签退", GROUP)
    await wang.send(f"签到 {first.code}", GROUP)
    replies = bot_replies(harness)
    assert len(replies) == 2  # the ambiguous 签到 and the 签退 before any 签到
    for text in replies:
        assert "王小明" not in text and "13800000000" not in text


def test_every_outcome_that_is_not_a_success_has_the_groups_answer_in_both_languages():
    """The group's reply is the catalog entry named by the outcome (`checkin.<outcome>`)."""
    from bot.domain.attendance import CheckInOutcome, CheckInResult, CheckOutOutcome, CheckOutResult
    from handlers.i18n import catalog

    problems = [outcome for outcome in CheckInOutcome if not CheckInResult(outcome).done]
    problems += [outcome for outcome in CheckOutOutcome if not CheckOutResult(outcome).done]
    assert {str(outcome) for outcome in problems} == {
        "not_open",
        "closed",
        "ambiguous",
        "none_open",
        "outside_radius",
        "unknown_code",
        "no_location",
        "not_checked_in",
    }
    for language in ("zh-Hans", "en"):
        for outcome in problems:
            assert catalog(language)[f"checkin.{outcome}"]
