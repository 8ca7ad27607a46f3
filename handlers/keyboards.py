"""Keyboards shared by several features."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.callback_data import CallbackSpec
from handlers.context import MarkupFor
from handlers.i18n import Translator


def verdict_markup(
    spec: CallbackSpec, subject: dict[str, object], verdict_field: str, options: tuple[tuple[str, str], ...]
) -> MarkupFor:
    """One row of verdict buttons (approve/reject, accept/decline) labelled in the reader's language.

    `options` pairs the verdict value packed into the callback with the catalog key of its label.
    """

    def build(t: Translator) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(t(label_key), callback_data=spec.pack(**subject, **{verdict_field: verdict}))
                    for verdict, label_key in options
                ]
            ]
        )

    return build
