from __future__ import annotations

import pytest

from tests.fake_telegram import FakeTelegram
from tests.harness import FakeClock, Harness, test_config


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def harness(tmp_path, fake):
    """The real bot against the fake; any unexpected handler exception fails the test."""
    harness = Harness(test_config(tmp_path), fake, FakeClock())
    await harness.start()
    yield harness
    await harness.stop()
    assert harness.errors == [], f"handler errors: {harness.errors!r}"
    assert fake.unknown_methods == [], f"bot called unknown Bot API methods: {fake.unknown_methods}"
