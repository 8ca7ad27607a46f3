from __future__ import annotations

import itertools

import pytest

from bot.practice.emulator import FakeTelegram
from tests.harness import FakeClock, Harness, test_config


@pytest.fixture
def fake() -> FakeTelegram:
    """Flood limits on, measured on a clock that counts each API call as 50 ms (the pace of
    production's round trips and rate limiter): a long conversation never trips the
    30-a-second limit by running fast, while a group's 20-a-minute limit still bites."""
    calls = itertools.count()
    return FakeTelegram(monotonic=lambda: next(calls) * 0.05)


@pytest.fixture
async def harness(tmp_path, fake):
    """The real bot against the fake; any unexpected handler exception fails the test."""
    harness = Harness(test_config(tmp_path), fake, FakeClock())
    await harness.start()
    yield harness
    await harness.stop()
    assert harness.errors == [], f"handler errors: {harness.errors!r}"
    assert fake.unknown_methods == [], f"bot called unknown Bot API methods: {fake.unknown_methods}"


@pytest.fixture
def fuzz_world(tmp_path):
    """The fuzz tests' county (tests/fuzz_world.py) on its own event loop, for one test function."""
    from tests.fuzz_world import running_world

    with running_world(tmp_path) as world:
        yield world
