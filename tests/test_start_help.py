"""First contact: /start, role-aware /help, /lang, /cancel, and unexpected input."""

from __future__ import annotations

from bot.model.organisation import OrgKind
from tests.harness import COUNTY_ADMIN_ID, FakeClock, Harness
from tests.harness import test_config as config_for


async def test_start_explains_itself_and_gives_the_user_id_only_to_county_admins(harness):
    wang = harness.user(400001, "小王")
    await wang.send("/start")
    texts = wang.transcript()
    assert "我是团县委的工作助手" in texts[-2]
    assert "400001" not in texts[-2] and "用户 ID" not in texts[-2]  # a volunteer has no use for it
    assert "发送 /join 申请加入" in texts[-1]
    admin = harness.admin()
    await admin.send("/start")
    welcome = admin.transcript()[-2]
    assert "我是团县委的工作助手" in welcome and f"用户 ID 是 {COUNTY_ADMIN_ID}（配置团县委管理员时需要它）" in welcome


async def test_on_a_fresh_install_start_gives_the_id_needed_to_become_county_admin(tmp_path, fake):
    harness = Harness(config_for(tmp_path, county_admins=()), fake, FakeClock())
    await harness.start()
    try:
        first = harness.user(400001, "小王")
        await first.send("/start")
        welcome = first.transcript()[-2]
        assert "我是团县委的工作助手" in welcome and "用户 ID 是 400001（配置团县委管理员时需要它）" in welcome
    finally:
        await harness.stop()
    assert harness.errors == []


async def test_help_depends_on_role(harness):
    wang = harness.user(400001, "小王")
    await wang.send("/help")
    volunteer_help = wang.last_reply().text
    assert "/join" in volunteer_help and "例：" in volunteer_help
    assert "/neworg" not in volunteer_help and "/handover" not in volunteer_help
    admin = harness.admin()
    await admin.send("/help")
    admin_help = admin.last_reply().text
    for command in ("/neworg", "/importorgs", "/promote", "/members", "/handover", "/join"):
        assert command in admin_help


async def test_help_in_english_for_english_users(harness):
    tom = harness.user(400002, "Tom", language_code="en")
    await tom.send("/help")
    assert "Commands" in tom.last_reply().text and "e.g." in tom.last_reply().text


async def test_lang_switches_and_sticks(harness):
    wang = harness.user(400001, "小王")
    await wang.send("/lang")
    await wang.tap("English")
    assert wang.last_reply().text == "OK, I'll talk to you in English from now on."
    await wang.send("/cancel")
    assert wang.last_reply().text.startswith("Nothing is in progress")


async def test_cancel_ends_a_conversation(harness):
    harness.admin()
    await harness.services.orgs.create(COUNTY_ADMIN_ID, "城关镇团委", OrgKind.TOWNSHIP, None)
    wang = harness.user(400001, "小王")
    await wang.send("/join")
    await wang.send("/cancel")
    assert wang.last_reply().text.startswith("已取消")
    await wang.send("城关")
    assert "我没有在等待输入" in wang.last_reply().text


async def test_unknown_command_and_stray_text(harness):
    wang = harness.user(400001, "小王")
    await wang.send("/frobnicate")
    assert "没有这个命令" in wang.last_reply().text
    await wang.send("你好")
    assert "/help" in wang.last_reply().text


async def test_private_only_command_in_a_group_links_to_private_chat(harness):
    harness.admin()
    await harness.group_with_bot(-5005, "某群", admins=(COUNTY_ADMIN_ID,))
    wang = harness.user(400001, "小王")
    harness.fake.add_member(-5005, wang.user_id)
    await wang.send("/neworg", -5005)
    reply = harness.fake.last_bot_message(-5005)
    assert "私聊" in reply.text
    assert reply.buttons()[0][1].startswith("https://t.me/league_test_bot?start=")


async def test_command_menus_are_set_in_both_languages(harness):
    from bot.runtime.application import set_command_menus

    # The running bot sets them from a job that retries (tests/test_drills.py starts it for real).
    await set_command_menus(harness.app)
    zh = harness.fake.commands(scope={"type": "all_private_chats"}, language_code="zh")
    en = harness.fake.commands(scope={"type": "all_private_chats"}, language_code="en")
    assert {"command": "join", "description": "申请加入团组织"} in zh
    assert {"command": "join", "description": "Apply to join a league organisation"} in en
    groups = harness.fake.commands(scope={"type": "all_group_chats"}, language_code="zh")
    assert any(c["command"] == "bind" for c in groups)
    assert not any(c["command"] == "neworg" for c in groups)


async def test_forged_button_data_is_answered_not_crashed(harness):
    wang = harness.user(400001, "小王")
    await wang.send("/lang")
    message = wang.last_reply()
    for data in ("lang:fr", "jd:1:a", "zz:1", "cv:jn:org:999"):
        await harness.deliver(harness.fake.user_taps(wang.user_id, wang.user_id, message.message_id, data, forge=True))
    answers = [answer["text"] for answer in harness.fake.callback_answers]
    expired = "这个按钮已过期或无效。请重新发送命令开始。"
    assert answers == [expired, "找不到这条申请，可能已被撤回。", expired, expired]
    assert harness.fake.unanswered_callback_queries() == []
