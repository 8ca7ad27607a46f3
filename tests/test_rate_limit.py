"""FairRateLimiter against the strict fake Telegram, in real time.

The fake answers 429 as soon as more than 30 messages start in any sliding second, or more
than 20 in any sliding minute in one group. Where a test needs a shorter group window (to
stay fast), it shortens the fake's window constants with monkeypatch, so the fake still
checks exactly what the limiter claims to enforce.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import time

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.practice.emulator import FakeRequest, FakeTelegram
from bot.practice.emulator import core as fake_core
from bot.runtime.rate_limit import FairRateLimiter, retry_after_seconds

TOKEN = "123:ABC"
GROUP_A, GROUP_B = -100, -101

# PTB 22 itself warns about RetryAfter.retry_after becoming a timedelta when raising it.
_RETRY_AFTER_WARNING = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def _groups(fake: FakeTelegram, count: int) -> list[int]:
    ids = [-100 - i for i in range(count)]
    for i, chat_id in enumerate(ids):
        fake.add_group(chat_id, f"g{i}")
    return ids


async def _bot(fake: FakeTelegram, limiter: FairRateLimiter, latency: float = 0.0) -> ExtBot:
    bot = ExtBot(token=TOKEN, request=FakeRequest(fake, latency=latency), rate_limiter=limiter)
    await bot.initialize()
    return bot


def _fill_group_window(fake: FakeTelegram, chat_id: int) -> None:
    """Send the group's 20 allowed messages behind the limiter's back."""
    for i in range(20):
        status, _ = fake.handle("sendMessage", {"chat_id": chat_id, "text": f"direct {i}"})
        assert status == 200


async def _sent_at(coro, started: float) -> float:
    await coro
    return time.monotonic() - started


async def test_broadcast_runs_at_the_overall_limit_without_429() -> None:
    fake = FakeTelegram(flood_limits=True)
    chats = _groups(fake, 60)
    bot = await _bot(fake, FairRateLimiter(), latency=0.05)

    started = time.monotonic()
    await asyncio.gather(*(bot.send_message(chat_id, "通知") for chat_id in chats))
    elapsed = time.monotonic() - started

    assert fake.http_429 == 0
    assert all(len(fake.bot_messages(chat_id)) == 1 for chat_id in chats)
    # 30 start at once, the next 30 one window later; calls overlap their 50 ms latency
    # (one after another they alone would take 3 s). Generous upper margin: a loaded CI machine.
    assert 1.0 <= elapsed < 2.5
    await bot.shutdown()


async def test_one_group_is_held_to_its_own_window(monkeypatch) -> None:
    monkeypatch.setattr(fake_core, "GROUP_WINDOW_SECONDS", 1.0)
    monkeypatch.setattr(fake_core, "GROUP_WINDOW_LIMIT", 5)
    fake = FakeTelegram(flood_limits=True)
    fake.add_group(GROUP_A, "团委群")
    bot = await _bot(fake, FairRateLimiter(group_max_rate=5, group_time_period=1))

    started = time.monotonic()
    await asyncio.gather(*(bot.send_message(GROUP_A, f"第{i}条") for i in range(15)))
    elapsed = time.monotonic() - started

    assert fake.http_429 == 0
    assert sorted(m.text for m in fake.bot_messages(GROUP_A)) == sorted(f"第{i}条" for i in range(15))
    assert elapsed >= 2.0  # three windows of five
    await bot.shutdown()


@_RETRY_AFTER_WARNING
async def test_a_429_delays_only_its_own_chat(monkeypatch, caplog) -> None:
    monkeypatch.setattr(fake_core, "GROUP_WINDOW_SECONDS", 1.0)  # retry_after = 1 s
    fake = FakeTelegram(flood_limits=True)
    fake.add_group(GROUP_A, "满了的群")
    fake.add_group(GROUP_B, "别的群")
    _fill_group_window(fake, GROUP_A)
    bot = await _bot(fake, FairRateLimiter())
    caplog.set_level(logging.INFO, logger="bot.runtime.rate_limit")

    started = time.monotonic()
    first_a = asyncio.create_task(_sent_at(bot.send_message(GROUP_A, "A1"), started))
    to_b = asyncio.create_task(_sent_at(bot.send_message(GROUP_B, "B"), started))
    while fake.http_429 == 0:
        await asyncio.sleep(0.01)
    # Sent while A is in its retry_after window: must wait for it, not hit 429 itself.
    second_a = asyncio.create_task(_sent_at(bot.send_message(GROUP_A, "A2"), started))
    a1_at, b_at, a2_at = await asyncio.gather(first_a, to_b, second_a)

    assert a1_at >= 1.0 and a2_at >= 1.0
    assert b_at < a1_at - 0.5  # no global stall: B went out long before A's retry
    assert fake.http_429 == 1
    assert [m.text for m in fake.bot_messages(GROUP_B)] == ["B"]
    assert {m.text for m in fake.bot_messages(GROUP_A)[20:]} == {"A1", "A2"}
    retries = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(retries) == 1
    assert str(GROUP_A) in retries[0].getMessage()
    assert "A1" not in retries[0].getMessage()  # never the message text
    await bot.shutdown()


@_RETRY_AFTER_WARNING
async def test_per_request_retry_limit_reraises_and_still_blocks_the_chat(monkeypatch) -> None:
    monkeypatch.setattr(fake_core, "GROUP_WINDOW_SECONDS", 1.0)
    fake = FakeTelegram(flood_limits=True)
    fake.add_group(GROUP_A, "满了的群")
    _fill_group_window(fake, GROUP_A)
    bot = await _bot(fake, FairRateLimiter(max_retries=3))

    with pytest.raises(RetryAfter):
        await bot.send_message(GROUP_A, "不重试", rate_limit_args={"max_retries": 0})
    assert fake.http_429 == 1

    # The next request waits out the block instead of provoking another 429.
    started = time.monotonic()
    await bot.send_message(GROUP_A, "稍后")
    assert time.monotonic() - started >= 0.8
    assert fake.http_429 == 1
    assert fake.bot_messages(GROUP_A)[-1].text == "稍后"
    await bot.shutdown()


async def test_only_message_requests_are_throttled() -> None:
    limiter = FairRateLimiter(overall_max_rate=1, overall_time_period=5)
    calls: list[str] = []

    def request(endpoint: str, **data):
        async def callback() -> bool:
            calls.append(endpoint)
            return True

        return limiter.process_request(callback, (), {}, endpoint, data, None)

    await request("sendMessage", chat_id=-5, text="x")  # takes the only slot
    started = time.monotonic()
    await request("getChatMember", chat_id=-5, user_id=1)
    await request("answerCallbackQuery", callback_query_id="1")
    await request("sendChatAction", chat_id=-5, action="typing")
    await request("editMessageText", inline_message_id="abc", text="y")  # no chat
    assert time.monotonic() - started < 0.5  # the only slot frees after five seconds

    for endpoint in ("sendMessage", "editMessageText", "copyMessage"):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(request(endpoint, chat_id=7, message_id=1), 0.2)
    assert calls.count("sendMessage") == 1
    assert "copyMessage" not in calls


async def test_idle_group_windows_are_dropped() -> None:
    limiter = FairRateLimiter(overall_max_rate=0, group_max_rate=1, group_time_period=0.05)

    async def callback() -> bool:
        return True

    for chat_id in range(-1, -51, -1):
        await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat_id}, None)
    assert limiter.tracked_groups == 50
    await asyncio.sleep(1.05)  # sweeps run at most once a second
    await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": -99}, None)
    assert limiter.tracked_groups == 1


@_RETRY_AFTER_WARNING
@pytest.mark.parametrize("timedelta_mode", [False, True])
def test_retry_after_is_read_as_seconds(monkeypatch, timedelta_mode: bool) -> None:
    if timedelta_mode:
        monkeypatch.setenv("PTB_TIMEDELTA", "true")
    else:
        monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    assert retry_after_seconds(RetryAfter(3)) == 3.0
    assert retry_after_seconds(RetryAfter(dtm.timedelta(seconds=2.5))) == 2.5


def _texts_in_order(fake: FakeTelegram) -> list[str]:
    """What reached the fake (sends and edits), in the order it got them."""
    return [call["text"] for method, call in fake.calls if method in ("sendMessage", "editMessageText")]


async def test_a_private_notice_goes_before_waiting_edits_and_broadcasts() -> None:
    fake = FakeTelegram(flood_limits=True)
    fake.add_user(1001, "winner")
    fake.add_group(GROUP_A, "hub")
    bot = await _bot(fake, FairRateLimiter(overall_max_rate=1, overall_time_period=0.2))
    page = await bot.send_message(1001, "page 1")  # takes the only place for 0.2 s
    waiting = [
        asyncio.create_task(bot.send_message(GROUP_A, "broadcast", rate_limit_args={"priority": "background"})),
        asyncio.create_task(
            bot.edit_message_text(
                "page 2", chat_id=1001, message_id=page.message_id, rate_limit_args={"priority": "normal"}
            )
        ),
    ]
    await asyncio.sleep(0.01)
    waiting.append(asyncio.create_task(bot.send_message(1001, "you won")))  # later, but urgent
    await asyncio.gather(*waiting)
    assert _texts_in_order(fake) == ["page 1", "you won", "page 2", "broadcast"]
    await bot.shutdown()


async def test_an_edit_made_while_handling_an_update_goes_before_background_edits() -> None:
    from telegram import Update

    from bot.runtime.updates import PerSenderUpdateProcessor

    fake = FakeTelegram(flood_limits=True)
    fake.add_user(1001, "cadre")
    bot = await _bot(fake, FairRateLimiter(overall_max_rate=1, overall_time_period=0.2))
    pages = [await bot.send_message(1001, f"page {n}") for n in (1, 2)]  # the second takes the place
    processor = PerSenderUpdateProcessor(4)
    tap = Update.de_json(fake.user_taps(1001, 1001, pages[0].message_id, "ab:1", forge=True), bot)

    async def handle() -> None:
        # A background refresh the update starts (a task inherits the update's context)...
        refresh = asyncio.create_task(bot.edit_message_text("refreshed", chat_id=1001, message_id=pages[1].message_id))
        await asyncio.sleep(0.01)
        # ...then the page turn the person is waiting for: it overtakes the refresh.
        await bot.edit_message_text("turned", chat_id=1001, message_id=pages[0].message_id)
        await refresh

    await processor.process_update(tap, handle())
    assert _texts_in_order(fake)[2:] == ["turned", "refreshed"]
    await bot.shutdown()


async def test_an_edit_superseded_while_waiting_is_never_sent() -> None:
    fake = FakeTelegram(flood_limits=True)
    fake.add_user(1001, "cadre")
    bot = await _bot(fake, FairRateLimiter(overall_max_rate=1, overall_time_period=0.2))
    page = await bot.send_message(1001, "page 1")
    edits = [
        asyncio.create_task(bot.edit_message_text(f"page {n}", chat_id=1001, message_id=page.message_id))
        for n in (2, 3, 4)
    ]
    button = InlineKeyboardMarkup([[InlineKeyboardButton("▶", callback_data="next")]])
    other = asyncio.create_task(
        bot.edit_message_reply_markup(chat_id=1001, message_id=page.message_id, reply_markup=button)
    )
    shown = await asyncio.gather(*edits, other)
    assert _texts_in_order(fake) == ["page 1", "page 4"]  # 2 and 3 were dropped, 4 carries the news
    assert [message.text for message in shown[:3]] == ["page 4"] * 3  # each caller sees what is shown
    assert fake.count_calls("editMessageReplyMarkup") == 1  # another kind of edit is not an older copy
    await bot.shutdown()


async def test_no_429_when_the_event_loop_is_too_busy_to_send_on_time() -> None:
    fake = FakeTelegram(flood_limits=True)
    chats = _groups(fake, 60)
    bot = await _bot(fake, FairRateLimiter(), latency=0.02)
    sending = asyncio.gather(*(bot.send_message(chat_id, "通知") for chat_id in chats))
    await asyncio.sleep(0)  # the first 30 are admitted and on their way...
    time.sleep(0.3)  # ...when other work holds the loop: they reach Telegram 0.3 s late
    await sending
    # Counting from admission, the next 30 would start one period after the first were
    # admitted, i.e. within a second of their late arrival.
    assert fake.http_429 == 0
    assert all(len(fake.bot_messages(chat_id)) == 1 for chat_id in chats)
    await bot.shutdown()


async def test_callback_answers_never_wait_for_the_message_budget() -> None:
    fake = FakeTelegram(flood_limits=True)
    fake.add_user(1001, "cadre")
    bot = await _bot(fake, FairRateLimiter(overall_max_rate=1, overall_time_period=5))
    await bot.send_message(1001, "takes the only place")
    queued = asyncio.create_task(bot.send_message(1001, "waits five seconds"))
    query = fake.user_taps(1001, 1001, 1, "x", forge=True)["callback_query"]["id"]
    started = time.monotonic()
    assert await bot.answer_callback_query(query, text="ok")
    assert time.monotonic() - started < 0.5
    queued.cancel()
    await bot.shutdown()


async def test_switched_off_it_throttles_nothing_and_accepts_priorities() -> None:
    fake = FakeTelegram(flood_limits=False)
    chats = _groups(fake, 40)
    bot = await _bot(fake, FairRateLimiter.off())
    started = time.monotonic()
    await asyncio.gather(
        *(bot.send_message(chat_id, "x", rate_limit_args={"priority": "background"}) for chat_id in chats)
    )
    assert time.monotonic() - started < 0.5
    with pytest.raises(ValueError, match="priority"):
        await bot.send_message(chats[0], "x", rate_limit_args={"priority": "urgent!"})
    await bot.shutdown()
