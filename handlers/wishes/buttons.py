"""A wish card's buttons: their payload and what each may ask for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from telegram import InlineKeyboardButton

from bot.model.wish import Wish
from handlers.callback_data import CallbackData
from handlers.i18n import Translator


class WishChoice(StrEnum):
    EDIT = "edit"
    CANCEL = "cancel"
    BUY = "buy"  # 已购买
    DELIVER = "deliver"  # 已送达, with a photo
    CONFIRM = "confirm"  # 确认收到
    PHOTO = "photo"  # the wish's own photo
    PROOF = "proof"  # the delivery photo


@dataclass(frozen=True)
class WishAction(CallbackData, prefix="wsh"):
    wish: int
    action: str  # a WishChoice


def action_button(t: Translator, wish: Wish, action: WishChoice, key: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(t(key), callback_data=WishAction(wish=wish.id, action=action).pack())
