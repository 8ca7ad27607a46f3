"""`league-bot` / `python -m bot`: run, migrate, backup, check-config.

Exit statuses: 0 done; 2 a configuration problem (one line naming the key and the fix);
3 the database cannot be used (corrupt, read-only, locked by another process, folder not
creatable: one line naming the file and the fix, within the busy timeout). Both are checked
before the bot connects to Telegram, so a supervisor sees the failure at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import textwrap
from pathlib import Path

from bot.domain.config import (
    Config,
    load_config,
    require_token,
    resolve_config_path,
)
from bot.domain.config_rules import ConfigError
from bot.runtime.logs import setup_logging
from storage.db import Database, StorageError
from storage.engines import database_at

EXIT_CONFIG = 2
EXIT_STORAGE = 3
# A 502 or a timeout from Telegram while starting (getMe, the webhook's set-up) is tried again,
# back off growing to 30 s, until it answers or the bot is stopped: a supervisor restarting a bot
# in a loop during Telegram's outage helps nobody. A wrong token is not retried (it exits at once).
BOOTSTRAP_RETRIES = -1


# Each subcommand's --help: what it does (description) and an example (epilog).
_HELP = {
    "run": (
        "Run the bot until stopped (Ctrl-C or SIGTERM): long polling, or a webhook when"
        " [telegram.webhook] is enabled in the config. The token from @BotFather comes from the"
        " environment variable TELEGRAM_BOT_TOKEN (or telegram.token in the config file). Updates"
        " sent while the bot was down are processed, never dropped. The database is migrated on start.",
        "examples:\n  TELEGRAM_BOT_TOKEN=123456:ABC-your-token league-bot run --config /etc/league-bot/config.toml\n"
        "  league-bot run --webhook --port 9001   # one of several instances behind a reverse proxy",
    ),
    "migrate": (
        "Apply the database's pending migrations (storage.path in the config), print which, and exit."
        " Safe to run again: an up-to-date database is left as it is. No token needed.",
        "example:\n  league-bot migrate --config /etc/league-bot/config.toml",
    ),
    "backup": (
        "Copy the database to PATH consistently, even while the bot is running (SQLite's online"
        " backup), and exit. No token needed.",
        "example:\n  league-bot backup /var/backups/league-bot-$(date +%F).sqlite3",
    ),
    "copy-db": (
        "Copy every table of one database into another, empty one (created or upgraded first),"
        " then compare each table's rows on both sides: the move from SQLite to PostgreSQL when"
        " several instances are needed, or back. Stop the bot first. Exit 0 when every count"
        " matches, 3 otherwise. No token needed.",
        "example:\n  league-bot copy-db --from sqlite:///data/league-bot.db"
        " --to postgresql://league:secret@127.0.0.1:5432/league_bot",
    ),
    "check-config": (
        "Read the config file and the environment, check every setting (including that"
        " TELEGRAM_BOT_TOKEN or telegram.token is set), print a one-line summary and exit: 0 when"
        " it is usable, 2 with the key and the fix when it is not.",
        "example:\n  TELEGRAM_BOT_TOKEN=123456:ABC-your-token league-bot check-config --config config.toml",
    ),
    "bench": (
        "Measure the bot against the fake Telegram (no network, no token): the production"
        " Application, a fake network latency per call, and a scenario; prints one JSON line.",
        "examples:\n  league-bot bench broadcast --groups 1000\n"
        "  league-bot bench checkin --volunteers 300 --seconds 60\n"
        "  league-bot bench certificates --certificates 500",
    ),
    "sandbox": (
        "Practise offline: the bot, a Telegram emulator and a web page on 127.0.0.1 with a seeded"
        " demo county (a county admin, organisations, groups, an activity, wishes). No token, no"
        " network; the sandbox keeps its own database in --data, begun afresh at each start.",
        "examples:\n  league-bot sandbox                    # then open the address it prints\n"
        "  league-bot sandbox --port 0 --empty   # any free port, no demo county",
    ),
}


def _subcommand(
    commands: argparse._SubParsersAction, name: str, summary: str, parents: list[argparse.ArgumentParser]
) -> argparse.ArgumentParser:
    description, example = _HELP[name]
    return commands.add_parser(
        name,
        parents=parents,
        help=summary,
        description=textwrap.fill(description, 100),
        epilog=example,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: $LEAGUE_BOT_CONFIG, else ./config.toml)",
    )
    main = argparse.ArgumentParser(
        prog="league-bot",
        parents=[common],
        description="Telegram bot for a county Youth League committee. Run `league-bot COMMAND --help`"
        " for what a command does, its options and an example.",
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_command = _subcommand(commands, "run", "run the bot (long polling, or webhook if configured)", [common])
    run_command.add_argument(
        "--webhook", action="store_true", help="take updates by webhook ([telegram.webhook]), even if not enabled there"
    )
    run_command.add_argument(
        "--port", type=int, metavar="N", help="the webhook's listen port, instead of [telegram.webhook] port"
    )
    _subcommand(commands, "migrate", "apply database migrations and exit", [common])
    backup = _subcommand(commands, "backup", "copy the database consistently, even while running", [common])
    backup.add_argument("path", metavar="PATH", help="the new backup file (must not exist yet)")
    _subcommand(commands, "check-config", "check the configuration and exit", [common])
    copy = _subcommand(commands, "copy-db", "copy every table into another (empty) database and check the counts", [])
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="sqlite:///path or postgresql://…")
    copy.add_argument("--to", dest="target", required=True, metavar="URL", help="sqlite:///path or postgresql://…")
    bench = _subcommand(commands, "bench", "run a benchmark against the fake Telegram; prints one JSON line", [])
    bench.add_argument(
        "kind",
        choices=["broadcast", "checkin", "auction", "report", "rush", "certificates", "visits"],
        help="broadcast: one reminder to many groups; checkin: 签到 from many volunteers;"
        " auction: a rush of claim taps on a live session;"
        " report: the year-end report over a seeded county-year at 10x scale;"
        " rush: the real `run` process against the emulator over HTTP, taps at 100 to 1600 a second;"
        " certificates: a burst of certificate PDFs while other taps are answered;"
        " visits: 44 visitors filing a 1,480-household verification campaign at once",
    )
    bench.add_argument("--groups", type=int, default=1000, help="broadcast: how many groups (default 1000)")
    bench.add_argument("--volunteers", type=int, default=300, help="checkin: how many volunteers (default 300)")
    bench.add_argument("--seconds", type=float, default=60.0, help="checkin: spread over this long (default 60)")
    bench.add_argument("--latency-ms", type=int, default=50, help="fake network latency per call (default 50)")
    bench.add_argument("--certificates", type=int, default=500, help="certificates: how many (default 500)")
    bench.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="broadcast, auction: a PostgreSQL server (postgresql://user@host:port/db) to measure on;"
        " the bench makes and drops its own database there (default: SQLite in a temporary folder)",
    )
    bench.add_argument(
        "--instances", type=int, default=1, help="broadcast: bots sharing the database (above 1 needs --db)"
    )
    bench.add_argument(
        "--mode",
        choices=["polling", "webhook"],
        default="polling",
        help="rush: long polling, or the emulator pushing to the bot's webhook through a proxy (default polling)",
    )
    from bot.practice.sandbox import cli as sandbox_cli

    sandbox = _subcommand(
        commands,
        "sandbox",
        "practice offline: the bot, a Telegram emulator and a web page on 127.0.0.1, with a seeded demo county;"
        " no token needed",
        [],
    )
    sandbox_cli.add_arguments(sandbox)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "bench":
        from bot.practice.bench import common as bench

        setup_logging("WARNING")
        if args.kind == "certificates":
            from bot.practice.bench import certificates

            print(json.dumps(certificates.run(args.latency_ms / 1000, args.certificates)))
            return 0
        if args.kind == "visits":
            from bot.practice.bench import visits as bench_visits

            print(json.dumps(bench_visits.run(args.latency_ms / 1000)))
            return 0
        return bench.run(
            args.kind,
            groups=args.groups,
            volunteers=args.volunteers,
            seconds=args.seconds,
            latency=args.latency_ms / 1000,
            instances=args.instances,
            db_url=args.db,
            mode=args.mode,
        )
    if args.command == "copy-db":
        setup_logging("WARNING")
        try:
            return asyncio.run(copy_db(args.source, args.target))
        except StorageError as error:
            print(f"league-bot: storage error: {error}", file=sys.stderr)
            return EXIT_STORAGE
    if args.command == "sandbox":
        from bot.practice.sandbox import cli as sandbox_cli

        return sandbox_cli.main(args)
    try:
        config = load_config(resolve_config_path(getattr(args, "config", None)))
        if args.command == "run":
            from bot.runtime.webhook import with_webhook

            config = with_webhook(config, webhook=args.webhook, port=args.port)
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
        f"config OK: {mode}, API {config.telegram.base_url}, database {database_label(config)},"
        f" zone {config.timezone}, language {config.language}, {len(config.county_admins)} county admin(s)"
    )
    return 0


def database_label(config: Config) -> str:
    if not config.storage.is_postgresql:
        return config.storage.path
    from storage.postgres import redacted

    return redacted(config.storage.database_url)


def _database(config: Config) -> Database:
    return database_at(config.storage.database_url, busy_timeout_ms=config.storage.busy_timeout_ms)


async def prepare_storage(config: Config) -> None:
    """Open (checking and migrating) and close the database before anything else starts."""
    db = _database(config)
    await db.open()
    await db.close()


async def migrate(config: Config) -> int:
    db = _database(config)
    await db.open(migrate=False)
    try:
        applied = await db.migrate()
        print("applied: " + ", ".join(applied) if applied else "database is up to date")
    finally:
        await db.close()
    return 0


async def backup(config: Config, destination: Path) -> int:
    if config.storage.is_postgresql:
        db = _database(config)
        await db.open(migrate=False)
        try:
            await db.backup(destination)  # pg_dump's custom format
        finally:
            await db.close()
        print(f"backup written to {destination} (restore with: pg_restore --dbname=URL {destination})")
        return 0
    source = Path(config.storage.path)
    if not source.exists():
        raise StorageError(f"{source}: no database to back up (check storage.path)")
    db = Database(source, busy_timeout_ms=config.storage.busy_timeout_ms)
    # A copy only reads: a source on a read-only disk can still be backed up.
    await db.open(migrate=False, writable=False)
    try:
        await db.backup(destination)
    finally:
        await db.close()
    print(f"backup written to {destination}")
    return 0


async def copy_db(source_url: str, target_url: str) -> int:
    from storage.copy import copy_database

    source = database_at(source_url)
    await source.open(migrate=False, writable=False)
    try:
        target = database_at(target_url)
        await target.open()  # created or upgraded to this program's schema
        try:
            copies = await copy_database(source, target)
        finally:
            await target.close()
    finally:
        await source.close()
    width = max(len(copy.table) for copy in copies)
    for copy in copies:
        mark = "ok" if copy.matches else "DIFFERS"
        print(f"{copy.table:<{width}}  {copy.source_rows:>9} -> {copy.target_rows:>9}  {mark}")
    differing = [copy.table for copy in copies if not copy.matches]
    if differing:
        print(f"counts differ in {', '.join(differing)}", file=sys.stderr)
        return EXIT_STORAGE
    print(f"copied {sum(copy.target_rows for copy in copies)} rows in {len(copies)} tables; every count matches")
    return 0


def run(config: Config) -> int:
    from telegram import Update

    from bot.runtime.application import build_application
    from bot.runtime.webhook import run_webhook

    asyncio.run(prepare_storage(config))
    application = build_application(config)
    hook = config.telegram.webhook
    # Pending updates are never dropped: check-ins sent while the bot was down still count.
    if hook.enabled:
        run_webhook(application, hook, bootstrap_retries=BOOTSTRAP_RETRIES)
    else:
        application.run_polling(
            allowed_updates=Update.ALL_TYPES, drop_pending_updates=False, bootstrap_retries=BOOTSTRAP_RETRIES
        )
    return 0
