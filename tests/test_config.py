"""Configuration errors are one line naming the key and the fix; the CLI exits 2."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.domain.config import ConfigError, parse_config


def test_defaults_and_environment_token_wins():
    config = parse_config('[telegram]\ntoken = "from-file"\n', environ={"TELEGRAM_BOT_TOKEN": "from-env"})
    assert config.telegram.token == "from-env"
    assert config.timezone == "Asia/Shanghai"
    assert config.language == "zh-Hans"
    assert config.storage.path == "data/league-bot.db"


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[telegram]\ntokn = "x"\n', "telegram.tokn: unknown key; did you mean 'token'?"),
        ("[telegram]\ntoken = 5\n", "telegram.token: must be a string, got an integer"),
        ('county_admins = ["abc"]\n', "county_admins[0]: must be a Telegram user id"),
        ("[storage]\nbusy_timeout_ms = true\n", "storage.busy_timeout_ms: must be an integer, got true/false"),
        ('timezone = "Mars/Olympus"\n', 'timezone: unknown time zone "Mars/Olympus"'),
        ('language = "fr"\n', 'language: "fr" is not supported'),
        ("[telegram\n", "TOML syntax error"),
        ("[telegram.webhook]\nenabled = true\n", "telegram.webhook.url: a webhook needs the public https://"),
        ("[outbox]\nin_flight = 0\n", "outbox.in_flight: must be 1 to 8 (for example: in_flight = 4)"),
        ("[outbox]\nin_flight = 9\n", "outbox.in_flight: must be 1 to 8"),
        ("[reminders]\ngrace_minutes = -1\n", "reminders.grace_minutes: no longer used ([catch_up] window_hours"),
        ("[catch_up]\nwindow_hours = -1\n", "catch_up.window_hours: must not be negative (for example: window_hours"),
    ],
)
def test_each_mistake_names_its_key(text, expected):
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ={})
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_an_old_config_with_grace_minutes_still_loads():
    config = parse_config("[reminders]\ngrace_minutes = 10\n[catch_up]\nwindow_hours = 12\n", environ={})
    assert (config.reminders.grace_minutes, config.catch_up.window_hours) == (10, 12)


def test_syntax_error_gives_line_and_column():
    with pytest.raises(ConfigError, match=r"line 2, column"):
        parse_config('log_level = "INFO"\n[telegram\n', environ={})


def test_check_config_names_missing_token_and_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["check-config", "--config", "config.example.toml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "telegram.token: missing" in err and "TELEGRAM_BOT_TOKEN" in err
    assert "Traceback" not in err


def test_check_config_accepts_example_with_token(capsys, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    assert main(["--config", "config.example.toml", "check-config"]) == 0
    assert "config OK" in capsys.readouterr().out


def test_config_path_from_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LEAGUE_BOT_CONFIG", str(tmp_path / "missing.toml"))
    assert main(["check-config"]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_example_config_documents_every_key():
    """Each key of the example has a comment above it (the reference for operators)."""
    lines = open("config.example.toml", encoding="utf-8").read().splitlines()
    for index, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[index - 1].startswith("#"), f"undocumented key: {line}"


def test_debug_logging_keeps_message_contents_out_of_the_log():
    """aiosqlite (statement parameters) and PTB (API call parameters) stay above DEBUG."""
    import logging

    from bot.runtime.logs import setup_logging

    setup_logging("DEBUG")
    assert logging.getLogger("aiosqlite").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("telegram").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING


WEBHOOK = '[telegram.webhook]\nenabled = true\nurl = "https://bot.example.org/telegram"\n'


@pytest.mark.parametrize("secret", ["", "short-secret", "x" * 31])
def test_webhook_mode_needs_a_secret_of_32_characters(secret):
    with pytest.raises(ConfigError) as caught:
        parse_config(WEBHOOK + f'secret_token = "{secret}"\n', environ={})
    message = str(caught.value)
    assert message.startswith("telegram.webhook.secret_token: webhook mode needs a secret of at least 32")
    assert f"(this one has {len(secret)})" in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    assert "\n" not in message


def test_webhook_secret_uses_only_what_telegram_accepts():
    with pytest.raises(ConfigError, match="A-Z a-z 0-9 _ -"):
        parse_config(WEBHOOK + f'secret_token = "{"é" * 40}"\n', environ={})


def test_a_generated_webhook_secret_is_accepted():
    import secrets

    secret = secrets.token_urlsafe(32)
    config = parse_config(WEBHOOK + f'secret_token = "{secret}"\n', environ={})
    assert config.telegram.webhook.secret_token == secret


def test_long_polling_needs_no_secret():
    assert parse_config("[telegram.webhook]\nenabled = false\n", environ={}).telegram.webhook.secret_token == ""


def test_check_config_refuses_a_webhook_without_secret(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    config = tmp_path / "c.toml"
    config.write_text(WEBHOOK, encoding="utf-8")
    for command in ("check-config", "run"):
        assert main([command, "--config", str(config)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err
        assert "telegram.webhook.secret_token" in err and "secrets.token_urlsafe(32)" in err


def test_conversations_expire_after_a_day_unless_configured():
    assert parse_config("", environ={}).conversations.expire_after_hours == 24
    assert parse_config("[conversations]\nexpire_after_hours = 2\n", environ={}).conversations.expire_after_hours == 2
    with pytest.raises(ConfigError, match="conversations.expire_after_hours: must be 1 to 720"):
        parse_config("[conversations]\nexpire_after_hours = 0\n", environ={})
