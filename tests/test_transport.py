"""The bot's HTTP transport: the lean connection pool and the long poll's screening."""

from __future__ import annotations

import asyncio
import json

from telegram import Bot

from bot.practice.emulator import FakeTelegram, serve
from bot.runtime.transport import LeanConnectionPool, LeanHTTPXRequest, PollWatchRequest
from bot.runtime.updates import PerSenderUpdateProcessor, ReceivedQueue

TOKEN = "123:ABC"


async def test_the_lean_pool_serves_a_burst_over_few_reused_connections() -> None:
    fake = FakeTelegram(flood_limits=False)
    for user_id in range(1, 301):
        fake.add_user(user_id, f"U{user_id}")
    server = serve(fake, round_trip=0.01)
    request = LeanHTTPXRequest(connection_pool_size=8, pool_timeout=10)
    try:
        async with Bot(TOKEN, base_url=server.base_url, request=request) as bot:
            pool = request._client._transport._pool
            assert isinstance(pool, LeanConnectionPool)
            sent = await asyncio.gather(*(bot.send_message(user_id, f"hi {user_id}") for user_id in range(1, 301)))
            assert [m.text for m in sent] == [f"hi {user_id}" for user_id in range(1, 301)]
            assert 1 <= len(pool.connections) <= 8  # 300 requests, at most 8 connections, kept alive
            assert fake.count_calls("sendMessage") == 300
    finally:
        server.close()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def poll_answer(updates: list[dict]) -> bytes:
    return json.dumps({"ok": True, "result": updates}).encode()


def test_full_polls_stamp_updates_with_the_last_time_the_bot_was_caught_up_then_drop_their_taps() -> None:
    fake = FakeTelegram()
    fake.add_user(1, "A")
    clock = Clock()
    queue = ReceivedQueue(clock)
    # Taps start here at least 10,000 a second: only their wait at Telegram decides.
    processor = PerSenderUpdateProcessor(
        4, received=queue.take_received, callback_max_wait=4.0, clock=clock, capacity=10_000.0
    )
    queue.shedder = processor

    def batch(size: int) -> list[dict]:
        made = [fake.user_taps(1, 1, 1, f"x:{i}", forge=True) for i in range(size - 1)]
        return [*made, fake.user_sends(1, 1, "签到")]

    short = poll_answer(batch(3))
    assert queue.screen_poll(short, 100) == short  # caught up at 100.0
    clock.now = 102.0
    full = poll_answer(batch(100))
    assert queue.screen_poll(full, 100) == full  # behind since 100.0: 2 s, not dropped yet
    clock.now = 105.0
    late = batch(99) + [fake.user_taps(1, 1, 1, "last", forge=True)]
    kept = json.loads(queue.screen_poll(poll_answer(late), 100))["result"]
    # Behind for 5 s: the taps go unread, the message stays, and so does the last update (the
    # next poll's offset follows it). The last tap is counted now and dropped when it comes.
    assert [("message" in u, u.get("callback_query", {}).get("data")) for u in kept] == [(True, None), (False, "last")]
    assert processor.shed == 99
    clock.now = 106.0
    assert queue.screen_poll(short, 100) == short  # caught up again: nothing is dropped


async def test_the_poll_watch_passes_every_call_through(monkeypatch) -> None:
    fake = FakeTelegram()
    fake.add_user(1, "A")
    server = serve(fake)
    seen: list[tuple[int, int]] = []

    class Watched(ReceivedQueue):
        def screen_poll(self, payload: bytes, limit: int) -> bytes:
            seen.append((payload.count(b'"update_id"'), limit))
            return super().screen_poll(payload, limit)

    try:
        watch = PollWatchRequest(LeanHTTPXRequest(connection_pool_size=2), Watched())
        async with Bot(TOKEN, base_url=server.base_url, request=watch, get_updates_request=watch) as bot:
            fake.user_sends(1, 1, "一")
            fake.user_sends(1, 1, "二")
            updates = await bot.get_updates(timeout=0)
            assert [u.message.text for u in updates] == ["一", "二"]
            assert (await bot.get_me()).username == "league_test_bot"
        assert seen == [(2, 100)]
    finally:
        server.close()


async def test_while_polls_come_back_full_telegram_is_asked_how_many_wait() -> None:
    fake = FakeTelegram()
    fake.add_user(1, "A")
    server = serve(fake)
    queue = ReceivedQueue()
    try:
        watch = PollWatchRequest(LeanHTTPXRequest(connection_pool_size=2), queue)
        async with Bot(TOKEN, base_url=server.base_url, request=watch, get_updates_request=watch) as bot:
            for index in range(150):
                fake.user_taps(1, 1, 1, f"x:{index}", forge=True)
            assert len(await bot.get_updates(timeout=0, limit=100)) == 100
            assert queue.behind
            for _ in range(100):
                if fake.count_calls("getWebhookInfo"):
                    break
                await asyncio.sleep(0.01)
            assert fake.count_calls("getWebhookInfo") == 1
    finally:
        server.close()


def test_a_small_backlog_at_telegram_counts_as_caught_up() -> None:
    clock = Clock()
    queue = ReceivedQueue(clock)
    full = poll_answer([{"update_id": i, "message": {}} for i in range(100)])
    queue.screen_poll(full, 100)  # behind since 100.0 (the queue was made then)
    clock.now = 110.0
    queue.note_backlog(5000, asked_at=109.5, limit=100)  # far behind: nothing changes
    assert queue._behind_since == 100.0
    queue.note_backlog(120, asked_at=109.5, limit=100)  # a poll or two: as good as caught up
    assert queue._behind_since == 108.5


async def test_the_threaded_long_poll_fetches_and_a_stop_does_not_wait_for_a_poll_under_way() -> None:
    import threading
    import time

    from bot.runtime.transport import ThreadedPollRequest

    fake = FakeTelegram()
    fake.add_user(1, "A")
    server = serve(fake, round_trip=0.01)
    request = ThreadedPollRequest()
    try:
        bot = Bot(
            TOKEN,
            base_url=server.base_url,
            request=LeanHTTPXRequest(connection_pool_size=2),
            get_updates_request=request,
        )
        await bot.initialize()
        fake.user_sends(1, 1, "签到")
        assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["签到"]
        # A long poll under way (nothing to fetch for 5 s) does not hold back a second call...
        waiting = asyncio.create_task(bot.get_updates(offset=fake._next_update_id, timeout=5, read_timeout=10))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        assert await bot.get_updates(offset=fake._next_update_id, timeout=0) == ()
        assert time.monotonic() - started < 2
        # ...and a stop ends at once, leaving the poll to fail unread; its thread never holds
        # back the process's exit.
        polls = [thread for thread in threading.enumerate() if thread.name == "long-poll"]
        assert polls and all(thread.daemon for thread in polls)
        waiting.cancel()
        started = time.monotonic()
        await bot.shutdown()
        assert time.monotonic() - started < 2
    finally:
        server.close()
