"""The real `league-bot run` process against the fake Telegram served over HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.practice.emulator import FakeTelegram, serve

ADMIN = 100001
HUB = -1009
TOKEN = "424242:E2E-TOKEN"


def wait_for(predicate, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def served_fake():
    fake = FakeTelegram()
    server = serve(fake)
    yield fake, server
    server.close()


def start_bot(tmp_path: Path, server) -> subprocess.Popen:
    config = tmp_path / "config.toml"
    config.write_text(
        f"county_admins = [{ADMIN}]\n"
        f'[telegram]\nbase_url = "{server.base_url}"\nbase_file_url = "{server.base_file_url}"\n'
        f'[storage]\npath = "{tmp_path / "bot.db"}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def bot_texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.text or "" for m in fake.bot_messages(chat_id)]


def test_run_answers_start_binds_a_group_and_stops_on_sigterm(tmp_path, served_fake):
    fake, server = served_fake
    fake.add_user(ADMIN, "县管理员", username="county_admin")
    # Sent while the bot was down: it must still be answered (pending updates are kept).
    fake.user_sends(ADMIN, ADMIN, "/start")
    process = start_bot(tmp_path, server)
    try:
        wait_for(lambda: any("团县委的工作助手" in t for t in bot_texts(fake, ADMIN)), "the /start answer")
        fake.add_group(HUB, "县团干部群", admins=(ADMIN,))
        fake.bot_added_to_group(HUB, ADMIN)
        wait_for(lambda: bot_texts(fake, HUB), "the bot's hello in the group")
        fake.user_sends(ADMIN, HUB, "/bind")
        wait_for(lambda: len(bot_texts(fake, HUB)) >= 2, "the /bind answer")
        before = len(fake.bot_messages(ADMIN))
        fake.user_sends(ADMIN, ADMIN, f"/start bind_{HUB}")
        picker = wait_for(lambda: fake.bot_messages(ADMIN)[before:], "the binding picker")[0]
        hub_button = next(data for label, data in picker.buttons() if "全县团干部群" in label)
        fake.user_taps(ADMIN, ADMIN, picker.message_id, hub_button)
        wait_for(
            lambda: any("确认绑定" in label for label in fake.last_bot_message(ADMIN).button_labels()),
            "the confirmation",
        )
        confirm = fake.last_bot_message(ADMIN)
        fake.user_taps(
            ADMIN, ADMIN, confirm.message_id, next(data for label, data in confirm.buttons() if "确认绑定" in label)
        )
        wait_for(
            lambda: any(
                "本群已绑定为 <b>全县团干部群</b>" in t or "本群已绑定为 全县团干部群" in t
                for t in bot_texts(fake, HUB)
            ),
            "the binding notice in the group",
        )
        assert fake.commands(scope={"type": "all_private_chats"}, language_code="zh")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    stderr = process.stderr.read()
    assert code == 0, stderr[-2000:]
    assert "Traceback" not in stderr
    assert TOKEN not in stderr and TOKEN not in process.stdout.read()
    assert "database closed" in stderr
    assert fake.unknown_methods == []


def seed_hub_reminder(db_path: Path, due_in_seconds: float) -> None:
    """Bind a hub and store a one-off reminder due shortly, as a county admin's /remind would."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from bot.domain.schedule_grammar import Schedule
    from bot.model.organisation import Binding
    from storage.chats import ChatRepository
    from storage.db import Database
    from storage.reminders import ReminderRepository

    async def seed() -> None:
        db = Database(db_path)
        await db.open()
        now = datetime.now(UTC).replace(microsecond=0)
        due = now + timedelta(seconds=due_in_seconds)
        chats = ChatRepository(db)
        await chats.upsert(HUB, "县团干部群", "group", True, now)
        await chats.bind(HUB, Binding.HUB, None, ADMIN, now)
        await ReminderRepository(db).add(
            subject_key=None,
            target_kind="hub",
            target_id=None,
            text="五分钟后开会",
            schedule=Schedule(kind="once", at=due, time=None).to_json(),
            urgent=True,
            next_due_at=due,
            created_by=ADMIN,
            now=now,
        )
        await db.close()

    asyncio.run(seed())


