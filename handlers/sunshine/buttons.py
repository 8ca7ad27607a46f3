"""Sunshine Home's buttons outside conversations (each re-checked by the domain when tapped)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.callback_data import CallbackData
from handlers.i18n import Translator


@dataclass(frozen=True)
class PairAnswer(CallbackData, prefix="sunp"):
    """The volunteer's answer to a proposed pair: accept 1, decline 0."""

    pair: int
    accept: int


@dataclass(frozen=True)
class ChildTap(CallbackData, prefix="sunc"):
    """A child's card: `private` (the details, audited), `pair` (propose a pair), `leave`."""

    child: int
    action: str


def answer_markup(pair_id: int, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t("sunshine.button_accept"), callback_data=PairAnswer(pair_id, 1).pack()),
                InlineKeyboardButton(t("sunshine.button_decline"), callback_data=PairAnswer(pair_id, 0).pack()),
            ]
        ]
    )


def repair_markup(child_id: int, t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("sunshine.button_repair"), callback_data=ChildTap(child_id, "pair").pack())]]
    )
