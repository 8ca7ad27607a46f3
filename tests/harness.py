"""The production Application, driven through the strict fake Telegram, with a hand-moved clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram import Update
from telegram.ext import Application

from bot.domain.config import Config, StorageConfig, TelegramConfig
from bot.domain.errors import DomainError
from bot.practice.emulator import FakeRequest, FakeTelegram, UserClient
from bot.runtime.application import build_application, on_shutdown, on_startup, on_stop
from handlers.callback_data import CallbackDataError
from tests.pg_server import fresh_database_url

COUNTY_ADMIN_ID = 100001
TOKEN = "123456:TEST-TOKEN"


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 11, 26, 2, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        """Moves with `advance`, never backwards."""
        return (self.moment - _EPOCH).total_seconds()

    def advance(self, **delta: float) -> None:
        step = timedelta(**delta)
        if step < timedelta():
            raise ValueError("the test clock only moves forward")
        self.moment += step


def test_config(tmp_path: Path, **overrides) -> Config:
    config = Config(
        telegram=TelegramConfig(token=TOKEN, rate_limit=False),
        storage=StorageConfig(path=str(tmp_path / "test.db"), url=fresh_database_url(tmp_path)),
        county_admins=(COUNTY_ADMIN_ID,),
    )
    return replace(config, **overrides)


class Harness:
    def __init__(self, config: Config, fake: FakeTelegram, clock: FakeClock) -> None:
        self.config = config
        self.fake = fake
        self.clock = clock
        self.errors: list[BaseException] = []
        self.app: Application = build_application(config, FakeRequest(fake), clock=clock)
        self.app.add_error_handler(self._record_error)
        self.services = self.app.bot_data["services"]

    async def _record_error(self, update: object, context) -> None:
        if not isinstance(context.error, DomainError | CallbackDataError):
            self.errors.append(context.error)

    async def start(self) -> None:
        await self.app.initialize()
        await on_startup(self.app)

    async def stop(self) -> None:
        await on_stop(self.app)
        await on_shutdown(self.app)
        await self.app.shutdown()

    async def tick(self):
        """What the wake-up job does, at the fake clock's "now"."""
        from handlers.scheduling import telegram_sender

        return await self.services.reminders.deliver_due(telegram_sender(self.app))

    async def deliver(self, update: dict) -> None:
        # The fake also queues every update for getUpdates; in-process tests deliver directly.
        self.fake.discard_update(update["update_id"])
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await self.send_queued()

    async def send_queued(self) -> int:
        """What the outbox's sender job does when the bot runs: send the messages queued (a
        winner's details, a promotion, a handover note), one at a time."""
        from handlers.outbox import drain_outbox

        return await drain_outbox(self.app)

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        language_code: str = "zh-hans",
        started: bool = True,
    ) -> UserClient:
        self.fake.add_user(user_id, first_name, username=username, language_code=language_code, started=started)
        return UserClient(self.fake, user_id, self.deliver)

    def admin(self) -> UserClient:
        return self.user(COUNTY_ADMIN_ID, "县管理员", username="county_admin")

    async def group_with_bot(
        self,
        chat_id: int,
        title: str,
        *,
        admins: tuple[int, ...] = (),
        members: tuple[int, ...] = (),
        added_by: int = COUNTY_ADMIN_ID,
    ) -> int:
        self.fake.add_group(chat_id, title, admins=admins, members=members)
        await self.deliver(self.fake.bot_added_to_group(chat_id, added_by))
        return chat_id
