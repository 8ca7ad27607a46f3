"""Pieces the activity conversations share: the organiser check, buttons, and times typed in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot.domain import bounds
from bot.domain.errors import DomainError
from bot.domain.formatting import local_text
from bot.domain.schedule_grammar import parse_schedule
from bot.model.activity import Activity, Category
from handlers.activities.render import category_label, normalise_code
from handlers.context import Ui, clean
from handlers.flow import Flow

_CLOCK_RE = re.compile(r"(\d{1,2}):(\d{2})")
_DURATION_RE = re.compile(
    r"(?:(?P<hours>\d+(?:\.\d+)?)\s*(?:个|個)?\s*(?:小时|小時|钟头|鐘頭|h|hr|hrs|hour|hours))?\s*"
    r"(?:(?P<minutes>\d+)\s*(?:分钟|分鐘|分|m|min|mins|minute|minutes))?"
)
_YES_NO = {"yes": True, "no": False}


async def activity_for_organiser(ui: Ui, reference: str | int) -> Activity:
    """The activity by code (`A12`) or id, if this person may organise it."""
    service = ui.services.activities
    if isinstance(reference, int):
        activity = await service.get(reference)
    else:
        activity = await service.by_code(normalise_code(reference) or "")
    await service.check_organiser(ui.user_id, activity)
    return activity


class ActivitySteps(Flow):
    """Buttons and questions shared by creating and editing an activity."""

    def cancel_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([self.cancel_row(ui)])

    def category_markup(self, ui: Ui, step: str = "category") -> InlineKeyboardMarkup:
        buttons = [self.button(ui, step, category.value, category_label(ui.t, category)) for category in Category]
        rows = [buttons[index : index + 2] for index in range(0, len(buttons), 2)]
        return InlineKeyboardMarkup([*rows, self.cancel_row(ui)])

    def yes_no_markup(self, ui: Ui, step: str, yes_key: str, no_key: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[self.choice(ui, step, "yes", yes_key), self.choice(ui, step, "no", no_key)], self.cancel_row(ui)]
        )

    async def ask_end(self, ui: Ui, starts_at: datetime) -> None:
        zone = ui.services.config.zone
        await ui.reply(
            "activities.ask_end",
            self.cancel_markup(ui),
            start=local_text(starts_at, zone),
            weekday=ui.t(f"schedule.weekday_{starts_at.astimezone(zone).weekday()}"),
        )

    @staticmethod
    def category_from_button(value: str) -> Category:
        try:
            return Category(value)
        except ValueError:
            raise DomainError("common.button_expired") from None

    @staticmethod
    def category_from_text(ui: Ui, text: str) -> Category:
        typed = clean(text).lower()
        for category in Category:
            if typed in (category.value, category_label(ui.t, category).lower()):
                return category
        options = ui.t("activities.name_separator").join(category_label(ui.t, c) for c in Category)
        raise DomainError("activities.category_unknown", text=text[:20], options=options)

    @staticmethod
    def yes_no_from_button(value: str) -> bool:
        if value not in _YES_NO:
            raise DomainError("common.button_expired")
        return _YES_NO[value]


def typed_count(text: str) -> str:
    """A typed number of volunteer places: `20人` and `20` alike (people served: the domain reads
    `约 30 人` too, see bot/domain/activity_values.typed_people)."""
    return clean(text).removesuffix("人").strip()


# ---- times typed in a conversation --------------------------------------------------------------
def parse_duration(text: str) -> timedelta | None:
    compact = clean(text).lower().replace(" ", "")
    match = _DURATION_RE.fullmatch(compact)
    if not compact or match is None or not (match.group("hours") or match.group("minutes")):
        return None
    return timedelta(minutes=bounds.typed_minutes(text, match.group("hours"), match.group("minutes")))


def parse_end(ui: Ui, starts_at: datetime, text: str) -> datetime:
    """`17:00` (the start's day), a duration (`3小时`, `90分钟`, `3h`) or a full date and time."""
    duration = parse_duration(text)
    if duration is not None:
        if duration <= timedelta(0):
            raise DomainError("activities.end_unrecognised", text=text[:40])
        return starts_at + duration
    zone, now = ui.services.config.zone, ui.services.clock.now()
    day = local_text(starts_at, zone, "%Y-%m-%d")
    for candidate in (f"{day} {text}", text):
        try:
            schedule = parse_schedule(candidate, now=min(now, starts_at), zone=zone)
        except DomainError:
            continue
        if schedule.kind == "once" and schedule.at is not None:
            return schedule.at
    raise DomainError("activities.end_unrecognised", text=text[:40])


def parse_clock_on(zone: ZoneInfo, day: datetime, text: str) -> datetime | None:
    """`14:05` on the local date of `day`; None when it is not a time of day."""
    match = _CLOCK_RE.fullmatch(clean(text))
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    local = day.astimezone(zone)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(day.tzinfo)
