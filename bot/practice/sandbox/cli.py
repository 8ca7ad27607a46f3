"""`league-bot sandbox`: the practice sandbox from the command line.

    league-bot sandbox [--port N] [--data DIR] [--empty]

Prints one line with the page's address once it is usable, and stops cleanly on Ctrl-C or
SIGTERM. Exit status 2 when it must not start (a database that is not the sandbox's), 3 when
the port is taken.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

EXIT_REFUSED = 2
EXIT_PORT = 3
DEFAULT_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the page's port on 127.0.0.1 (default {DEFAULT_PORT}; 0 = any free port)",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        default="sandbox-data",
        help="folder for the sandbox's own database (default ./sandbox-data); begins afresh each start",
    )
    parser.add_argument("--empty", action="store_true", help="start with no demo county")


def main(args: argparse.Namespace) -> int:
    from bot.runtime.logs import setup_logging

    setup_logging("WARNING")
    if not 0 <= args.port <= 65535:
        print(f"league-bot sandbox: --port must be 0..65535, not {args.port}", file=sys.stderr)
        return EXIT_REFUSED
    config = getattr(args, "config", None)
    try:
        return asyncio.run(run(Path(args.data), args.port, args.empty, Path(config) if config else None))
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return 130


async def run(data: Path, port: int, empty: bool, config_path: Path | None) -> int:
    from bot.practice.sandbox.runtime import PortUnavailable, Sandbox, SandboxRefused

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    sandbox = Sandbox(data, port=port, empty=empty, config_path=config_path)
    try:
        await sandbox.start()
    except SandboxRefused as error:
        await sandbox.stop()
        print(f"league-bot sandbox: refused: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except PortUnavailable as error:  # taken before the bot started anything: one line, no traceback
        await sandbox.stop()
        print(f"league-bot sandbox: {error}; try --port 0 (any free port)", file=sys.stderr)
        return EXIT_PORT
    except BaseException:
        await sandbox.stop()
        raise
    print(f"沙盒已就绪 / sandbox ready: {sandbox.page_url}", flush=True)
    logging.getLogger(__name__).info("sandbox data in %s", sandbox.db_path)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()
    print("沙盒已停止 / sandbox stopped", flush=True)
    return 0
