"""Pieces the wish conversations share."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.domain.errors import DomainError
from bot.model.wish import WishCategory
from handlers.context import Ui
from handlers.flow import Flow
from handlers.wishes.render import category_label


class WishSteps(Flow):
    def cancel_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([self.cancel_row(ui)])

    def skip_markup(self, ui: Ui, step: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[self.choice(ui, step, "skip", "wishes.ui_button_skip")], self.cancel_row(ui)])

    def category_markup(self, ui: Ui, step: str = "category") -> InlineKeyboardMarkup:
        buttons = [self.button(ui, step, category.value, category_label(ui.t, category)) for category in WishCategory]
        rows = [buttons[index : index + 3] for index in range(0, len(buttons), 3)]
        return InlineKeyboardMarkup([*rows, self.cancel_row(ui)])

    @staticmethod
    def category_from_button(value: str) -> WishCategory:
        try:
            return WishCategory(value)
        except ValueError:
            raise DomainError("common.button_expired") from None

    @staticmethod
    def only(value: str, expected: str) -> None:
        if value != expected:
            raise DomainError("common.button_expired")
