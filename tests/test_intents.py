"""Plain text with no conversation open: the common intents point to the right command or button."""

from __future__ import annotations

import pytest

from handlers.intents import Intent, recognise
from tests.harness import COUNTY_ADMIN_ID


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("认领心愿", Intent.CLAIM),
        ("我想认领一个心愿", Intent.CLAIM),
        ("我要签到", Intent.CHECK_IN),
        ("签退", Intent.CHECK_IN),
        ("报名", Intent.SIGN_UP),
        ("怎么用？", Intent.HELP),
        ("Help!", Intent.HELP),
        ("I want to claim a wish", Intent.CLAIM),
        ("你好", None),
        ("", None),
        ("签到" * 30, None),  # a long message is not a request for a command
    ],
)
def test_recognises_what_cadres_type(text, intent):
    assert recognise(text) is intent


async def test_private_check_in_points_to_the_group(harness):
    wang = harness.user(400001, "小王")
    await wang.send("我要签到")
    reply = wang.last_reply().text
    assert "群里发送「签到」" in reply and "/activities" in reply


async def test_claim_without_a_live_session_says_so(harness):
    wang = harness.user(400001, "小王")
    await wang.send("认领心愿")
    assert "没有进行中的认领会" in wang.last_reply().text


async def test_unclear_text_lists_three_commands_for_the_role(harness):
    wang = harness.user(400001, "小王")
    await wang.send("你好")
    volunteer = wang.last_reply().text
    assert "/activities" in volunteer and "/join" in volunteer and "/me" in volunteer
    admin = harness.user(COUNTY_ADMIN_ID, "管理员")
    await admin.send("你好")
    county = admin.last_reply().text
    assert "/stats" in county and "/newauction" in county and "/orgs" in county


async def test_english_reader_gets_english(harness):
    tom = harness.user(400002, "Tom", language_code="en")
    await tom.send("how do I sign up?")
    assert "Sign up" in tom.last_reply().text
