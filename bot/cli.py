"""`league-bot` / `python -m bot`: run, migrate, backup, check-config.

Configuration problems print one line naming the key and the fix, and exit with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.domain.config import (
    Config,
    ConfigError,
    load_config,
    require_token,
    resolve_config_path,
)
from storage.db import Database, StorageError

EXIT_CONFIG = 2
EXIT_STORAGE = 3


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and a Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters at DEBUG: children's details and
    # phone numbers must never reach a log.
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    # At DEBUG, PTB logs each Bot API call's parameters: private-chat text, which may hold a
    # child's details. Its INFO and above are safe.
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLevelName(level)))


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: $LEAGUE_BOT_CONFIG, else ./config.toml)",
    )
    main = argparse.ArgumentParser(
        prog="league-bot", parents=[common], description="Telegram bot for a county Youth League committee."
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", parents=[common], help="run the bot (long polling, or webhook if configured)")
    commands.add_parser("migrate", parents=[common], help="apply database migrations and exit")
    backup = commands.add_parser("backup", parents=[common], help="copy the database consistently, even while running")
    backup.add_argument("path", metavar="PATH", help="the new backup file")
    commands.add_parser("check-config", parents=[common], help="check the configuration and exit")
    bench = commands.add_parser("bench", help="run a benchmark against the fake Telegram; prints one JSON line")
    bench.add_argument(
        "kind",
        choices=["broadcast", "checkin", "auction", "report", "rush"],
        help="broadcast: one reminder to many groups; checkin: 签到 from many volunteers;"
        " auction: a rush of claim taps on a live session;"
        " report: the year-end report over a seeded county-year at 10x scale;"
        " rush: the real `run` process against the emulator over HTTP, taps at 100 to 1600 a second",
    )
    bench.add_argument("--groups", type=int, default=1000, help="broadcast: how many groups (default 1000)")
    bench.add_argument("--volunteers", type=int, default=300, help="checkin: how many volunteers (default 300)")
    bench.add_argument("--seconds", type=float, default=60.0, help="checkin: spread over this long (default 60)")
    bench.add_argument("--latency-ms", type=int, default=50, help="fake network latency per call (default 50)")
    from bot.practice.sandbox import cli as sandbox_cli

    sandbox = commands.add_parser(
        "sandbox",
        help="practice offline: the bot, a Telegram emulator and a web page"
        " on 127.0.0.1, with a seeded demo county; no token needed",
    )
    sandbox_cli.add_arguments(sandbox)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "bench":
        from bot.practice.bench import common as bench

        setup_logging("WARNING")
        return bench.run(
            args.kind,
            groups=args.groups,
            volunteers=args.volunteers,
            seconds=args.seconds,
            latency=args.latency_ms / 1000,
        )
    if args.command == "sandbox":
        from bot.practice.sandbox import cli as sandbox_cli

        return sandbox_cli.main(args)
    try:
        config = load_config(resolve_config_path(getattr(args, "config", None)))
        if args.command in ("run", "check-config"):
            require_token(config)
    except ConfigError as error:
        print(f"league-bot: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(config.log_level)
    try:
        if args.command == "run":
            return run(config)
        if args.command == "migrate":
            return asyncio.run(migrate(config))
        if args.command == "backup":
            return asyncio.run(backup(config, Path(args.path)))
        return check_config(config)
    except StorageError as error:
        print(f"league-bot: storage error: {error}", file=sys.stderr)
        return EXIT_STORAGE


def check_config(config: Config) -> int:
    hook = config.telegram.webhook
    mode = f"webhook {hook.url}" if hook.enabled else "long polling"
    print(
        f"config OK: {mode}, API {config.telegram.base_url}, database {config.storage.path},"
        f" zone {config.timezone}, language {config.language}, {len(config.county_admins)} county admin(s)"
    )
    return 0


async def migrate(config: Config) -> int:
    db = Database(config.storage.path, busy_timeout_ms=config.storage.busy_timeout_ms)
    await db.open(migrate=False)
    try:
        applied = await db.migrate()
        print("applied: " + ", ".join(applied) if applied else "database is up to date")
    finally:
        await db.close()
    return 0


async def backup(config: Config, destination: Path) -> int:
    source = Path(config.storage.path)
    if not source.exists():
        raise StorageError(f"{source}: no database to back up (check storage.path)")
    db = Database(source, busy_timeout_ms=config.storage.busy_timeout_ms)
    await db.open(migrate=False)
    try:
        await db.backup(destination)
    finally:
        await db.close()
    print(f"backup written to {destination}")
    return 0


def run(config: Config) -> int:
    from telegram import Update

    from bot.runtime.application import build_application

    application = build_application(config)
    hook = config.telegram.webhook
    # Pending updates are never dropped: check-ins sent while the bot was down still count.
    if hook.enabled:
        application.run_webhook(
            listen=hook.listen,
            port=hook.port,
            url_path=hook.url_path,
            webhook_url=hook.url,
            secret_token=hook.secret_token or None,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0
