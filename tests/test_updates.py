"""Update ordering: one sender's updates in order, except declared side-by-side taps."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.practice.emulator import FakeTelegram
from bot.runtime.updates import PerSenderUpdateProcessor


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
