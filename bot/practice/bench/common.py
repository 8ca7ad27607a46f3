"""`league-bot bench broadcast`: one reminder fanned out to many groups through the real
scheduler, against the test suite's fake Telegram (flood limits on, 50 ms per call).

It prints one JSON line. It runs from a source checkout, since the fake lives in tests/.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.domain.config import Config, StorageConfig, TelegramConfig

if TYPE_CHECKING:
    from bot.domain.services import Services
    from bot.model.organisation import Organisation

TELEGRAM_RATE = 30  # messages per second, Telegram's overall limit for a bot


def _fake_telegram():
    from bot.practice.emulator import FakeRequest, FakeTelegram

    return FakeTelegram, FakeRequest


async def broadcast(groups: int, latency: float, *, instances: int = 1, db_url: str | None = None) -> dict:
    """`instances` bots on one database (PostgreSQL for more than one) against one fake Telegram:
    the reminder is written through the last, a follower; the leader sends, alone."""
    from bot.domain.schedule_grammar import Schedule
    from bot.model.organisation import Binding, OrgKind
    from bot.practice.bench.database import bench_storage, engine_of
    from bot.runtime.application import build_application, on_shutdown, on_startup
    from handlers.leadership import leading
    from handlers.scheduling import schedule_wake

    if instances > 1 and engine_of(db_url) != "postgresql":
        raise SystemExit("league-bot bench: --instances above 1 needs --db postgresql://… (SQLite admits one bot)")
    FakeTelegram, FakeRequest = _fake_telegram()
    fake = FakeTelegram(flood_limits=True)
    with tempfile.TemporaryDirectory() as folder, bench_storage(folder, db_url) as storage:
        config = replace(
            Config(),
            telegram=TelegramConfig(token="1:BENCH", rate_limit=True),
            storage=storage,
            county_admins=(1,),
        )
        config = replace(config, reminders=replace(config.reminders, quiet_start="", quiet_end="", weekly_digest=""))
        apps = []
        for _ in range(instances):
            app = build_application(config, FakeRequest(fake, latency=latency))
            await app.initialize()
            await on_startup(app)
            await app.start()
            apps.append(app)
        writer = apps[-1]
        services = writer.bot_data["services"]
        try:
            now = services.clock.now()
            async with services.db.transaction():
                for index in range(groups):
                    chat_id = -1_000_000 - index
                    fake.add_group(chat_id, f"group {index}")
                    org = await services.orgs.orgs.add(f"org {index}", OrgKind.TOWNSHIP, None, 1, now)
                    await services.groups.chats.upsert(chat_id, f"group {index}", "group", True, now)
                    await services.groups.chats.bind(chat_id, Binding.ORG, org.id, 1, now)
            due = services.clock.now()
            schedule = Schedule(kind="once", at=due, time=None)
            reminder = await services.reminders.reminders.add(
                subject_key=None,
                target_kind="all_groups",
                target_id=None,
                text="bench broadcast",
                schedule=schedule.to_json(),
                urgent=True,
                next_due_at=due,
                created_by=1,
                now=services.clock.now(),
            )
            started = time.monotonic()
            await schedule_wake(writer, now=True)  # a follower's wake does nothing: the leader polls
            # Queued (the reminder moves on), then sent by the outbox: done when nothing waits.
            while (
                await services.reminders.reminders.get(reminder.id)
            ).state == "active" or await services.outbox.pending():
                await asyncio.sleep(0.05)
            duration = time.monotonic() - started
            leaders = sum(1 for app in apps if leading(app))
        finally:
            for app in reversed(apps):
                await app.stop()
                await on_shutdown(app)
                await app.shutdown()
    received = [
        len([m for m in fake.bot_messages(-1_000_000 - i) if "bench broadcast" in (m.text or "")])
        for i in range(groups)
    ]
    limit = groups / TELEGRAM_RATE
    return {
        "bench": "broadcast",
        "groups": groups,
        "instances": instances,
        "engine": engine_of(db_url),
        "leaders": leaders,
        "latency_ms": round(latency * 1000),
        "delivered": sum(1 for count in received if count),
        "duplicates": sum(count - 1 for count in received if count > 1),
        "http_429": fake.http_429,
        "duration_s": round(duration, 2),
        "limit_s": round(limit, 2),
        "ratio_to_limit": round(duration / limit, 3),
    }


@contextmanager
def settled_heap() -> Iterator[None]:
    """Around a measured burst, on both sides of a comparison: the set-up's garbage is collected
    first, and what the set-up leaves alive (the application, the fake and its messages, the
    prepared updates) is kept out of the collector's passes during the burst, so a full pass over
    the fixtures does not land inside one side's measurement by chance. The burst's own objects
    are collected as usual."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _max_per_window(stamps: list[float], window: float) -> int:
    stamps, best, first = sorted(stamps), 0, 0
    for last, stamp in enumerate(stamps):
        while stamp - stamps[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


async def checkin(volunteers: int, seconds: float, latency: float) -> dict:
    """`签到` from many volunteers into one group, spread over `seconds`, 1 in 10 sent twice."""
    from telegram import Update

    from bot.domain.activities import ActivityDraft
    from bot.model.activity import Category, Place
    from bot.model.organisation import OrgKind
    from bot.runtime.application import (
        build_application,
        on_shutdown,
        on_startup,
        on_stop,
    )
    from bot.runtime.inbox import door_of

    FakeTelegram, FakeRequest = _fake_telegram()
    group, organiser = -4_000_001, 1

    fake = FakeTelegram(flood_limits=True)
    request = timed_request_class(FakeRequest, group)(fake, latency=latency)
    with tempfile.TemporaryDirectory() as folder:
        config = replace(
            Config(),
            telegram=TelegramConfig(token="1:BENCH", rate_limit=True),
            storage=StorageConfig(path=str(Path(folder) / "bench.db")),
            county_admins=(organiser,),
        )
        app = build_application(config, request)
        services = app.bot_data["services"]
        await app.initialize()
        await on_startup(app)
        await app.start()
        try:
            fake.add_user(organiser, "organiser")
            users = list(range(10_000, 10_000 + volunteers))
            for user_id in users:
                fake.add_user(user_id, f"volunteer {user_id}")
            fake.add_group(group, "activity group", admins=(organiser,), members=users)
            now = services.clock.now()
            await services.people.seen(organiser, "organiser", None, "zh-hans", private=True)
            org = await services.orgs.create(organiser, "bench township", OrgKind.TOWNSHIP, None)
            await services.groups.seen(group, "activity group", "group")
            await services.groups.bind_org(organiser, group, org.id, is_chat_admin=True)
            activity = await services.activities.create(
                organiser,
                ActivityDraft(
                    org_id=org.id,
                    title="bench tutoring",
                    category=Category.TUTORING,
                    starts_at=now + timedelta(minutes=5),
                    ends_at=now + timedelta(hours=3),
                    place=Place("village school"),
                    slots=volunteers,
                    expected_served=50,
                    counts_as_deed=False,
                ),
            )
            senders = users + users[::10]  # every tenth volunteer says 签到 twice
            arrived: dict[int, float] = {}
            pace = seconds / len(senders)
            started = time.monotonic()
            for index, user_id in enumerate(senders):
                await asyncio.sleep(max(0.0, started + index * pace - time.monotonic()))
                update = fake.user_sends(user_id, group, "签到")
                fake.discard_update(update["update_id"])
                arrived[update["message"]["message_id"]] = time.monotonic()
                # As the Updater hands it over: stored in the inbox first.
                await door_of(app).put(Update.de_json(update, app.bot))
            deadline = time.monotonic() + 60
            while len(request.reacted) < len(arrived) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            sheet = await services.attendance.sheet(activity.id)
        finally:
            await app.stop()
            await on_stop(app)
            await on_shutdown(app)
            await app.shutdown()
    latencies = [(request.reacted[m] - arrived[m]) * 1000 for m in arrived if m in request.reacted]
    per_user = [line.user_id for line in sheet if line.checked_in_at is not None]
    return {
        "bench": "checkin",
        "checkins": volunteers,
        "messages": len(arrived),
        "recorded": len(set(per_user)),
        "duplicates": len(per_user) - len(set(per_user)),
        "reactions": len(request.reacted),
        "group_msgs_per_min_max": _max_per_window(request.group_messages, 60.0),
        "latency_ms": {"p50": round(_percentile(latencies, 0.5)), "p99": round(_percentile(latencies, 0.99))},
        "api_latency_ms": round(latency * 1000),
        "seconds": seconds,
    }


GROUP_MESSAGE_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument", "sendPhoto"}
)


