"""Live messages: many refresh requests become few edits, and never an identical one.

Time is the harness's clock: the tests move it and run what has come due, they never sleep.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.live_message import WAKE_JOB, LiveMessages, live_messages
from tests.harness import COUNTY_ADMIN_ID

GROUP = -3003


def counter_markup(count: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"报名 {count}/20", callback_data="x:1")]])


async def posted(harness) -> int:
    harness.admin()
    await harness.group_with_bot(GROUP, "活动群", admins=(COUNTY_ADMIN_ID,))
    message = await harness.app.bot.send_message(GROUP, "学业辅导", reply_markup=counter_markup(0))
    return message.message_id


def counter(message_id: int, state: dict):
    """A render showing the count in `state` as it is when the refresh is made."""

    async def render():
        return GROUP, message_id, "学业辅导", counter_markup(state["count"])

    return render


def edits(harness) -> int:
    return harness.fake.count_calls("editMessageText")


async def later(harness, live: LiveMessages, seconds: float) -> None:
    """Move the bot's clock and do what has come due, as the wake-up job would."""
    harness.clock.advance(seconds=seconds)
    await live.run_due()


async def test_a_burst_of_refreshes_becomes_one_edit_showing_the_last_state(harness):
    message_id = await posted(harness)
    live = LiveMessages(harness.app, harness.clock, delay=1.0, min_interval=6.0)
    state = {"count": 0}

    render = counter(message_id, state)

    for count in range(1, 31):
        state["count"] = count
        live.request("activity:1", render)
    await later(harness, live, 0.5)
    assert edits(harness) == 0  # still coalescing
    await later(harness, live, 0.5)
    assert edits(harness) == 1
    assert harness.fake.messages(GROUP)[-1].button_labels() == ["报名 30/20"]


async def test_unchanged_content_is_never_sent_again(harness):
    message_id = await posted(harness)
    live = LiveMessages(harness.app, harness.clock, delay=1.0, min_interval=0.0)

    async def render():
        return GROUP, message_id, "学业辅导", counter_markup(0)

    live.request("activity:1", render)
    await live.flush()
    live.request("activity:1", render)
    await live.flush()
    # The first refresh hit identical content (Telegram says "not modified"); none after it.
    assert edits(harness) == 1


async def test_edits_in_one_chat_keep_their_distance(harness):
    message_id = await posted(harness)
    live = LiveMessages(harness.app, harness.clock, delay=1.0, min_interval=6.0)
    state = {"count": 0}

    render = counter(message_id, state)

    stamps = []
    for count in (1, 2, 3):
        state["count"] = count
        live.request("activity:1", render)
        before = edits(harness)
        while edits(harness) == before:
            await later(harness, live, 0.5)
        stamps.append(harness.clock.monotonic())
    assert edits(harness) == 3
    assert stamps[1] - stamps[0] >= 6.0 and stamps[2] - stamps[1] >= 6.0


async def test_a_request_while_waiting_is_served_and_shows_the_newest_state(harness):
    message_id = await posted(harness)
    live = LiveMessages(harness.app, harness.clock, delay=1.0, min_interval=6.0)
    state = {"count": 1}

    render = counter(message_id, state)

    live.request("activity:1", render)
    await later(harness, live, 1.0)  # the first edit is done; the chat now waits 6 s before the next
    state["count"] = 2
    live.request("activity:1", render)
    await later(harness, live, 2.0)
    assert edits(harness) == 1
    state["count"] = 3  # changed while the refresh waits: the edit must show this, not 2
    await later(harness, live, 4.0)
    assert harness.fake.messages(GROUP)[-1].button_labels() == ["报名 3/20"]
    assert edits(harness) == 2


async def test_a_request_during_an_edit_is_served_after_it(harness):
    message_id = await posted(harness)
    live = LiveMessages(harness.app, harness.clock, delay=1.0, min_interval=6.0)
    state = {"count": 1}

    async def render():
        if state["count"] == 1:  # a tap lands while this edit is being made
            state["count"] = 2
            live.request("activity:1", render)
            return GROUP, message_id, "学业辅导", counter_markup(1)
        return GROUP, message_id, "学业辅导", counter_markup(state["count"])

    live.request("activity:1", render)
    await later(harness, live, 1.0)
    assert edits(harness) == 1
    assert live.next_due() == harness.clock.monotonic() + 6.0  # the chat's six seconds from the edit
    await later(harness, live, 5.5)
    assert edits(harness) == 1
    await later(harness, live, 0.5)
    assert edits(harness) == 2
    assert harness.fake.messages(GROUP)[-1].button_labels() == ["报名 2/20"]


async def test_the_wake_up_job_is_set_on_the_bots_clock_and_serves_the_refresh(harness):
    """In the running bot nothing calls run_due by hand: one job does, when the next refresh is due."""
    message_id = await posted(harness)
    live = live_messages(harness.app)
    state = {"count": 1}

    render = counter(message_id, state)

    live.request("activity:1", render)
    [job] = harness.app.job_queue.get_jobs_by_name(WAKE_JOB)
    harness.clock.advance(seconds=1)
    await job.run(harness.app)
    assert edits(harness) == 1
    state["count"] = 2
    live.request("activity:1", render)  # due in six seconds (the chat's spacing), not in one
    [job] = [job for job in harness.app.job_queue.get_jobs_by_name(WAKE_JOB) if not job.removed]
    assert live.next_due() == harness.clock.monotonic() + 6.0
    harness.clock.advance(seconds=6)
    await job.run(harness.app)
    assert edits(harness) == 2
    assert harness.fake.messages(GROUP)[-1].button_labels() == ["报名 2/20"]
