"""Forged and mangled input through the real bot: every out-of-range number, id or date gets a
clear answer (or the expired-button notice), never the generic apology. The harness fails a test
on any exception that reaches the error handler other than a rule's refusal."""

from __future__ import annotations

import pytest

from handlers.reports import ChartsButton, ExportButton, PickOrgButton
from tests.fuzz_world import ADMIN, DONOR, TEACHER, running_world
from tests.harness import COUNTY_ADMIN_ID
from tests.test_activities import LI, step_of, township

BAD_LINK = "这个链接无效：链接末尾的编号须是 1 到 9007199254740991 之间的整数"
EXPIRED = "这个按钮已过期或无效。请重新发送命令开始。"
BIND_REFUSED = "这个绑定链接只有团县委管理员"
HUB = -1001
OUTSIDER = 300009


@pytest.mark.parametrize(
    "payload",
    [
        "join_99999999999999999999",
        "join_²",
        "join_0",
        "auc_99999999999999999999",
        "auc_-3",
        "bind_-99999999999999999999",
        "bind_",
        "bind_-٣",
    ],
)
async def test_a_mangled_deep_link_is_answered_clearly(harness, payload):
    someone = harness.user(OUTSIDER, "路人")
    await someone.send(f"/start {payload}")
    assert BAD_LINK in someone.last_reply().text


async def test_a_bind_link_shows_nothing_about_the_group_to_someone_who_may_not_bind(harness):
    admin = harness.admin()
    await harness.group_with_bot(HUB, "县团干部机密群", admins=(COUNTY_ADMIN_ID,))
    someone = harness.user(OUTSIDER, "路人")
    await someone.send(f"/start bind_{HUB}")
    refusal = someone.last_reply()
    assert BIND_REFUSED in refusal.text and "县团干部机密群" not in refusal.text
    assert refusal.button_labels() == []
    await someone.send("/start bind_-100555")  # a group the bot does not know: the same answer
    assert someone.last_reply().text == refusal.text
    assert await harness.services.conversations.get(OUTSIDER) is None
    await admin.send(f"/start bind_{HUB}")  # a county admin still gets the picker
    assert "县团干部机密群" in admin.last_reply().text


async def test_a_group_admin_who_runs_an_organisation_still_gets_the_picker(harness):
    _org, li = await township(harness)
    other = -2003
    await harness.group_with_bot(other, "城关镇二群", admins=(LI,))
    await li.send(f"/start bind_{other}")
    assert "城关镇二群" in li.last_reply().text and "城关镇团委" in li.last_reply().button_labels()


@pytest.mark.parametrize(
    "data",
    [
        ChartsButton(org=0, start="00010101", end="20261231").pack(),
        ExportButton(org=0, start="20260101", end="99991231").pack(),
        PickOrgButton(start="00010101", end="99991231").pack(),
        PickOrgButton(start="20261231", end="20260101").pack(),
        "rpc:99999999999999999999:20260101:20261231",
        "rpc:²:20260101:20261231",
        "rpo:２０２６0101:20261231",
        "cv:jn:org:99999999999999999999",
        "cv:jn:org:p99999999999999999999",
    ],
)
async def test_forged_buttons_with_huge_numbers_or_impossible_dates_are_expired(harness, data):
    admin = harness.admin()
    await admin.send("/start")
    message = admin.last_reply()
    await harness.deliver(
        harness.fake.user_taps(COUNTY_ADMIN_ID, COUNTY_ADMIN_ID, message.message_id, data, forge=True)
    )
    assert harness.fake.callback_answers[-1]["text"] == EXPIRED


async def test_a_forged_page_or_choice_inside_a_conversation_is_expired(harness):
    await township(harness)
    someone = harness.user(OUTSIDER, "路人")
    await someone.send("/join")
    picker = someone.last_reply()
    for value in ("99999999999999999999", "p99999999999999999999", "p1"):
        await harness.deliver(
            harness.fake.user_taps(OUTSIDER, OUTSIDER, picker.message_id, f"cv:jn:org:{value}", forge=True)
        )
    assert await step_of(harness, OUTSIDER) == "jn:org"  # still at the picker


