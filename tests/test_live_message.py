"""Live messages: many refresh requests become few edits, and never an identical one."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.live_message import LiveMessages
from tests.harness import COUNTY_ADMIN_ID

GROUP = -3003


def counter_markup(count: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"报名 {count}/20", callback_data="x:1")]])


async def posted(harness) -> int:
    harness.admin()
    await harness.group_with_bot(GROUP, "活动群", admins=(COUNTY_ADMIN_ID,))
    message = await harness.app.bot.send_message(GROUP, "学业辅导", reply_markup=counter_markup(0))
    return message.message_id


async def test_a_burst_of_refreshes_becomes_one_edit_showing_the_last_state(harness):
    message_id = await posted(harness)
    live = LiveMessages(harness.app, delay=0.05, min_interval=0.2)
    state = {"count": 0}

    async def render():
        return GROUP, message_id, "学业辅导", counter_markup(state["count"])

    for count in range(1, 31):
        state["count"] = count
        live.request("activity:1", render)
    await asyncio.sleep(0.3)
    assert harness.fake.count_calls("editMessageText") == 1
    assert harness.fake.messages(GROUP)[-1].button_labels() == ["报名 30/20"]


async def test_unchanged_content_is_never_sent_again(harness):
    message_id = await posted(harness)
    live = LiveMessages(harness.app, delay=0.01, min_interval=0.0)

    async def render():
        return GROUP, message_id, "学业辅导", counter_markup(0)

    live.request("activity:1", render)
    await live.flush()
    live.request("activity:1", render)
    await live.flush()
    # The first refresh hit identical content (Telegram says "not modified"); none after it.
    assert harness.fake.count_calls("editMessageText") == 1


async def test_edits_in_one_chat_keep_their_distance(harness):
    message_id = await posted(harness)
    live = LiveMessages(harness.app, delay=0.01, min_interval=0.3)
    state = {"count": 0}

    async def render():
        return GROUP, message_id, "学业辅导", counter_markup(state["count"])

    loop = asyncio.get_running_loop()
    stamps = []
    for count in (1, 2, 3):
        state["count"] = count
        live.request("activity:1", render)
        await asyncio.sleep(0.05)
        while "activity:1" in live._timers:
            await asyncio.sleep(0.01)
        stamps.append(loop.time())
    assert harness.fake.count_calls("editMessageText") == 3
    assert stamps[1] - stamps[0] >= 0.25 and stamps[2] - stamps[1] >= 0.25


async def test_a_request_during_an_edit_is_served_and_shows_the_newest_state(harness):
    message_id = await posted(harness)
    live = LiveMessages(harness.app, delay=0.01, min_interval=0.2)
    state = {"count": 1}

    async def render():
        return GROUP, message_id, "学业辅导", counter_markup(state["count"])

    live.request("activity:1", render)
    await asyncio.sleep(0.05)  # the first edit is done; the chat now waits 0.2 s before the next
    state["count"] = 2
    live.request("activity:1", render)
    await asyncio.sleep(0.1)
    state["count"] = 3  # changed while the refresh waits: the edit must show this, not 2
    while "activity:1" in live._timers:
        await asyncio.sleep(0.01)
    assert harness.fake.messages(GROUP)[-1].button_labels() == ["报名 3/20"]
    assert harness.fake.count_calls("editMessageText") == 2
