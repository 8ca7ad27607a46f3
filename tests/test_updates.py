"""Update processing: one sender's updates in order (except declared side-by-side taps), a bounded
number at once, and taps that waited too long dropped before any handler sees them."""

from __future__ import annotations

import asyncio
import logging

import pytest
from telegram import Update

from bot.domain.config import ConfigError, parse_config
from bot.practice.emulator import FakeTelegram
from bot.runtime.updates import BURST_QUIET_SECONDS, PerSenderUpdateProcessor, ReceivedQueue


def updates_from(fake: FakeTelegram, user_id: int, *texts_or_taps: str) -> list[Update]:
    made = []
    for item in texts_or_taps:
        if item.startswith("tap:"):
            raw = fake.user_taps(user_id, user_id, 1, item[4:], forge=True)
        else:
            raw = fake.user_sends(user_id, user_id, item)
        made.append(Update.de_json(raw, None))
    return made


async def run_all(processor: PerSenderUpdateProcessor, updates: list[Update]) -> list[str]:
    """Each update 'works' 20 ms; returns the order in which they started and finished."""
    log: list[str] = []

    async def work(name: str) -> None:
        log.append(f"start {name}")
        await asyncio.sleep(0.02)
        log.append(f"end {name}")

    await asyncio.gather(*(processor.process_update(update, work(str(index))) for index, update in enumerate(updates)))
    return log


async def test_one_persons_messages_run_one_after_another():
    fake = FakeTelegram()
    fake.add_user(1, "A")
    processor = PerSenderUpdateProcessor(16)
    log = await run_all(processor, updates_from(fake, 1, "一", "二"))
    assert log == ["start 0", "end 0", "start 1", "end 1"]


async def test_different_people_run_side_by_side():
    fake = FakeTelegram()
    fake.add_user(1, "A")
    fake.add_user(2, "B")
    processor = PerSenderUpdateProcessor(16)
    log = await run_all(processor, updates_from(fake, 1, "一") + updates_from(fake, 2, "二"))
    assert log[:2] == ["start 0", "start 1"]


async def test_declared_taps_run_beside_that_persons_conversation_which_stays_in_order():
    fake = FakeTelegram()
    fake.add_user(1, "A")
    processor = PerSenderUpdateProcessor(16, unordered_prefixes=("ac",))
    log = await run_all(processor, updates_from(fake, 1, "一", "tap:ac:1:5", "tap:ac:1:6", "二"))
    assert log[:3] == ["start 0", "start 1", "start 2"]  # the claims do not wait for the message
    assert log.index("start 3") > log.index("end 0")  # the second message waits for the first


async def test_at_most_max_running_updates_run_at_once_and_the_rest_wait_in_order():
    fake = FakeTelegram()
    processor = PerSenderUpdateProcessor(3)
    updates = []
    for user_id in range(1, 11):
        fake.add_user(user_id, f"U{user_id}")
        updates += updates_from(fake, user_id, "签到")
    running, most, started = 0, 0, []

    async def work(name: str) -> None:
        nonlocal running, most
        started.append(name)
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    await asyncio.gather(*(processor.process_update(u, work(str(i))) for i, u in enumerate(updates)))
    assert most == 3
    assert started == [str(i) for i in range(10)]  # first come, first served