async def test_an_activity_in_the_year_9999_is_refused_at_the_step(harness):
    _org, li = await township(harness)
    await li.send("/newactivity")
    await li.send("周六学业辅导")
    await li.tap("学业辅导")
    step = await step_of(harness, LI)
    await li.send("9999-12-31 22:00")
    assert "日期 9999-12-31 超出范围：只能使用 2000-01-01 到 2100-12-31 之间的日期" in li.last_reply().text
    assert await step_of(harness, LI) == step
    await li.send("明天 14:00")
    assert "2026-11-27 14:00" in li.last_reply().text


async def test_typed_ids_years_and_dates_outside_the_range(harness):
    admin = harness.admin()
    await admin.send("/promote 99999999999999999999")
    assert "不是有效的编号：编号是 1 到 9007199254740991 之间的整数" in admin.last_reply().text
    await admin.send("/promote ²")
    assert "不是有效的编号" in admin.last_reply().text
    await admin.send("/deeds 9999")
    assert "「9999」不是有效的年份：请写 2000 到 2100 之间的四位数年份" in admin.last_reply().text
    await admin.send("/stats 0001")
    assert "0001" in admin.last_reply().text
    await admin.send("/stats 9999-12-01..9999-12-31")
    assert "9999" in admin.last_reply().text


async def test_a_reminder_for_9999_12_31_is_refused_where_the_date_is_typed(harness):
    """It used to be taken, then failed with OverflowError once its text was typed (quiet hours
    moved the moment past the year 9999): the generic apology, and the conversation stuck."""
    _org, li = await township(harness)
    await li.send("/remind")
    await li.tap("城关镇团委")
    for typed in ("9999-12-31 23:59", "2101-01-01 09:00", "0001-01-01 09:00"):
        await li.send(typed)
        assert "超出范围：只能使用 2000-01-01 到 2100-12-31 之间的日期，例如 2026-11-27" in li.last_reply().text, typed
        assert await step_of(harness, LI) == "rd:when"
    await li.send("2100-12-31 23:59")  # the last day in range is fine
    assert await step_of(harness, LI) == "rd:text"
    await li.send("请按时提交周报")
    assert await step_of(harness, LI) == "rd:confirm"


async def test_an_activity_lasting_99999999999999999999_hours_is_refused_at_the_step(harness):
    """`timedelta(hours=1e20)` raised OverflowError: the generic apology."""
    _org, li = await township(harness)
    await li.send("/newactivity")
    await li.send("周六学业辅导")
    await li.tap("学业辅导")
    await li.send("明天 14:00")
    for typed in ("99999999999999999999小时", "1" + "0" * 400 + "h", "99999999999小时"):
        await li.send(typed)
        assert "超出范围：时长须在 1 分钟到 168 小时之间，例如 3小时 或 90分钟" in li.last_reply().text
        assert await step_of(harness, LI) == "na:end"
    await li.send("3小时")
    assert await step_of(harness, LI) == "na:place"


def test_forged_filters_and_wish_ids_with_huge_numbers_are_expired(tmp_path):
    """Auction filters (`o<organisation>`, `v<band>`) and the wish list's `w<wish>` reached SQLite
    as integers of 2^63 and more (OverflowError); "²" passed `isdigit`."""
    with running_world(tmp_path) as world:
        for data in ("ab:1:l:o99999999999999999999:0", "ab:1:l:v99999999999999999999:0", "ab:1:c:o²:0"):
            assert world.run(world.tap(DONOR, DONOR, data)) == []
            assert world.fake.callback_answers[-1]["text"] == EXPIRED
        assert world.run(world.send(ADMIN, "/wishes")) == []
        for value in ("w99999999999999999999", "w9007199254740992", "sc-c99999999999999999999"):
            assert world.run(world.tap(ADMIN, ADMIN, f"cv:wl:list:{value}")) == []
            assert world.fake.callback_answers[-1]["text"] in (EXPIRED, None)
        assert "W9007199254740992" not in (world.fake.last_bot_message(ADMIN).text or "")


def test_a_wish_valued_at_1e999999999_yuan_is_out_of_range_at_once(tmp_path):
    with running_world(tmp_path) as world:
        for text in ("/newwish", "小明", "三年级", "一个篮球"):
            world.run(world.send(TEACHER, text))
        world.run(world.client(TEACHER).tap("体育用品"))
        assert world.run(world.send(TEACHER, "1e999999999")) == []
        answer = world.fake.last_bot_message(TEACHER).text
        assert "估价 1e999999999 元超出范围：必须是 1～2000 之间的整数（元）" in answer
