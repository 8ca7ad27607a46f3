"""`league-bot bench certificates`: a burst of certificate requests (500 volunteers tap "📄
certificate" at once, each with two activities on record) while other volunteers keep tapping
"sign up" under an activity post in a group, against the fake Telegram (50 ms per call).

Figures: how many certificates went out and how long the burst took to drain (target: 500 in
under 60 s), and how fast the other taps were answered meanwhile (target: p99 ≤ 250 ms). It
prints one JSON line.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.config import Config, StorageConfig, TelegramConfig
from bot.practice.bench.common import _percentile, timed_request_class

ORGANISER = 1
GROUP = -1_000_777
VOLUNTEERS_FROM = 20_000
TAPPERS_FROM = 40_000
TAPS_PER_SECOND = 20
DEADLINE_SECONDS = 180.0


class MovableClock:
    """The system clock, moved forward by hand (the activities on record must lie in the past);
    monotonic time is real: the update processor measures waits with it."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def monotonic(self) -> float:
        return time.monotonic()


def _request_class(base: type) -> type:
    """The timed request, also noting when each document reaches a private chat."""
    timed = timed_request_class(base, GROUP)

    class CertificateRequest(timed):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.documents: dict[int, float] = {}

        async def do_request(self, url, method, request_data=None, **kwargs):
            result = await super().do_request(url, method, request_data, **kwargs)
            if url.endswith("/sendDocument") and request_data is not None:
                self.documents[int(request_data.parameters["chat_id"])] = time.monotonic()
            return result

    return CertificateRequest


async def _seed(app, fake, clock: MovableClock, volunteers: int, tappers: int):
    """The county: one township with its group, two finished activities every volunteer attended,
    and one upcoming activity posted in the group (the other taps sign up for it)."""
    from bot.domain.activities import ActivityDraft
    from bot.domain.attendance import CheckInMethod
    from bot.model.activity import Category, Place
    from bot.model.organisation import OrgKind
    from handlers.activities import publish

    services = app.bot_data["services"]
    fake.add_user(ORGANISER, "organiser")
    users = list(range(VOLUNTEERS_FROM, VOLUNTEERS_FROM + volunteers))
    others = list(range(TAPPERS_FROM, TAPPERS_FROM + tappers))
    for user_id in users + others:
        fake.add_user(user_id, f"志愿者{user_id}")
    fake.add_group(GROUP, "bench group", admins=(ORGANISER,), members=others)
    await services.people.seen(ORGANISER, "organiser", None, "zh-hans", private=True)
    org = await services.orgs.create(ORGANISER, "城关镇团委", OrgKind.TOWNSHIP, None)
    await services.groups.seen(GROUP, "bench group", "group")
    await services.groups.bind_org(ORGANISER, GROUP, org.id, is_chat_admin=True)

    def draft(title: str, starts_in: timedelta, slots: int) -> ActivityDraft:
        start = services.clock.now() + starts_in
        return ActivityDraft(
            org_id=org.id,
            title=title,
            category=Category.TUTORING,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            place=Place("村小学"),
            slots=slots,
            expected_served=30,
            counts_as_deed=False,
        )

    done = [
        await services.activities.create(ORGANISER, draft(title, timedelta(minutes=5 + 150 * index), volunteers))
        for index, title in enumerate(("周六学业辅导", "敬老院探访"))
    ]
    async with services.db.transaction():
        for user_id in users:
            await services.people.seen(user_id, f"志愿者{user_id}", None, "zh-hans", private=True)
            for activity in done:
                await services.attendance.repo.put_attendance(
                    activity.id,
                    user_id,
                    checked_in_at=activity.starts_at,
                    checked_out_at=activity.ends_at,
                    walk_in=True,
                    no_show=False,
                    method=CheckInMethod.ORGANISER,
                )
    clock.offset = timedelta(hours=6)  # both activities are over
    upcoming = await services.activities.create(ORGANISER, draft("周末义诊", timedelta(days=1), tappers))
    published = await publish(app, upcoming)
    return users, others, upcoming, published


async def burst(volunteers: int, tappers: int, latency: float) -> dict:
    from telegram import Update

    from bot.practice.emulator import FakeRequest, FakeTelegram
    from bot.runtime.application import build_application, on_shutdown, on_startup, on_stop
    from bot.runtime.inbox import door_of
    from handlers.activities import SignupTap
    from handlers.records import CertificateTap, certificates_sent
    from handlers.records.buttons import ALL_YEARS

    fake = FakeTelegram(flood_limits=True)
    request = _request_class(FakeRequest)(fake, latency=latency)
    clock = MovableClock()
    with tempfile.TemporaryDirectory() as folder:
        config = replace(
            Config(),
            telegram=TelegramConfig(token="1:BENCH", rate_limit=True),
            storage=StorageConfig(path=str(Path(folder) / "bench.db")),
            county_admins=(ORGANISER,),
        )
        app = build_application(config, request, clock=clock)
        services = app.bot_data["services"]
        await app.initialize()
        await on_startup(app)
        await app.start()
        try:
            users, others, upcoming, _published = await _seed(app, fake, clock, volunteers, tappers)
            post = next(
                message.message_id
                for message in fake.bot_messages(GROUP)
                if SignupTap(activity=upcoming.id, action="in").pack() in message.callback_data()
            )
            door = door_of(app)
            # Warm up what each process does once (the font's working copy), as a running bot has.
            await asyncio.to_thread(_warm_font)
            tap = CertificateTap(year=ALL_YEARS).pack()
            started = time.monotonic()
            for user_id in users:
                await door.put(Update.de_json(fake.user_taps(user_id, user_id, 1, tap, forge=True), app.bot))
            asked: dict[str, float] = {}
            signup = SignupTap(activity=upcoming.id, action="in").pack()
            pace = 1 / TAPS_PER_SECOND
            for index, user_id in enumerate(others):
                if len(request.documents) >= volunteers:
                    break
                await asyncio.sleep(max(0.0, started + index * pace - time.monotonic()))
                update = fake.user_taps(user_id, GROUP, post, signup)
                fake.discard_update(update["update_id"])
                asked[update["callback_query"]["id"]] = time.monotonic()
                await door.put(Update.de_json(update, app.bot))
            deadline = time.monotonic() + DEADLINE_SECONDS
            while len(request.documents) < volunteers and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await certificates_sent(app)
            finished = max(request.documents.values(), default=started)
            issued = await services.db.fetch_value("SELECT COUNT(*) FROM certificates")
        finally:
            await app.stop()
            await on_stop(app)
            await on_shutdown(app)
            await app.shutdown()
    answered = [(request.answered[query] - at) * 1000 for query, at in asked.items() if query in request.answered]
    return {
        "bench": "certificates",
        "volunteers": volunteers,
        "certificates_issued": issued,
        "certificates_sent": len(request.documents),
        "burst_seconds": round(finished - started, 1),
        "other_taps": len(asked),
        "other_taps_answered": len(answered),
        "tap_answer_ms": {"p50": round(_percentile(answered, 0.5)), "p99": round(_percentile(answered, 0.99))},
        "api_latency_ms": round(latency * 1000),
    }


def _warm_font() -> None:
    from bot.domain.charts import cjk_font_path
    from bot.domain.records.pdf import PosterPage, poster_pdf

    poster_pdf(PosterPage("预热", ("志愿服务",), "https://t.me/bench", "预热"), cjk_font_path())


def run(latency: float, volunteers: int = 500) -> dict:
    return asyncio.run(burst(volunteers, tappers=max(200, volunteers), latency=latency))
