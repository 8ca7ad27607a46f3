"""Admission at the door (bot/runtime/updates.py): a polled tap that would only wait for its turn
is turned away before it is stored or parsed; messages always come in."""

from __future__ import annotations

import asyncio
import json

import pytest
from telegram import Update

from bot.practice.emulator import FakeTelegram
from bot.runtime.updates import ADMIT_SHARE, PerSenderUpdateProcessor, ReceivedQueue
from tests.test_transport import Clock, poll_answer


def world(pace: float | None) -> tuple[FakeTelegram, Clock, ReceivedQueue, PerSenderUpdateProcessor]:
    """A caught-up bot that has shown it starts `pace` taps a second when busy (None: never busy)."""
    fake = FakeTelegram()
    fake.add_user(1, "A")
    clock = Clock()
    queue = ReceivedQueue(clock)
    processor = PerSenderUpdateProcessor(
        4, received=queue.take_received, callback_max_wait=4.0, clock=clock, capacity=pace
    )
    queue.shedder = processor
    return fake, clock, queue, processor


def taps(fake: FakeTelegram, count: int) -> list[dict]:
    return [fake.user_taps(1, 1, 1, f"x:{i}", forge=True) for i in range(count)]


def test_taps_are_let_in_while_they_would_start_within_their_share_of_the_deadline() -> None:
    fake, _, queue, processor = world(pace=100.0)
    assert processor.expected_wait(100.0, 0) == 0.0
    first = poll_answer(taps(fake, 60))  # short poll, nothing waits: all in, untouched
    assert queue.screen_poll(first, 100) is first
    fits = int(100.0 * 4.0 * ADMIT_SHARE)  # taps that start within the share, at 100 a second
    processor.taps_waiting = fits // 2  # half of that waits already
    batch = taps(fake, fits) + [fake.user_sends(1, 1, "签到")]
    kept = json.loads(queue.screen_poll(poll_answer(batch), 100))["result"]
    let_in = fits - fits // 2 + 1  # the last of them starts exactly at the limit
    assert [u["update_id"] for u in kept] == [u["update_id"] for u in batch[:let_in]] + [batch[-1]["update_id"]]
    assert processor.shed == fits - let_in


def test_a_message_is_never_turned_away_and_a_turned_away_last_tap_is_dropped_when_it_comes() -> None:
    fake, _, queue, processor = world(pace=20.0)
    processor.taps_waiting = 1000  # 50 s of work: no tap fits
    batch = [fake.user_sends(1, 1, "签到"), *taps(fake, 5)]
    kept = json.loads(queue.screen_poll(poll_answer(batch), 100))["result"]
    # The message, and the last tap (the next poll's offset follows it), counted as shed now.
    assert [("message" in u) for u in kept] == [True, False]
    assert processor.shed == 5

    async def run() -> list[str]:
        processor.taps_waiting = 0
        done: list[str] = []
        for raw in kept:
            update = Update.de_json(raw, None)
            queue.put_nowait(update)
            assert queue.get_nowait() is update

            async def handle(what: str = "message" if update.message else "tap") -> None:
                done.append(what)

            await processor.process_update(update, handle())
        return done

    assert asyncio.run(run()) == ["message"]  # the turned-away tap is dropped unhandled...
    assert processor.shed == 5  # ...and not counted twice
    assert processor.taps_waiting == 0


def test_a_burst_at_a_bot_never_busy_before_is_let_in_whole() -> None:
    fake, _, queue, processor = world(pace=None)
    burst = poll_answer(taps(fake, 100))
    assert queue.screen_poll(burst, 100) is burst
    assert processor.expected_wait(100.0, 10_000) == 0.0


async def test_the_capacity_is_the_pace_taps_start_at_while_others_wait_remembered_a_while() -> None:
    fake, clock, queue, processor = world(pace=None)
    processor.max_running = 1
    processor._slots = asyncio.Semaphore(1)  # one place: every other tap waits its turn
    updates = [Update.de_json(raw, None) for raw in taps(fake, 60)]
    for update in updates:
        queue.put_nowait(update)
        assert queue.get_nowait() is update
    assert processor.taps_waiting == 60

    async def work() -> None:
        await asyncio.sleep(0)
        clock.now += 0.05  # each tap takes 50 ms: 20 a second

    await asyncio.gather(*(processor.process_update(update, work()) for update in updates))
    assert processor.taps_waiting == 0
    # Busy for 3 s at 20 a second: the last 2 s show the capacity; it stays for a while once idle,
    # then it is forgotten (one measured in a stall must not keep the next burst out for good).
    assert processor.capacity == pytest.approx(20.0, abs=0.6)
    clock.now += 1
    assert processor.pace(clock.now) == pytest.approx(20.0, abs=0.6)
    clock.now += 60
    assert processor.pace(clock.now) is None