def test_reminder_is_delivered_across_sigkill_with_at_most_one_duplicate(tmp_path, served_fake):
    """Killed before it is due, then again right after Telegram took it: it arrives, and at most
    once more (the one message in flight at the second kill may not have been marked sent: the
    outbox sends again rather than lose it; README, "What the bot guarantees after a crash")."""
    fake, server = served_fake
    fake.add_user(ADMIN, "县管理员")
    fake.add_group(HUB, "县团干部群", admins=(ADMIN,))
    seed_hub_reminder(tmp_path / "bot.db", due_in_seconds=6)

    def reminders_in_hub() -> list[str]:
        return [t for t in bot_texts(fake, HUB) if "五分钟后开会" in t]

    first = start_bot(tmp_path, server)
    fake.user_sends(ADMIN, ADMIN, "/start")
    wait_for(lambda: bot_texts(fake, ADMIN), "the first process to be up")
    first.kill()  # SIGKILL, before the reminder is due
    first.wait(timeout=10)
    assert reminders_in_hub() == []

    second = start_bot(tmp_path, server)
    try:
        wait_for(reminders_in_hub, "the reminder from the restarted process", timeout=30)
    finally:
        second.kill()  # SIGKILL again, right after the delivery
        second.wait(timeout=10)

    third = start_bot(tmp_path, server)
    try:
        before = len(bot_texts(fake, ADMIN))
        fake.user_sends(ADMIN, ADMIN, "/start")
        wait_for(lambda: len(bot_texts(fake, ADMIN)) > before, "the third process to be up")
        time.sleep(1.0)  # its start-up delivery pass has run by now
    finally:
        third.send_signal(signal.SIGTERM)
        third.wait(timeout=30)
    assert reminders_in_hub() in (["⏰ 提醒\n五分钟后开会"], ["⏰ 提醒\n五分钟后开会"] * 2)
    import sqlite3

    with sqlite3.connect(tmp_path / "bot.db") as conn:
        assert conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall() == [("sent", 1)]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_webhook_mode_takes_updates_only_with_the_secret(tmp_path, served_fake):
    import json
    import urllib.error
    import urllib.request

    fake, server = served_fake
    fake.add_user(ADMIN, "县管理员")
    port = free_port()
    secret = "s3cret-token-" + "x" * 32  # the config check asks for at least 32 characters
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\nbase_url = "{server.base_url}"\nbase_file_url = "{server.base_file_url}"\n'
        f'[telegram.webhook]\nenabled = true\nlisten = "127.0.0.1"\nport = {port}\n'
        'url = "https://bot.example.org/telegram"\nurl_path = "telegram"\n'
        f'secret_token = "{secret}"\n'
        f'[storage]\npath = "{tmp_path / "bot.db"}"\n',
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def post(update: dict, secret: str | None) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/telegram",
            data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        if secret is not None:
            request.add_header("X-Telegram-Bot-Api-Secret-Token", secret)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except urllib.error.URLError:
            return 0  # the bot's web server is not listening yet

    try:
        wait_for(lambda: fake.count_calls("setWebhook"), "the webhook to be set")
        [hook] = fake.calls_to("setWebhook")
        assert hook["url"] == "https://bot.example.org/telegram" and hook["secret_token"] == secret
        forged = fake.user_sends(ADMIN, ADMIN, "/start")
        wait_for(lambda: post(forged, "wrong") == 403, "the forged update to be refused", timeout=10)
        assert post(forged, None) == 403 and post(forged, "") == 403
        genuine = fake.user_sends(ADMIN, ADMIN, "/help")
        assert post(genuine, secret) == 200
        wait_for(lambda: any("命令说明" in t for t in bot_texts(fake, ADMIN)), "the /help answer")
        assert not any("团县委的工作助手" in t for t in bot_texts(fake, ADMIN))  # the forged /start did nothing
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, process.stderr.read()[-2000:]