def timed_request_class(base: type, group: int) -> type:
    """The fake's request, noting when each reaction is set, each callback query answered, and
    each message or edit reaches `group` (the figures the benchmarks report)."""

    class TimedRequest(base):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.reacted: dict[int, float] = {}
            self.answered: dict[str, float] = {}
            self.group_messages: list[float] = []

        async def do_request(self, url, method, request_data=None, **kwargs):
            result = await super().do_request(url, method, request_data, **kwargs)
            endpoint = url.rsplit("/", 1)[-1]
            params = request_data.parameters if request_data is not None else {}
            if endpoint == "setMessageReaction":
                self.reacted[int(params["message_id"])] = time.monotonic()
            elif endpoint == "answerCallbackQuery":
                self.answered[str(params["callback_query_id"])] = time.monotonic()
            elif endpoint in GROUP_MESSAGE_METHODS and str(params.get("chat_id")) == str(group):
                self.group_messages.append(time.monotonic())
            return result

    return TimedRequest


def run(
    kind: str,
    *,
    groups: int,
    volunteers: int,
    seconds: float,
    latency: float,
    instances: int = 1,
    db_url: str | None = None,
    mode: str = "polling",
) -> int:
    if kind == "broadcast":
        figures = asyncio.run(broadcast(groups, latency, instances=instances, db_url=db_url))
    elif kind == "auction":
        from bot.practice.bench import auction as bench_auction

        figures = bench_auction.run(latency, db_url=db_url)
    elif kind == "checkin":
        figures = asyncio.run(checkin(volunteers, seconds, latency))
    elif kind == "report":
        from bot.practice.bench import report as bench_report

        figures = bench_report.run()
    elif kind == "rush":
        from bot.practice.bench import rush as bench_rush

        figures = bench_rush.run(bench_rush.Scale(round_trip=latency, mode=mode))
    else:
        print(
            f"league-bot bench: unknown benchmark {kind!r}; available: broadcast, checkin, auction, report, rush",
            file=sys.stderr,
        )
        return 2
    print(json.dumps(figures))
    return 0


async def add_lot_wishes(services: Services, actor: int, collectors: list[Organisation], count: int) -> list[int]:
    """`count` plain wishes (books, 50 yuan, no private details) spread over `collectors`: the lots
    of the auction benches. Returns their ids."""
    from bot.domain.wishes import WishDraft

    lots = []
    for index in range(count):
        wish = await services.wishes.add(
            actor,
            WishDraft(
                collector_org_id=collectors[index % len(collectors)].id,
                alias=f"孩子{index}",
                grade="三年级",
                text=f"心愿 {index}",
                category="books",
                value_yuan=50,
                consent=False,
            ),
        )
        lots.append(wish.id)
    return lots