async def test_a_person_waiting_for_their_previous_update_holds_no_place():
    fake = FakeTelegram()
    fake.add_user(1, "busy")
    fake.add_user(2, "other")
    processor = PerSenderUpdateProcessor(2)
    log = await run_all(processor, updates_from(fake, 1, "一", "二", "三") + updates_from(fake, 2, "四"))
    # Person 1's second and third messages wait for the first without taking the second place.
    assert log[:2] == ["start 0", "start 3"]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_tap_that_waited_too_long_is_dropped_unprocessed_and_logged_once_per_burst(caplog):
    fake = FakeTelegram()
    fake.add_user(1, "A")
    clock = Clock()
    queue = ReceivedQueue(clock)
    processor = PerSenderUpdateProcessor(
        4, received=queue.take_received, callback_max_wait=4.0, clock=clock, unordered_prefixes=("ac",)
    )
    old = updates_from(fake, 1, "tap:ac:1:1", "tap:ac:1:2", "tap:xx:3", "签到")
    for update in old:
        queue.put_nowait(update)
    clock.now += 4.5
    fresh = updates_from(fake, 1, "tap:ac:1:4")
    await queue.put(fresh[0])
    ran: list[int] = []

    async def work(index: int) -> None:
        ran.append(index)

    caplog.set_level(logging.WARNING, logger="bot.runtime.updates")
    await asyncio.gather(*(processor.process_update(u, work(i)) for i, u in enumerate(old + fresh)))
    assert ran == [3, 4]  # the message is never dropped; the fresh tap runs
    assert processor.shed == 3
    assert len(caplog.records) == 1 and "dropped" in caplog.records[0].getMessage()

    clock.now += BURST_QUIET_SECONDS + 1  # the next update after a quiet spell closes the burst
    await processor.process_update(updates_from(fake, 1, "tap:ac:1:5")[0], work(5))
    assert ran == [3, 4, 5]
    assert [r.getMessage() for r in caplog.records][1] == "Overload over: 3 button taps dropped in 0.0 s"


async def test_updates_fed_directly_are_never_dropped():
    fake = FakeTelegram()
    fake.add_user(1, "A")
    processor = PerSenderUpdateProcessor(4, received=ReceivedQueue().take_received, callback_max_wait=0.001)
    ran: list[int] = []

    async def work() -> None:
        ran.append(1)

    await asyncio.sleep(0.01)
    await processor.process_update(updates_from(fake, 1, "tap:ac:1:1")[0], work())
    assert ran == [1] and processor.shed == 0


def test_the_rush_limits_are_configured_and_checked():
    text = "[telegram]\nmax_concurrent_updates = 32\nconnection_pool_size = 64\ncallback_max_wait_seconds = 5\n"
    telegram = parse_config(text, environ={}).telegram
    assert (telegram.max_concurrent_updates, telegram.connection_pool_size) == (32, 64)
    assert telegram.callback_max_wait_seconds == 5 and telegram.pool_timeout_seconds == 10.0
    for bad, named in (
        ("max_concurrent_updates = 0", "max_concurrent_updates"),
        ("max_concurrent_updates = 200", "connection_pool_size"),
        ("callback_max_wait_seconds = 13", "callback_max_wait_seconds"),
        ("callback_max_wait_seconds = true", "callback_max_wait_seconds"),
        ("pool_timeout_seconds = 0", "pool_timeout_seconds"),
    ):
        with pytest.raises(ConfigError, match=f"telegram.{named}"):
            parse_config(f"[telegram]\n{bad}\n", environ={})


async def test_an_update_waiting_for_the_outgoing_budget_lets_the_next_ones_run():
    from bot.runtime.rate_limit import FairRateLimiter

    fake = FakeTelegram()
    fake.add_user(1, "A")
    fake.add_user(2, "B")
    limiter = FairRateLimiter(overall_max_rate=1, overall_time_period=0.3)
    processor = PerSenderUpdateProcessor(1)
    log: list[str] = []

    async def sent() -> bool:
        return True

    async def edit(name: str) -> None:
        log.append(f"start {name}")
        data = {"chat_id": 1, "message_id": 7}
        await limiter.process_request(sent, (), {}, "editMessageText", data, None)
        log.append(f"sent {name}")

    await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": 1}, None)  # the budget is full
    first_tap, next_tap = updates_from(fake, 1, "tap:ab:1", "tap:ab:2")
    message = updates_from(fake, 2, "签到")[0]

    async def other() -> None:
        log.append("start message")

    await asyncio.gather(
        processor.process_update(first_tap, edit("first")),
        processor.process_update(message, other()),
        processor.process_update(next_tap, edit("next")),
    )
    # With one place, the message and the person's next tap ran while the first edit waited;
    # the first edit, superseded by the next one of the same message, was never sent itself.
    assert log[:3] == ["start first", "start message", "start next"]
    assert sorted(log[3:]) == ["sent first", "sent next"]
