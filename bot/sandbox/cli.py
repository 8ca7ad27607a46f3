"""`league-bot sandbox`: arguments and entry point (being built for issue #7)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--empty", action="store_true", help="start with no demo county")


def main(args: argparse.Namespace) -> int:
    print("league-bot sandbox: not built yet (issue #7)", file=sys.stderr)
    return 1
