"""Small renderings shared by the activity screens: labels, times, places, long lists (volunteer time:
bot/domain/formatting.py hours_text)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot.model.activity import Category, Place
from bot.model.organisation import Person
from handlers.context import Ui, clean
from handlers.i18n import Translator

MESSAGE_BUDGET = 3500  # characters of HTML per message; Telegram allows 4096 after parsing
SHEET_BUDGET = 2500  # of which the lines of an attendance sheet (the rest: header, names, hints)
NAMES_SHOWN = 60


def normalise_code(text: str | None) -> str | None:
    """A typed activity code (`a12`, `Ａ１２`) as stored (`A12`); None when nothing was typed."""
    if not text:
        return None
    return clean(text).upper()


def category_label(t: Translator, category: Category | str) -> str:
    return t(f"activities.category.{Category(category).value}")


def when_text(t: Translator, zone: ZoneInfo, starts_at: datetime, ends_at: datetime) -> str:
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    weekday = t(f"schedule.weekday_{start.weekday()}")
    if start.date() == end.date():
        return t(
            "activities.when_same_day",
            date=f"{start:%Y-%m-%d}",
            weekday=weekday,
            start=f"{start:%H:%M}",
            end=f"{end:%H:%M}",
        )
    return t(
        "activities.when_days",
        date=f"{start:%Y-%m-%d}",
        weekday=weekday,
        start=f"{start:%H:%M}",
        end_date=f"{end:%Y-%m-%d}",
        end=f"{end:%H:%M}",
    )


def people_text(t: Translator, count: int, about: bool = False) -> str:
    """A number of people as the catalog words it: "30 人", or "约 30 人" when typed as approximate."""
    return t("activities.people_about" if about else "activities.people", count=count)


def place_text(t: Translator, place: Place) -> str:
    if place.radius_m:
        return t("activities.place_with_radius", place=place.text, radius=place.radius_m)
    return t("activities.place_plain", place=place.text)


def yes_no(t: Translator, value: bool) -> str:
    return t("activities.yes" if value else "activities.no")


def fit(t: Translator, lines: list[str], budget: int) -> list[str]:
    """As many lines as fit in `budget` characters, then a note of how many were left out."""
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            return [*kept, t("activities.lines_more", count=len(lines) - index)]
        kept.append(line)
        used += len(line) + 1
    return kept


def pages_of(lines: list[str], budget: int) -> list[list[str]]:
    """The lines cut into pages of at most `budget` characters (a longer line is a page of its own)."""
    pages: list[list[str]] = [[]]
    used = 0
    for line in lines:
        if pages[-1] and used + len(line) + 1 > budget:
            pages.append([])
            used = 0
        pages[-1].append(line)
        used += len(line) + 1
    return pages


def name_of(people: Mapping[int, Person], user_id: int) -> str:
    return people[user_id].display_name if user_id in people else str(user_id)


def names(t: Translator, people: Mapping[int, Person], user_ids: Sequence[int]) -> str:
    return t("activities.name_separator").join(name_of(people, user_id) for user_id in user_ids)


async def show(ui: Ui, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """After a tap the tapped message becomes the next step; after typing, a new message."""
    if ui.update.callback_query is not None:
        await ui.edit_text(text, markup)
    else:
        await ui.send_text(text, markup)
