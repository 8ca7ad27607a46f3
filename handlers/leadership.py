"""Whether this instance leads: does the scheduled work and the sending (bot/runtime/leader.py).

With SQLite there is one instance and it always leads. With several instances on PostgreSQL one
leads; the others answer updates and leave what they queue (outbox messages, reminders) to it,
so Telegram's per-bot limits are kept by one sender and every scheduled job runs once.
"""

from __future__ import annotations

from telegram.ext import Application

LEADING = "leading"


def leading(application: Application) -> bool:
    return bool(application.bot_data.get(LEADING, True))


def set_leading(application: Application, value: bool) -> None:
    application.bot_data[LEADING] = value
