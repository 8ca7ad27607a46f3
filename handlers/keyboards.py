"""Keyboards shared by several features."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.callback_data import CallbackData
from handlers.context import MarkupFor
from handlers.i18n import Translator


def verdict_markup(payload: Callable[[str], CallbackData], options: tuple[tuple[str, str], ...]) -> MarkupFor:
    """One row of verdict buttons (approve/reject, accept/decline) labelled in the reader's language.

    `options` pairs the verdict value given to `payload` with the catalog key of its label.
    """

    def build(t: Translator) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(t(label_key), callback_data=payload(verdict).pack())
                    for verdict, label_key in options
                ]
            ]
        )

    return build
