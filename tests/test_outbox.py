"""The durable outbox: a message owed because of a state change is queued with the change, sent
once Telegram accepts it, retried on 5xx and 429, given up only on permanent errors, and a crash
duplicates at most the one message in flight."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain.outbox import PROMOTED, REMINDER, WON_CLAIM
from bot.model.organisation import OrgKind, Role
from bot.model.outbox import Notice, OutboxState
from handlers.auction import settle
from tests.harness import COUNTY_ADMIN_ID, FakeClock, Harness
from tests.harness import test_config as make_config
from tests.test_activities import arranged, sign_up, township, volunteer, withdraw
from tests.test_auction import DONOR, DONOR_ORG, SCHOOL, TEACHER, World
from tests.test_auction import HUB as AUCTION_HUB
from tests.test_reminders import HUB, ORG_A, ORG_B, county_with_groups, reminder_texts, schedule


async def outbox_rows(harness, kind: str) -> list:
    rows = await harness.services.db.fetch_all("SELECT id FROM outbox WHERE kind = ? ORDER BY id", (kind,))
    return [await harness.services.outbox.repo.get(row[0]) for row in rows]


async def remind_all_groups(harness, text: str = "周五交表") -> None:
    await harness.services.reminders.create(COUNTY_ADMIN_ID, "all_groups", None, text, schedule(harness, "今天 12:00"))
    harness.clock.advance(hours=2)


async def test_a_transient_502_is_retried_with_back_off_not_recorded_as_failed(harness):
    await county_with_groups(harness)
    await remind_all_groups(harness)
    harness.fake.fail_calls(1.0, methods=["sendMessage"])
    [outcome] = await harness.tick()
    assert outcome.deliveries == {HUB: "sending", ORG_A: "sending", ORG_B: "sending"}
    rows = await outbox_rows(harness, REMINDER)
    assert [(row.state, row.attempts) for row in rows] == [(OutboxState.PENDING, 1)] * 3
    assert all("Bad Gateway" in row.detail for row in rows)

    harness.fake.stop_faults()
    assert await harness.send_queued() == 0  # not before the back-off (1 s on the bot's clock)
    harness.clock.advance(seconds=1)
    assert await harness.send_queued() == 3
    for chat_id in (HUB, ORG_A, ORG_B):
        assert reminder_texts(harness, chat_id) == ["⏰ 提醒\n周五交表"]
    deliveries = await harness.services.reminders.reminders.deliveries(rows[0].param("occurrence"))
    assert deliveries == {HUB: "sent", ORG_A: "sent", ORG_B: "sent"}


async def test_back_off_grows_with_each_failed_attempt(harness):
    await county_with_groups(harness)
    await remind_all_groups(harness)
    harness.fake.fail_calls(1.0, methods=["sendMessage"])
    await harness.tick()
    waits = []
    for _ in range(4):
        [row, *_] = await outbox_rows(harness, REMINDER)
        waits.append((row.next_attempt_at - harness.clock.now()).total_seconds())
        harness.clock.advance(seconds=waits[-1])
        await harness.send_queued()
    assert waits == [1, 2, 4, 8]


async def test_a_429_storm_on_one_group_holds_only_that_group(harness):
    await county_with_groups(harness)
    await remind_all_groups(harness)
    harness.fake.storm_429(ORG_A, seconds=10_000, retry_after=30)
    [outcome] = await harness.tick()
    assert outcome.deliveries == {HUB: "sent", ORG_A: "sending", ORG_B: "sent"}
    [row] = [row for row in await outbox_rows(harness, REMINDER) if row.chat_id == ORG_A]
    assert row.next_attempt_at == harness.clock.now() + timedelta(seconds=31)  # retry_after, to the second
    harness.fake.stop_faults()
    harness.clock.advance(seconds=31)
    assert await harness.send_queued() == 1
    assert reminder_texts(harness, ORG_A) == ["⏰ 提醒\n周五交表"]


async def test_a_blocked_volunteer_is_given_up_with_the_reason(harness):
    org, _li = await township(harness)
    activity = await arranged(harness, org, slots=1)
    first, second = volunteer(harness, 400001, "小王"), volunteer(harness, 400002, "小张")
    await sign_up(first, harness, activity)
    await sign_up(second, harness, activity)  # waitlisted
    harness.fake.block_bot(400002)
    await withdraw(first, harness, activity)
    [row] = await outbox_rows(harness, PROMOTED)
    assert row.state is OutboxState.GIVEN_UP and row.chat_id == 400002
    assert "blocked" in row.detail
    assert await harness.send_queued() == 0  # given up: never tried again


async def test_the_same_message_is_queued_once(harness):
    outbox = harness.services.outbox
    notice = Notice(PROMOTED, 400001, key="promoted:1:400001:x", params={"activity": 1})
    async with harness.services.db.transaction():
        assert await outbox.enqueue(notice) is True
        assert await outbox.enqueue(notice) is False
    assert len(await outbox_rows(harness, PROMOTED)) == 1


async def test_a_message_queued_in_a_rolled_back_change_is_not_queued(harness):
    class Refused(Exception):
        pass

    notice = Notice(PROMOTED, 400001, key="promoted:1:400001:y", params={"activity": 1})
    with pytest.raises(Refused):
        async with harness.services.db.transaction():
            await harness.services.outbox.enqueue(notice)
            raise Refused
    assert await outbox_rows(harness, PROMOTED) == []


async def test_two_drains_at_once_send_each_message_once(harness):
    await county_with_groups(harness)
    await remind_all_groups(harness)
    await harness.services.reminders.deliver_due(lambda: asyncio.sleep(0))  # queued only
    sent = await asyncio.gather(harness.send_queued(), harness.send_queued())
    assert sorted(sent) == [0, 3]
    for chat_id in (HUB, ORG_A, ORG_B):
        assert reminder_texts(harness, chat_id) == ["⏰ 提醒\n周五交表"]


def kill_after_the_second_send(outbox) -> list[int]:
    """The process dies once Telegram accepted the second message, before it is recorded as
    sent; a dead process takes nothing more. Returns the chats sent to, in order."""
    record, due, calls = outbox.sent, outbox.due, []

    async def dies_on_the_second(message, telegram_message_id):
        calls.append(message.chat_id)
        if len(calls) >= 2:
            raise asyncio.CancelledError  # the kill: nothing after the send is recorded
        await record(message, telegram_message_id)

    async def nothing_once_dead(*args, **kwargs):
        return [] if len(calls) >= 2 else await due(*args, **kwargs)

    outbox.sent, outbox.due = dies_on_the_second, nothing_once_dead
    return calls


@pytest.mark.parametrize("in_flight", [1, 2, 4])
async def test_a_crash_between_send_and_record_duplicates_only_the_messages_in_flight(tmp_path, fake, in_flight):
    """The process dies after Telegram accepted the second message and before it was marked sent;
    every message on its way then dies unrecorded too. After the restart those go again, nothing
    else does, nothing is lost: at most `in_flight` duplicates, never two in one chat."""
    clock = FakeClock()
    config = make_config(tmp_path)
    config = replace(config, outbox=replace(config.outbox, in_flight=in_flight))
    first = Harness(config, fake, clock)
    await first.start()
    await county_with_groups(first)
    await remind_all_groups(first)
    await first.services.reminders.deliver_due(lambda: asyncio.sleep(0))  # queued only
    calls = kill_after_the_second_send(first.services.outbox)
    with pytest.raises(asyncio.CancelledError):
        await first.send_queued()
    await asyncio.sleep(0.05)  # the other lanes' sends end (accepted, unrecorded) before it is gone
    await first.stop()

    second = Harness(config, fake, clock)
    await second.start()
    again = await second.send_queued()
    await second.stop()
    copies = {chat_id: len(reminder_texts(second, chat_id)) for chat_id in (HUB, ORG_A, ORG_B)}
    assert min(copies.values()) == 1 and max(copies.values()) <= 2  # none lost, none sent three times
    duplicates = sum(copies.values()) - len(copies)
    assert 1 <= duplicates <= in_flight
    assert again == 3 - 1  # everything but the one recorded as sent
    if in_flight >= 3:
        assert duplicates == 2  # all three were on their way at once: the lanes send side by side
    if in_flight == 1:
        assert sorted(copies.values()) == [1, 1, 2]
        assert copies[calls[1]] == 2  # the duplicate is the message that was in flight


async def auction_world(harness):
    """The auction tests' county (tests/test_auction.py), for a harness made here."""
    orgs = {}
    for name, kind in ((SCHOOL, OrgKind.SCHOOL), (DONOR_ORG, OrgKind.COUNTY_LEVEL)):
        orgs[name] = (await harness.services.orgs.create(COUNTY_ADMIN_ID, name, kind, None)).id
    world = World(harness, orgs)
    await world.admin.send("/start")
    await harness.group_with_bot(AUCTION_HUB, "团县委工作群", admins=(COUNTY_ADMIN_ID,))
    await harness.services.groups.bind_hub(COUNTY_ADMIN_ID, AUCTION_HUB)
    await world.cadre(TEACHER, "李老师", SCHOOL, role=Role.ORG_ADMIN)
    await world.cadre(DONOR, "张书记", DONOR_ORG, username="zhang")
    return world


async def test_a_win_is_queued_with_the_claim_and_sent_after_a_restart(tmp_path, fake):
    """The claim commits and the process dies before anything is sent: the winner is still told,
    with the release button while its window lasts."""
    clock = FakeClock()
    first = Harness(make_config(tmp_path), fake, clock)
    await first.start()
    world = await auction_world(first)
    [wish], session = await world.live(1)
    outcome = await first.services.auction.claim(DONOR, session.id, wish.id)
    assert outcome.won
    [row] = await outbox_rows(first, WON_CLAIM)  # committed with the claim, nothing sent yet
    assert (row.chat_id, row.state, row.param("wish")) == (DONOR, OutboxState.PENDING, wish.id)
    await settle(first.app)
    await first.stop()
    assert not any("认领了心愿" in (m.text or "") for m in fake.bot_messages(DONOR))

    second = Harness(make_config(tmp_path), fake, clock)
    await second.start()
    assert await second.send_queued() == 1
    [told] = [m for m in fake.bot_messages(DONOR) if "认领了心愿" in (m.text or "")]
    assert told.button_labels() == ["释放"] or any("释放" in label for label in told.button_labels())
    assert await second.send_queued() == 0
    await second.stop()
    assert first.errors == second.errors == []
