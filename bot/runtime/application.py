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
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot.domain.clock import Clock, SystemClock
from bot.domain.config import Config
from bot.domain.services import Services
from bot.runtime.inbox import Intake, start_intake
from bot.runtime.leader import start_leader_duties, stop_leader_duties
from bot.runtime.rate_limit import FairRateLimiter, retry_after_seconds
from bot.runtime.transport import LeanHTTPXRequest, PollWatchRequest, ThreadedPollRequest
from bot.runtime.updates import PerSenderUpdateProcessor, ReceivedQueue
from storage.engines import database_at

log = logging.getLogger(__name__)


def build_application(
    config: Config, request: BaseRequest | None = None, *, clock: Clock | None = None, rate_limit: bool | None = None
) -> Application:
    """Build the bot. `request` replaces the network (tests pass the fake Telegram's)."""
    from handlers import UNORDERED_CALLBACK_PREFIXES, register
    from handlers.context import BotContext
    from handlers.i18n import plain_text_renderer

    telegram = config.telegram
    # Updates run at most max_concurrent_updates at once (config.toml [telegram]), each sender's
    # in order; a tap that waited too long for its turn is dropped unanswered (bot/runtime/updates.py).
    updates = ReceivedQueue()
    processor = PerSenderUpdateProcessor(
        telegram.max_concurrent_updates,
        unordered_prefixes=UNORDERED_CALLBACK_PREFIXES,
        received=updates.take_received,
        callback_max_wait=telegram.callback_max_wait_seconds,
    )
    updates.shedder = processor
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
        .update_queue(updates)
        .concurrent_updates(intake.processor(processor))  # the inbox's "handled" mark around it
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
    )
    if request is not None:
        builder = builder.request(request)
        polling: BaseRequest = request
    else:
        # One connection per running update and room for what is sent beside them (a winner's
        # message, a page refresh), in a pool whose bookkeeping stays cheap (bot/runtime/transport.py).
        builder = builder.request(
            LeanHTTPXRequest(
                connection_pool_size=telegram.connection_pool_size, pool_timeout=telegram.pool_timeout_seconds
            )
        )
        # A full long poll means taps are waiting at Telegram: their wait counts from then.
        # Each long poll made whole in a thread, not queued on a busy loop (bot/runtime/transport.py).
        polling = PollWatchRequest(ThreadedPollRequest(), updates)
    # The durable inbox: each poll's batch, as screened, is stored before PTB reads it.
    # While behind, the next batch is fetched while PTB parses this one (read-ahead).
    builder = builder.get_updates_request(intake.confirming(polling, behind=lambda: updates.behind))
    # Keeps the bot under ~30 messages/s overall and ~20/min per group, urgent messages first,
    # and retries a 429 after its retry_after, holding back only that chat (PTB's AIORateLimiter
    # stalls all). Switched off it still accepts handlers' rate_limit_args (e.g. a priority).
    throttled = config.telegram.rate_limit if rate_limit is None else rate_limit
    limiter = FairRateLimiter(max_retries=3) if throttled else FairRateLimiter.off()
    # PTB types a builder made without a bot's rate-limit arguments as BaseRateLimiter[None].
    builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    application = builder.build()
    db = database_at(config.storage.database_url, busy_timeout_ms=config.storage.busy_timeout_ms)
    services = Services.build(config, db, clock or SystemClock(), render=plain_text_renderer(config.language))
    application.bot_data["services"] = services
    register(application)
    return application


async def on_startup(application: Application) -> None:
    services: Services = application.bot_data["services"]
    await services.open()
    # The durable inbox: updates stored before confirmed; those not handled before a stop go first.
    await start_intake(application)
    start_command_menus(application)
    await start_leader_duties(application)
    log.info("league-bot started as @%s", application.bot.username)


async def on_stop(application: Application) -> None:
    """Updates are no longer processed, the bot still works: show the last counts."""
    from handlers.live_message import flush_refreshes

    await flush_refreshes(application)


async def on_shutdown(application: Application) -> None:
    services: Services = application.bot_data["services"]
    await stop_leader_duties(application)
    await services.close()
    log.info("league-bot stopped; database closed")


MENUS_JOB = "commands:menus"
MENUS_FIRST_RETRY_SECONDS = 5.0
MENUS_LONGEST_RETRY_SECONDS = 600.0


def start_command_menus(application: Application) -> None:
    """Set the command menus once the bot runs; a transient failure (a 5xx, a timeout, a 429) is
    tried again with back-off instead of ending the start-up: the bot works without its menu."""
    _arm_menus(application, 0.0, MENUS_FIRST_RETRY_SECONDS)


def _arm_menus(application: Application, delay: float, next_delay: float) -> None:
    queue = application.job_queue
    if queue is None:
        return

    async def job(context: object) -> None:
        try:
            await set_command_menus(application)
        except RetryAfter as error:
            wait = max(next_delay, retry_after_seconds(error))
            log.warning("command menus: 429, trying again in %.0f s", wait)
            _arm_menus(application, wait, min(wait * 2, MENUS_LONGEST_RETRY_SECONDS))
        except (NetworkError, TimedOut) as error:  # TimedOut is a NetworkError; named for the reader
            log.warning("command menus: %s, trying again in %.0f s", error, next_delay)
            _arm_menus(application, next_delay, min(next_delay * 2, MENUS_LONGEST_RETRY_SECONDS))
        except TelegramError as error:  # refused for good (e.g. a bad description): say so, run on
            log.error("command menus not set: %s", error)

    queue.run_once(job, when=delay, name=MENUS_JOB, job_kwargs={"misfire_grace_time": None})


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
