"""`league-bot run --webhook`: the real process behind the drills' reverse proxy, the emulator
pushing updates to it over HTTP (bot/practice/emulator/webhook.py, bot/practice/proxy.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from bot.cli import main
from bot.domain.config import parse_config
from bot.domain.config_rules import ConfigError
from bot.practice.emulator import FakeTelegram, serve
from bot.practice.proxy import Backend, ProxyThread
from bot.runtime.webhook import with_webhook
from tests.test_drills import ADMIN, GROUP, TOKEN, Bot, check_in_world, check_ins, wait_for
from tests.test_end_to_end import free_port

SECRET = "webhook-drill-" + "s" * 32
VOLUNTEERS = range(700_000, 700_120)


# ---- the options ------------------------------------------------------------------------------------
def test_webhook_flag_turns_the_section_on_and_port_overrides_it():
    config = parse_config(
        f'[telegram.webhook]\nurl = "https://bot.example.org/telegram"\nport = 8443\nsecret_token = "{SECRET}"\n',
        environ={},
    )
    assert not config.telegram.webhook.enabled
    assert with_webhook(config) is config  # long polling, as configured
    hook = with_webhook(config, webhook=True, port=9002).telegram.webhook
    assert (hook.enabled, hook.port, hook.url) == (True, 9002, "https://bot.example.org/telegram")
    assert with_webhook(config, webhook=True).telegram.webhook.port == 8443


def test_port_without_webhook_and_a_webhook_without_secret_are_refused():
    config = parse_config('[telegram.webhook]\nurl = "https://bot.example.org/telegram"\n', environ={})
    with pytest.raises(ConfigError, match="--port: .* add --webhook"):
        with_webhook(config, port=9001)
    with pytest.raises(ConfigError, match="telegram.webhook.secret_token"):
        with_webhook(config, webhook=True)


def test_plain_http_only_to_this_machine():
    base = parse_config(f'[telegram.webhook]\nsecret_token = "{SECRET}"\n', environ={})

    def hooked(url: str):
        config = replace(base, telegram=replace(base.telegram, webhook=replace(base.telegram.webhook, url=url)))
        return with_webhook(config, webhook=True)

    assert hooked("http://127.0.0.1:8080/telegram").telegram.webhook.enabled
    assert hooked("http://localhost/telegram").telegram.webhook.enabled
    with pytest.raises(ConfigError, match="public https:// address"):
        hooked("http://bot.example.org/telegram")
    with pytest.raises(ConfigError, match="public https:// address"):
        hooked("http://127.0.0.1.example.org/telegram")
    with pytest.raises(ConfigError, match="max_connections: Telegram allows 1 to 100"):
        parse_config("[telegram.webhook]\nmax_connections = 101\n", environ={})


def test_run_with_port_but_no_webhook_exits_with_a_config_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "bot.db"}"\n', encoding="utf-8")
    assert main(["run", "--config", str(config), "--port", "9001"]) == 2
    assert "--port" in capsys.readouterr().err


# ---- the real process -----------------------------------------------------------------------------
class WebhookBot(Bot):
    """The drills' bot started as `league-bot run --webhook --port N`, behind the proxy."""

    def __init__(self, tmp_path, server, proxy_url: str, port: int) -> None:
        self.proxy_url = proxy_url
        self.port = port
        super().__init__(tmp_path, server)

    def write_config(self) -> None:
        super().write_config()
        with open(self.config, "a", encoding="utf-8") as config:
            # Not enabled in the file, and another port: --webhook and --port decide.
            config.write(
                f'[telegram.webhook]\nenabled = false\nlisten = "127.0.0.1"\nport = 8443\n'
                f'url = "{self.proxy_url}/telegram"\nurl_path = "telegram"\nsecret_token = "{SECRET}"\n'
                "max_connections = 8\n"
            )

    def start(self) -> WebhookBot:
        self._menus = self.fake.count_calls("setMyCommands")
        command = ["run", "--config", str(self.config), "--webhook", "--port", str(self.port)]
        with open(self.log, "a", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", *command],
                env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN},
                stdout=log,
                stderr=log,
            )
        return self


@pytest.fixture
def behind_proxy(tmp_path):
    fake = FakeTelegram(webhook_retry=(0.2, 1.0))  # Telegram waits longer; a drill need not
    server = serve(fake)
    port = free_port()
    proxy = ProxyThread([Backend("127.0.0.1", port)])
    bot = WebhookBot(tmp_path, server, proxy.url, port)
    fake.add_user(ADMIN, "县管理员", username="county_admin")
    yield fake, bot, proxy
    bot.close()
    proxy.close()
    server.close()
    if bot.log.exists():  # shown when the test failed
        print(bot.log.read_text(encoding="utf-8")[-6000:])


