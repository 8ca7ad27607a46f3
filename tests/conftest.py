from __future__ import annotations

import itertools
import os

import pytest

from bot.practice.emulator import FakeTelegram
from tests.harness import FakeClock, Harness, test_config
from tests.pg_server import SERVER_ENV, TestServer, drop_test_databases

_server: TestServer | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the engine the bot's tests run on: postgresql starts a throw-away server (tests/pg_server.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _server
    if config.getoption("--db") == "postgresql":
        # The fuzz tests' input handling is the engine's business only where it stores; a fifth
        # of their examples here (tests/fuzz_world.py, SCALE).
        os.environ.setdefault("LEAGUE_FUZZ_SCALE", "0.2")
    if config.getoption("--db") == "postgresql" and not os.environ.get(SERVER_ENV):
        _server = TestServer()
        _server.start()
        os.environ[SERVER_ENV] = _server.url


def pytest_unconfigure(config: pytest.Config) -> None:
    global _server
    if _server is not None:
        os.environ.pop(SERVER_ENV, None)
        _server.stop()
        _server = None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--db") != "postgresql":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {marker.args[0]}"))


def pytest_report_header(config: pytest.Config) -> str:
    return f"database engine: {config.getoption('--db')}"


@pytest.fixture(autouse=True)
def _drop_postgresql_databases():
    yield
    drop_test_databases()


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
