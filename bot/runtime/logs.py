"""Logging for the running bot: one format, and no library logging anything private."""

from __future__ import annotations

import logging


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