def test_a_check_in_wave_by_webhook_through_the_proxy_survives_a_kill(behind_proxy):
    fake, bot, proxy = behind_proxy
    activity_id = check_in_world(fake, bot, VOLUNTEERS)
    bot.start()
    wait_for(lambda: fake.count_calls("setWebhook"), "the webhook to be set", timeout=30)
    [hook] = fake.calls_to("setWebhook")
    assert hook["url"] == f"{proxy.url}/telegram" and hook["secret_token"] == SECRET
    assert hook.get("drop_pending_updates") in (None, "false") and int(hook["max_connections"]) == 8
    sent = [fake.user_sends(user_id, GROUP, "签到")["update_id"] for user_id in VOLUNTEERS]
    wait_for(lambda: len(check_ins(bot, activity_id)) >= 30, "a quarter of the wave", every=0.005)
    bot.kill()  # the only backend: the proxy answers 502, the emulator keeps the updates and retries
    recorded_at_kill = len(check_ins(bot, activity_id))
    assert recorded_at_kill < len(VOLUNTEERS), "the kill came too late to test anything"
    wait_for(lambda: fake.handle("getWebhookInfo", {})[1]["result"].get("last_error_message"), "a failed push")

    bot.start()
    wait_for(lambda: bot.all_handled(sent), "every check-in handled after the restart")
    info = fake.handle("getWebhookInfo", {})[1]["result"]
    assert info["pending_update_count"] == 0
    assert info["last_error_message"] == "Wrong response from the webhook: 502 Bad Gateway"
    bot.stop()
    assert sorted(check_ins(bot, activity_id)) == list(VOLUNTEERS)  # 0 lost, 0 twice
    assert bot.value("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 0
    assert fake.count_calls("getUpdates") == 0 and fake.unknown_methods == []
    assert proxy.proxy.forwarded[Backend("127.0.0.1", bot.port)] >= len(VOLUNTEERS)
    log = bot.log.read_text(encoding="utf-8")
    assert "Traceback" not in log and TOKEN not in log


def test_sigterm_ends_webhook_mode_cleanly(behind_proxy):
    fake, bot, _ = behind_proxy
    bot.start()
    before = len(fake.bot_messages(ADMIN))
    fake.user_sends(ADMIN, ADMIN, "/help")
    wait_for(lambda: len(fake.bot_messages(ADMIN)) > before, "the /help answer by webhook", timeout=30)
    bot.stop()  # SIGTERM: exit status 0
    assert "Traceback" not in bot.log.read_text(encoding="utf-8")


def test_a_standby_instance_takes_over_behind_the_proxy_after_a_sigkill(tmp_path):
    """Two ports behind the proxy, one instance at a time (SQLite: one process per file): the
    first is killed mid-wave, the standby starts on its own port and the proxy, finding the
    first's port refused, sends it everything, the updates the emulator kept included."""
    fake = FakeTelegram(webhook_retry=(0.2, 1.0))
    server = serve(fake)
    first_port, standby_port = free_port(), free_port()
    proxy = ProxyThread([Backend("127.0.0.1", first_port), Backend("127.0.0.1", standby_port)])
    first = WebhookBot(tmp_path, server, proxy.url, first_port)
    standby = WebhookBot(tmp_path, server, proxy.url, standby_port)  # the same config file and database
    fake.add_user(ADMIN, "县管理员", username="county_admin")
    try:
        activity_id = check_in_world(fake, first, VOLUNTEERS)
        first.start()
        wait_for(lambda: fake.count_calls("setWebhook"), "the webhook to be set", timeout=30)
        sent = [fake.user_sends(user_id, GROUP, "签到")["update_id"] for user_id in VOLUNTEERS]
        wait_for(lambda: len(check_ins(first, activity_id)) >= 30, "a quarter of the wave", every=0.005)
        first.kill()
        assert len(check_ins(first, activity_id)) < len(VOLUNTEERS), "the kill came too late to test anything"
        standby.start()
        wait_for(lambda: standby.all_handled(sent), "every check-in handled by the standby")
        standby.stop()
        assert sorted(check_ins(standby, activity_id)) == list(VOLUNTEERS)  # 0 lost, 0 twice
        assert proxy.proxy.refused[Backend("127.0.0.1", standby_port)] >= 1  # skipped while it was down
        assert proxy.proxy.refused[Backend("127.0.0.1", first_port)] >= 1  # skipped once killed
        assert proxy.proxy.forwarded[Backend("127.0.0.1", standby_port)] >= 1
    finally:
        first.close()
        standby.close()
        proxy.close()
        server.close()
