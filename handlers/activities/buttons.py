"""The activity buttons' payloads and what each may ask for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from telegram import InlineKeyboardButton

from bot.model.activity import Activity
from handlers.callback_data import CallbackData
from handlers.context import Ui


class SignupChoice(StrEnum):
    """The group post's buttons."""

    IN = "in"
    OUT = "out"


class OrganiserChoice(StrEnum):
    """Buttons under /activities, the attendance sheet and the summary (label `activities.button_<value>`)."""

    SHEET = "sheet"
    NO_SHOW = "ns"
    FIX = "fix"
    REMOVE = "rm"
    EDIT = "edit"
    CANCEL = "cancel"
    POST = "post"
    PAGE = "pg"  # turn the attendance sheet to another page (labelled common.button_previous / _next)


class ServedChoice(StrEnum):
    """The organiser's answer to "this many people served?"."""

    OK = "ok"
    OTHER = "other"


Choice = TypeVar("Choice", SignupChoice, OrganiserChoice, ServedChoice)


async def tapped_choice(ui: Ui, kind: type[Choice], value: str) -> Choice | None:
    """The tapped button's action; None, the tap answered as expired, when it is not one of `kind`."""
    try:
        return kind(value)
    except ValueError:
        await ui.answer("common.button_expired", alert=True)
        return None


@dataclass(frozen=True)
class SignupTap(CallbackData, prefix="as", in_groups=True):
    activity: int
    action: str  # a SignupChoice


@dataclass(frozen=True)
class OrganiserAction(CallbackData, prefix="ao"):
    activity: int
    action: str  # an OrganiserChoice
    value: int  # the volunteer a no-show is about, the sheet's page to turn to; 0 otherwise


@dataclass(frozen=True)
class ServedAnswer(CallbackData, prefix="sv"):
    activity: int
    action: str  # a ServedChoice


def organiser_button(
    ui: Ui, activity: Activity, action: OrganiserChoice, value: int = 0, *, label: str | None = None, **params: object
) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label or ui.t(f"activities.button_{action}", code=activity.code, **params),
        callback_data=OrganiserAction(activity=activity.id, action=action, value=value).pack(),
    )
