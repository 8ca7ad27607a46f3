"""When an update reached Telegram, from its id: the estimate, and the shedding that uses it."""

from __future__ import annotations

import asyncio
import json

import pytest
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.practice.emulator import FakeTelegram
from bot.runtime.arrivals import Arrivals
from bot.runtime.inbox import Intake, StoringQueue
from bot.runtime.updates import PerSenderUpdateProcessor, ReceivedQueue
from tests.test_transport import Clock, poll_answer
from tests.test_updates import updates_from


def test_nothing_is_known_before_a_sample() -> None:
    assert Arrivals().arrival(5, now=10.0) is None


def test_between_two_samples_updates_are_spread_evenly() -> None:
    arrivals = Arrivals()
    arrivals.note(100.0, 1000)
    arrivals.note(102.0, 1400)
    assert arrivals.arrival(1200, now=110.0) == pytest.approx(101.0)
    assert arrivals.arrival(1400, now=110.0) == pytest.approx(102.0)
    assert arrivals.arrival(900, now=110.0) == pytest.approx(100.0)  # before the first: at least that old


def test_beyond_the_newest_sample_the_recent_rate_carries_on_never_past_now() -> None:
    arrivals = Arrivals()
    arrivals.note(100.0, 1000)
    arrivals.note(102.0, 1400)  # 200 a second
    assert arrivals.arrival(1600, now=110.0) == pytest.approx(103.0)
    assert arrivals.arrival(9000, now=110.0) == 110.0
    quiet = Arrivals()
    quiet.note(100.0, 1000)
    quiet.note(105.0, 1000)  # nothing arrived: a newer update came after the last sample
    assert quiet.arrival(1001, now=110.0) == 105.0


def test_samples_never_go_backwards_and_old_ones_are_forgotten() -> None:
    arrivals = Arrivals()
    arrivals.note(100.0, 1000)
    arrivals.note(99.0, 900)  # an answer overtaken by a newer one: clamped
    assert arrivals.arrival(1000, now=200.0) == 100.0
    for second in range(1, 400):
        arrivals.note(100.0 + second, 1000)
    assert len(arrivals) <= 3  # the same id over and over keeps only its first and last moment
    for second in range(400, 700):
        arrivals.note(100.0 + second, 1000 + second)
    assert len(arrivals) <= 122  # two minutes of samples a second


def behind_world(taps: int) -> tuple[Clock, ReceivedQueue, PerSenderUpdateProcessor, dict, list[dict]]:
    """A bot caught up at 100.0 (at update `first`), then `taps` taps made one a millisecond."""
    fake = FakeTelegram()
    fake.add_user(1, "A")
    clock = Clock()
    queue = ReceivedQueue(clock)
    # Taps start here at least 10,000 a second: only their wait at Telegram decides.
    processor = PerSenderUpdateProcessor(
        4, received=queue.take_received, callback_max_wait=4.0, clock=clock, capacity=10_000.0
    )
    queue.shedder = processor
    first = fake.user_sends(1, 1, "签到")
    assert queue.screen_poll(poll_answer([first]), 100)
    return clock, queue, processor, first, [fake.user_taps(1, 1, 1, f"x:{i}", forge=True) for i in range(taps)]


def test_a_full_poll_loses_only_the_taps_that_waited_too_long_the_fresh_ones_stay() -> None:
    # 1,000 taps a second for 10 s, polls fetching 100 at a time far behind them.
    clock, queue, processor, first, taps = behind_world(10_000)
    clock.now = 110.0
    queue.note_backlog(10_000, asked_at=110.0, limit=100, first_pending=first["update_id"] + 1)
    clock.now = 110.5
    # This poll holds the taps made between 105 s and 105.1 s: 5.5 s old, too old.
    old = taps[5000:5100]
    kept = json.loads(queue.screen_poll(poll_answer(old), 100))["result"]
    # Only the last one stays, for the offset; it is counted now and dropped when it comes.
    assert [u["update_id"] for u in kept] == [old[-1]["update_id"]]
    assert processor.shed == 100
    # This one holds taps made between 106.45 s and 106.55 s: half of them are young enough.
    clock.now = 110.5005
    middle = taps[6450:6550]
    kept = json.loads(queue.screen_poll(poll_answer(middle), 100))["result"]
    assert [u["update_id"] for u in kept] == [u["update_id"] for u in middle[50:]]
    assert processor.shed == 100 + 50
    # Young taps go through untouched.
    young = poll_answer(taps[8000:8100])
    assert queue.screen_poll(young, 100) is young
    assert queue.behind


