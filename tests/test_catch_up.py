"""Catching up after downtime: missed summaries grouped per chat, oldest first, within the window."""

from __future__ import annotations

from datetime import timedelta

from handlers.activities import send_due_summaries
from handlers.live_message import flush_refreshes
from tests.harness import COUNTY_ADMIN_ID
from tests.test_activities import GROUP, LI, arranged, post_of, township


async def test_after_downtime_a_group_gets_its_missed_summaries_in_one_message_and_old_ones_go_to_the_admins(
    harness,
):
    org, li = await township(harness)
    old = await arranged(harness, org, starts_in=timedelta(minutes=20), hours=1, title="敬老院探访")
    first = await arranged(harness, org, starts_in=timedelta(hours=27), hours=1, title="学业辅导")
    second = await arranged(harness, org, starts_in=timedelta(hours=27, minutes=30), hours=1, title="河道清洁")
    in_group = len(harness.fake.bot_messages(GROUP))
    to_li = len(harness.fake.bot_messages(LI))
    # The bot was down for 30 hours: the first activity ended 28.7 h ago, the others 1-2 h ago.
    harness.clock.advance(hours=30)

    assert await send_due_summaries(harness.app) == 2
    assert await send_due_summaries(harness.app) == 0  # once only
    summaries = [m.text or "" for m in harness.fake.bot_messages(GROUP)[in_group:] if "活动小结" in (m.text or "")]
    assert len(summaries) == 1  # one message for the group, not one per activity
    [together] = summaries
    assert "机器人暂停期间结束的 2 项活动" in together
    assert together.index(first.code) < together.index(second.code)  # oldest first
    assert old.code not in together  # ended longer ago than the 24-hour window
    # The organiser still answers "how many served?" for each recent activity, and not the old one.
    asked = [m.text or "" for m in harness.fake.bot_messages(LI)[to_li:] if "请确认实际服务了多少人" in (m.text or "")]
    assert len(asked) == 2 and not any(old.code in text for text in asked)
    # The county admins are told which summaries were too old to send.
    [listing] = [m.text or "" for m in harness.fake.bot_messages(COUNTY_ADMIN_ID) if "没有再发到各群" in (m.text or "")]
    assert "1 项活动" in listing and "24 小时" in listing and old.code in listing
    assert first.code not in listing
    await flush_refreshes(harness.app)
    for activity in (old, first, second):  # every post shows it has ended: no more sign-ups
        assert post_of(harness, activity).buttons() == []


async def test_a_single_summary_due_reads_as_always(harness):
    org, _li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=20), hours=1)
    harness.clock.advance(hours=2)
    assert await send_due_summaries(harness.app) == 1
    text = harness.fake.last_bot_message(GROUP).text or ""
    assert text.startswith("🏁 <b>活动小结</b>") or "活动小结" in text
    assert "机器人暂停期间" not in text and activity.code in text
    await flush_refreshes(harness.app)
