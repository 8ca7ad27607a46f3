"""One running sandbox: the emulator over HTTP, the real bot polling it, the page server.

Everything runs in one process and one asyncio loop (the bot), plus two HTTP server threads
(the emulator's and the page's). The bot talks to the emulator exactly as in production,
through PTB's HTTPXRequest and `telegram.base_url`; the page acts on the emulator's world
(a person sends, taps...) and the bot picks the updates up by long polling.

The data folder holds only `sandbox.db`, marked as the sandbox's (storage/demo_seed.py). A
file there that is not the sandbox's is never opened, migrated or deleted: the sandbox
refuses to start. Each start begins afresh (the emulator's chats live in memory, so an old
database would point at messages that no longer exist).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import tomllib
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.domain.config import Config, RemindersConfig, StorageConfig, TelegramConfig
from bot.practice.emulator import FakeTelegram, serve
from bot.practice.sandbox.clock import SandboxClock, daytime
from bot.practice.sandbox.world import (
    BOT_NAME,
    BOT_USERNAME,
    World,
    base_world,
    seed_records,
)
from storage.demo_seed import (
    NotSandboxDatabase,
    create_sandbox_database,
    is_sandbox_database,
    remove_sandbox_database,
)

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.domain.services import Services
    from bot.practice.emulator.http import FakeServer
    from bot.practice.sandbox.crowd import Crowds
    from bot.practice.sandbox.server import PageServer

log = logging.getLogger(__name__)

DB_NAME = "sandbox.db"
LOCK_NAME = "sandbox.lock"
# A fixed, obviously fake token: the sandbox never reads a real one.
TOKEN = "1000001:SANDBOX-practice-only-not-a-real-token"
HOST = "127.0.0.1"


class SandboxRefused(Exception):
    """The sandbox must not start (a database that is not its own); the message says why."""


class PortUnavailable(Exception):
    """The page's port cannot be had (taken, or not ours to take)."""

    def __init__(self, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {HOST}:{port} ({reason})")
        self.port = port


def check_database(path: Path, config_path: Path | None = None) -> None:
    """Refuse a file that is not the sandbox's, and the configured real database."""
    path = path.resolve()
    real = configured_database(config_path)
    if real is not None and real == path:
        raise SandboxRefused(
            f"{path} is the real bot's database (storage.path in {config_path});"
            " give the sandbox its own folder with --data"
        )
    if path.exists() and not is_sandbox_database(path):
        raise SandboxRefused(
            f"{path} exists and is not a sandbox database; the sandbox never touches"
            " other data: choose an empty folder with --data"
        )


def configured_database(config_path: Path | None) -> Path | None:
    """storage.path of the real config, if there is one (only that key is looked at)."""
    if config_path is None:
        env = os.environ.get("LEAGUE_BOT_CONFIG")
        config_path = Path(env) if env else Path("config.toml")
    try:
        with open(config_path, "rb") as handle:
            storage = tomllib.load(handle).get("storage", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    value = storage.get("path", StorageConfig().path) if isinstance(storage, dict) else None
    if not isinstance(value, str):
        return None
    target = Path(value)
    if not target.is_absolute():
        target = Path.cwd() / target
    return target.resolve()


def sandbox_config(db_path: Path, base_url: str, base_file_url: str, admin_id: int) -> Config:
    return Config(
        telegram=TelegramConfig(token=TOKEN, base_url=base_url, base_file_url=base_file_url, rate_limit=True),
        storage=StorageConfig(path=str(db_path)),
        # No quiet hours: practising in the evening must not hold the auction's reminders back.
        reminders=replace(RemindersConfig(), quiet_start="", quiet_end=""),
        county_admins=(admin_id,),
        log_level="WARNING",
    )


class Sandbox:
    """`await start()` … `await stop()`; `page_url` once started."""

    def __init__(
        self, data_dir: str | Path, *, port: int = 8765, empty: bool = False, config_path: Path | None = None
    ) -> None:
        self.data_dir = Path(data_dir)
        self.db_path = self.data_dir / DB_NAME
        self.port = port
        self.empty = empty
        self.config_path = config_path
        self.clock = SandboxClock()
        self.fake: FakeTelegram | None = None
        self.application: Application | None = None
        self.world: World | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.crowds: Crowds | None = None
        self._emulator: FakeServer | None = None
        self._page: PageServer | None = None
        self.page_url = ""
        self.started_at: datetime | None = None
        self._jumping = asyncio.Lock()
        self._lock: TextIO | None = None

    @property
    def app(self) -> Application:
        if self.application is None:
            raise RuntimeError("the sandbox is not running")
        return self.application

    @property
    def services(self) -> Services:
        return self.app.bot_data["services"]

    async def start(self) -> None:
        from telegram import Update

        from bot.practice.sandbox.crowd import Crowds
        from bot.practice.sandbox.server import bind_page
        from bot.runtime.application import build_application, on_startup

        check_database(self.db_path, self.config_path)
        self._hold_folder()
        # The port first: a taken one stops the start before the bot polls (no shutdown noise).
        try:
            self._page = page = bind_page(self, HOST, self.port)
        except OSError as error:
            raise PortUnavailable(self.port, error.strerror or str(error)) from None
        try:
            remove_sandbox_database(self.db_path)
        except NotSandboxDatabase as error:  # replaced between the check and now
            raise SandboxRefused(str(error)) from None
        create_sandbox_database(self.db_path)
        self.loop = asyncio.get_running_loop()
        self.fake = fake = FakeTelegram(
            bot_username=BOT_USERNAME, bot_first_name=BOT_NAME, flood_limits=True, wall_clock=self.clock.timestamp
        )
        self.world = world = base_world(fake)
        self._emulator = emulator = serve(fake, host=HOST)
        config = sandbox_config(self.db_path, emulator.base_url, emulator.base_file_url, world.admin.user_id)
        self.clock.jump_to(daytime(self.clock.now(), config.zone))
        self.application = application = build_application(config, clock=self.clock)
        await application.initialize()
        await on_startup(application)
        published = await seed_records(self.services, fake, world, empty=self.empty)
        if application.updater is None:
            raise RuntimeError("the sandbox's bot needs PTB's updater (long polling)")
        await application.updater.start_polling(
            allowed_updates=Update.ALL_TYPES, drop_pending_updates=False, poll_interval=0.0, timeout=10
        )
        await application.start()
        await self._publish(published)
        self.crowds = Crowds(self)
        page.start()
        self.page_url = f"http://{HOST}:{page.port}/"
        self.started_at = self.clock.now()

    async def _publish(self, published: dict) -> None:
        """What the seed shows in Telegram: the auction's announcement, the activity posts."""
        from handlers.activities import publish
        from handlers.auction import announce

        if published.get("session") is not None:
            await announce(self.app, published["session"])
        for activity in published.get("activities", ()):
            await publish(self.app, activity)
        if published.get("campaign") is not None:
            from handlers.visits import post_progress

            await post_progress(self.app, published["campaign"])

    def _hold_folder(self) -> None:
        """One sandbox per folder: each start begins afresh, which would pull the database out from
        under a sandbox already running there. The lock ends with the process, however it ends."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock = open(self.data_dir / LOCK_NAME, "w")  # noqa: SIM115 - held until stop()
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise SandboxRefused(
                f"another sandbox is running with the folder {self.data_dir}; stop it first,"
                " or give this one its own folder with --data"
            ) from None
        self._lock = lock

    async def stop(self) -> None:
        from bot.runtime.application import on_shutdown, on_stop

        if self._page is not None:
            self._page.close()
            self._page = None
        if self.crowds is not None:
            await self.crowds.stop_all()
        application = self.application
        if application is not None:
            if application.updater is not None and application.updater.running:
                if self.fake is not None:
                    self.fake.interrupt_long_polls()
                await application.updater.stop()
            if application.running:
                await application.stop()
                await on_stop(application)
            await application.shutdown()
            await on_shutdown(application)
            self.application = None
        if self._emulator is not None:
            self._emulator.close()
            self._emulator = None
        if self._lock is not None:
            self._lock.close()  # releases the folder
            self._lock = None

    async def __aenter__(self) -> Sandbox:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- the clock ------------------------------------------------------------------------------
    async def upcoming_events(self, limit: int = 8) -> list[dict]:
        """Scheduled moments the bot acts at, soonest first: auction start/end, reminders,
        activity start/end."""
        services = self.services
        now = self.clock.now()
        events: list[tuple[datetime, str, str]] = []
        for session in await services.auction.upcoming_sessions():
            if session.state == "scheduled":
                events.append((session.starts_at, "auction_start", session.title))
            elif session.state == "live":
                events.append((session.ends_at, "auction_end", session.title))
        for reminder in await services.reminders.reminders.active():
            events.append(
                (
                    services.reminders.send_time(reminder),
                    "reminder",
                    reminder.text if reminder.content_kind != "weekly_digest" else "",
                )
            )
        for activity in await services.activities.repo.upcoming(now):
            if activity.starts_at > now:
                events.append((activity.starts_at, "activity_start", activity.title))
            events.append((activity.ends_at, "activity_end", activity.title))
        # The summary goes out once check-out has closed, a while after the end.
        window = timedelta(minutes=services.config.activities.checkin_closes_after_minutes)
        horizon = now + timedelta(days=30)
        for activity in await services.activities.due_summaries(horizon):
            events.append((activity.ends_at + window, "activity_summary", activity.title))
        events = sorted((e for e in events if e[0] > now), key=lambda e: e[0])[:limit]
        zone = services.config.zone
        return [
            {
                "at": at.isoformat(),
                "local": at.astimezone(zone).strftime("%m-%d %H:%M"),
                "kind": kind,
                "title": title[:60],
            }
            for at, kind, title in events
        ]

    async def jump(self, at: str | None = None) -> dict:
        """Move the clock to the next event (or to the listed event at `at`) and let the bot act.

        Events on the way are stepped through in order, each at its own moment, so a reminder
        due before the auction's start is sent on time, before the board, and not "late"."""
        from handlers.activities import send_due_summaries
        from handlers.auction import auction_tick
        from handlers.scheduling import schedule_wake, telegram_sender

        events = await self.upcoming_events(limit=50)
        if not events:
            return {"moved_seconds": 0, "event": None}
        target = events[0] if at is None else next((e for e in events if e["at"] == at), None)
        if target is None:
            return {"moved_seconds": 0, "event": None}
        moved = 0.0
        async with self._jumping:
            for event in events:
                if event["at"] > target["at"]:
                    break
                moved += self.clock.jump_to(datetime.fromisoformat(event["at"])).total_seconds()
                await self.services.reminders.deliver_due(telegram_sender(self.app))
                await auction_tick(self.app)
                await send_due_summaries(self.app)
            await schedule_wake(self.app, now=True)
        return {"moved_seconds": round(moved), "event": target}

    def local_now(self) -> str:
        return self.clock.now().astimezone(self.services.config.zone).strftime("%Y-%m-%d %H:%M:%S")
