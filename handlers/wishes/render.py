"""Small renderings shared by the wish screens."""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram import InlineKeyboardMarkup

from bot.domain.wishes import normalise
from bot.model.wish import Wish, WishCategory, WishStatus
from handlers.context import Ui
from handlers.i18n import Translator

SEARCH_MAX = 30
_SKIP_WORDS = ("skip", "跳过", "无", "没有", "-")


def category_label(t: Translator, category: WishCategory) -> str:
    return t(f"wishes.category.{category.value}")


def status_label(t: Translator, status: WishStatus) -> str:
    return t(f"wishes.status.{status.value}")


def wish_params(wish: Wish) -> dict[str, str]:
    """The wish's public identity, as the catalog's `code`, `label` and `text`."""
    return {"code": wish.code, "label": wish.public_label, "text": wish.text}


def is_skip(ui: Ui, text: str) -> bool:
    return normalise(text).casefold() in {*_SKIP_WORDS, ui.t("wishes.ui_skip_word").casefold()}


def days_overdue(now: datetime, deadline: datetime | None) -> int:
    """Whole days late, counting a started day (at least 1: only overdue claims are shown)."""
    if deadline is None:
        return 1
    return max(1, -(-(now - deadline) // timedelta(days=1)))


async def show(ui: Ui, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """After a tap the tapped message becomes the next step; after typing, a new message."""
    if ui.update.callback_query is not None:
        await ui.edit_text(text, markup)
    else:
        await ui.send_text(text, markup)
