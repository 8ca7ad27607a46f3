"""Webhook mode: `league-bot run --webhook [--port N]`.

The `[telegram.webhook]` section says where Telegram calls and where the bot listens;
`--webhook` turns it on even when the file says `enabled = false`, and `--port` overrides the
port the bot listens on, so that two or more processes behind one reverse proxy can share one
config file (each with its own port; the proxy's address is the `url` all of them register).

The updates' way in is the one long polling uses (bot/runtime/inbox.py): PTB's webhook
handler awaits the inbox's door before its 200 goes out, so an update Telegram was told it
delivered is stored; pending updates are never dropped at the start.
"""

from __future__ import annotations

from dataclasses import replace

from telegram import Update
from telegram.ext import Application

from bot.domain.config import Config, WebhookConfig, check_webhook
from bot.domain.config_rules import ConfigError


def with_webhook(config: Config, *, webhook: bool = False, port: int | None = None) -> Config:
    """The config `run` uses: the webhook turned on by `--webhook`, its port set by `--port`."""
    hook = config.telegram.webhook
    if port is not None and not (webhook or hook.enabled):
        raise ConfigError("--port: the port the webhook listens on; add --webhook (or enable [telegram.webhook])")
    if not webhook and port is None:
        return config
    hook = replace(hook, enabled=True, port=hook.port if port is None else port)
    check_webhook(hook)
    return replace(config, telegram=replace(config.telegram, webhook=hook))


def run_webhook(application: Application, hook: WebhookConfig, *, bootstrap_retries: int) -> None:
    """Serve Telegram's calls until stopped (PTB's own web server, behind the reverse proxy)."""
    application.run_webhook(
        listen=hook.listen,
        port=hook.port,
        url_path=hook.url_path,
        webhook_url=hook.url,
        secret_token=hook.secret_token,  # required by the config check
        allowed_updates=Update.ALL_TYPES,
        # Check-ins sent while the bot was down still count.
        drop_pending_updates=False,
        max_connections=hook.max_connections,
        bootstrap_retries=bootstrap_retries,
    )
