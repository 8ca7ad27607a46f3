"""`league-bot bench broadcast`: one reminder fanned out to many groups through the real
scheduler, against the test suite's fake Telegram (flood limits on, 50 ms per call).

It prints one JSON line. It runs from a source checkout, since the fake lives in tests/.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bot.config import Config, StorageConfig, TelegramConfig

TELEGRAM_RATE = 30  # messages per second, Telegram's overall limit for a bot


def _fake_telegram():
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        from tests.fake_telegram import FakeRequest, FakeTelegram
    except ImportError as error:
        raise SystemExit(f"league-bot bench: needs a source checkout with tests/fake_telegram ({error})") from None
    return FakeTelegram, FakeRequest


async def broadcast(groups: int, latency: float) -> dict:
    from bot.application import build_application, on_shutdown, on_startup
    from bot.schedule_grammar import Schedule
    from handlers.scheduling import schedule_wake
    from storage.models import Binding, OrgKind

    FakeTelegram, FakeRequest = _fake_telegram()
    fake = FakeTelegram(flood_limits=True)
    with tempfile.TemporaryDirectory() as folder:
        config = replace(Config(), telegram=TelegramConfig(token="1:BENCH", rate_limit=True),
                         storage=StorageConfig(path=str(Path(folder) / "bench.db")), county_admins=(1,))
        config = replace(config, reminders=replace(config.reminders, quiet_start="", quiet_end="",
                                                   weekly_digest=""))
        app = build_application(config, FakeRequest(fake, latency=latency))
        services = app.bot_data["services"]
        await app.initialize()
        await on_startup(app)
        await app.start()
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
                subject_key=None, target_kind="all_groups", target_id=None, text="bench broadcast",
                schedule=schedule.to_json(), urgent=True, next_due_at=due, created_by=1,
                now=services.clock.now(),
            )
            started = time.monotonic()
            await schedule_wake(app, now=True)
            while (await services.reminders.reminders.get(reminder.id)).state == "active":
                await asyncio.sleep(0.05)
            duration = time.monotonic() - started
        finally:
            await app.stop()
            await on_shutdown(app)
            await app.shutdown()
    received = [len([m for m in fake.bot_messages(-1_000_000 - i) if "bench broadcast" in (m.text or "")])
                for i in range(groups)]
    limit = groups / TELEGRAM_RATE
    return {
        "bench": "broadcast",
        "groups": groups,
        "latency_ms": round(latency * 1000),
        "delivered": sum(1 for count in received if count),
        "duplicates": sum(count - 1 for count in received if count > 1),
        "http_429": fake.http_429,
        "duration_s": round(duration, 2),
        "limit_s": round(limit, 2),
        "ratio_to_limit": round(duration / limit, 3),
    }


def run(kind: str, groups: int, latency: float) -> int:
    if kind != "broadcast":
        print(f"league-bot bench: unknown benchmark {kind!r}; available: broadcast", file=sys.stderr)
        return 2
    print(json.dumps(asyncio.run(broadcast(groups, latency))))
    return 0