def test_taps_kept_from_a_full_poll_count_their_wait_at_telegram_and_here() -> None:
    clock, queue, processor, first, taps = behind_world(1000)
    clock.now = 102.0
    queue.note_backlog(1000, asked_at=101.0, limit=100, first_pending=first["update_id"] + 1)
    poll = taps[:100]  # made between 100 s and 100.1 s: about 2 s old
    assert queue.screen_poll(poll_answer(poll), 100) is not None
    assert processor.shed == 0
    clock.now = 103.2  # these were made between 100.1 s and 100.2 s: 3.0-3.1 s old
    processor.taps_waiting = 5_000  # 0.5 s of taps wait here before these: 3.5-3.6 s in all
    young = poll_answer(taps[100:200])
    assert queue.screen_poll(young, 100) is young
    processor.taps_waiting = 9_500  # 0.95 s here: about 4 s in all, over the limit for the oldest
    kept = json.loads(queue.screen_poll(poll_answer(taps[100:200]), 100))["result"]
    assert 1 < len(kept) < 100 and processor.shed == 100 - len(kept)
    assert [u["update_id"] for u in kept] == [u["update_id"] for u in taps[200 - len(kept) : 200]]  # the oldest went


# ---- read-ahead: the next batch fetched while PTB parses this one ---------------------------------
class StubInbox:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.stored: set[int] = set()

    async def store_many(self, updates: list[tuple[int, str]]) -> set[int]:
        await asyncio.sleep(0)
        ids = {update_id for update_id, _ in updates}
        self.log.append(f"stored {min(ids)}-{max(ids)}")
        new = ids - self.stored
        self.stored |= ids
        return new


class StubTelegram(BaseRequest):
    """Full batches of 3 from `offset`, logging each request's offset."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(self, url, method, request_data=None, *timeouts) -> tuple[int, bytes]:
        offset = request_data.parameters.get("offset") or 1 if request_data is not None else 1
        self.log.append(f"asked from {offset}")
        await asyncio.sleep(0.01)
        updates = [{"update_id": offset + i, "message": {"text": str(offset + i)}} for i in range(3)]
        return 200, poll_answer(updates)


def get_updates(offset: int) -> RequestData:
    return RequestData([RequestParameter.from_input("offset", offset), RequestParameter.from_input("limit", 3)])


async def test_while_behind_the_next_batch_is_fetched_ahead_but_never_before_this_one_is_stored() -> None:
    log: list[str] = []
    intake = Intake()
    intake.door = StoringQueue(StubInbox(log), asyncio.Queue())  # type: ignore[arg-type]
    behind = True
    request = intake.confirming(StubTelegram(log), behind=lambda: behind)
    url = "http://telegram/bot1:x/getUpdates"
    code, payload = await request.do_request(url, "POST", get_updates(1))
    assert json.loads(payload)["result"][0]["update_id"] == 1
    for _ in range(500):  # PTB parsing: meanwhile the next batch arrives
        if len(log) == 4:
            break
        await asyncio.sleep(0.01)
    assert log == ["asked from 1", "stored 1-3", "asked from 4", "stored 4-6"]
    behind = False
    code, payload = await request.do_request(url, "POST", get_updates(4))
    assert [u["update_id"] for u in json.loads(payload)["result"]] == [4, 5, 6]
    assert request.read_ahead == 1 and log[-1] == "stored 4-6"  # served from the read-ahead
    code, payload = await request.do_request(url, "POST", get_updates(7))  # caught up: asked when asked
    assert log[-2:] == ["asked from 7", "stored 7-9"] and request.read_ahead == 1
    await request.shutdown()


async def test_the_processor_measures_how_long_a_tap_waited_here_for_a_place() -> None:
    fake = FakeTelegram()
    fake.add_user(1, "A")
    fake.add_user(2, "B")
    clock = Clock()
    processor = PerSenderUpdateProcessor(1, clock=clock)  # one place: the second tap waits for it
    first, second = updates_from(fake, 1, "tap:x:1") + updates_from(fake, 2, "tap:x:2")

    async def slow() -> None:
        await asyncio.sleep(0)
        clock.now += 1.5  # the first tap holds the only place for 1.5 s

    async def quick() -> None:
        """Answers at once."""

    await asyncio.gather(processor.process_update(first, slow()), processor.process_update(second, quick()))
    assert processor.local_wait == pytest.approx(1.5)
