"""The one assembly function: config in, PTB Application out. Nothing is built at import time."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot.domain.clock import Clock, SystemClock
from bot.domain.config import Config
from bot.domain.services import Services
from bot.runtime.inbox import Intake, start_intake
from bot.runtime.rate_limit import FairRateLimiter
from bot.runtime.updates import PerSenderUpdateProcessor
from storage.db import Database

log = logging.getLogger(__name__)

# Updates in flight at once (each sender's still in order). Most of an update's life is spent
# waiting on Telegram (~50 ms a call), so at most this many / 0.05 s updates a second get through:
# PTB's own "concurrent" default of 256 would cap a rush of auction taps at ~5,000 a second
# whatever the CPU could do. A waiting update costs a few kilobytes.
MAX_CONCURRENT_UPDATES = 4096


def build_application(
    config: Config, request: BaseRequest | None = None, *, clock: Clock | None = None, rate_limit: bool | None = None
) -> Application:
    """Build the bot. `request` replaces the network (tests pass the fake Telegram's)."""
    from handlers import UNORDERED_CALLBACK_PREFIXES, register
    from handlers.context import BotContext
    from handlers.i18n import plain_text_renderer

    intake = Intake()  # the durable inbox (bot/runtime/inbox.py)
    builder = (
        ApplicationBuilder()
        .token(config.telegram.token)
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        .context_types(ContextTypes(context=BotContext))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=ZoneInfo(config.timezone),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(
            # The durable inbox's "handled" mark around it.
            intake.processor(
                PerSenderUpdateProcessor(MAX_CONCURRENT_UPDATES, unordered_prefixes=UNORDERED_CALLBACK_PREFIXES)
            )
        )
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
    )
    if request is not None:
        builder = builder.request(request)
    # The durable inbox: each getUpdates batch is stored before PTB reads it (PTB's own default
    # request for getUpdates otherwise: one connection).
    builder = builder.get_updates_request(intake.confirming(request or HTTPXRequest(connection_pool_size=1)))
    if config.telegram.rate_limit if rate_limit is None else rate_limit:
        # Keeps the bot under ~30 messages/s overall and ~20/min per group, and retries a 429
        # after its retry_after, holding back only that chat (PTB's AIORateLimiter stalls all).
        builder = builder.rate_limiter(FairRateLimiter(max_retries=3))
    application = builder.build()
    db = Database(config.storage.path, busy_timeout_ms=config.storage.busy_timeout_ms)
    services = Services.build(config, db, clock or SystemClock(), render=plain_text_renderer(config.language))
    application.bot_data["services"] = services
    register(application)
    return application


async def on_startup(application: Application) -> None:
    services: Services = application.bot_data["services"]
    await services.open()
    # The durable inbox: updates stored before confirmed; those not handled before a stop go first.
    await start_intake(application)
    await set_command_menus(application)
    from handlers.activities import start_activity_jobs
    from handlers.auction import start_auction_jobs
    from handlers.maintenance import start_maintenance_jobs
    from handlers.outbox import start_outbox_sender
    from handlers.scheduling import schedule_wake
    from handlers.wishes import start_wish_jobs

    # Occurrences missed while the bot was down are handled at once (the grace rule decides).
    await schedule_wake(application, now=True)
    start_activity_jobs(application)
    start_wish_jobs(application)
    start_auction_jobs(application)
    start_maintenance_jobs(application)
    start_outbox_sender(application)  # the durable outbox's one sender: what waited goes first
    log.info("league-bot started as @%s", application.bot.username)


async def on_stop(application: Application) -> None:
    """Updates are no longer processed, the bot still works: show the last counts."""
    from handlers.live_message import flush_refreshes

    await flush_refreshes(application)


async def on_shutdown(application: Application) -> None:
    services: Services = application.bot_data["services"]
    await services.close()
    log.info("league-bot stopped; database closed")


async def set_command_menus(application: Application) -> None:
    """The "/" menu in Telegram: one list for private chats and one for groups, per language."""
    from handlers.commands import COMMANDS, Audience
    from handlers.i18n import Translator

    for telegram_language, language in ((None, "zh-Hans"), ("zh", "zh-Hans"), ("en", "en")):
        t = Translator(language)
        for scope, in_scope in (
            (BotCommandScopeAllPrivateChats(), lambda c: c.private),
            (BotCommandScopeAllGroupChats(), lambda c: c.group),
        ):
            commands = [
                BotCommand(c.name, t(f"commands.{c.name}"))
                for c in COMMANDS
                if in_scope(c) and c.audience <= Audience.ORG_ADMIN
            ]
            await application.bot.set_my_commands(commands, scope=scope, language_code=telegram_language)
