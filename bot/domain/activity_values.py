"""The values of an activity as the service receives them: typed text, or values of any type.

Each refusal is a `DomainError` with the field's own catalog key (activities.err_<field>_*, see
bot/domain/activities.py); a value of the wrong type from the code is a `TypeError`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from bot.domain import bounds
from bot.domain.errors import DomainError

T = TypeVar("T")

# How people type a number of people: 30 / 30人 / 约30 / 约 30 人 / ~30 / 30人左右 / 三十多人 is not one.
_ABOUT_BEFORE = ("大约", "大概", "约", "~", "≈", "近")
_ABOUT_AFTER = ("左右", "上下", "多")
_PEOPLE_UNITS = ("人次", "人", "名", "位")
_WHOLE_NUMBER = re.compile(r"[+-]?\d+")


def utc_second(moment: datetime) -> datetime:
    """Aware UTC at second precision, as the database keeps it, so comparisons are exact."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the activities service; pass an aware datetime")
    return moment.astimezone(UTC).replace(microsecond=0)


def typed_change(changes: Mapping[str, object], name: str, kind: type[T], default: T | None = None) -> T:
    """One of `edit`'s changes, which must be of its field's type (or `default` when not given)."""
    value = changes.get(name, default)
    if not isinstance(value, kind):
        raise TypeError(f"activity {name} must be {kind.__name__}, not {type(value).__name__}")
    return value


def count_change(changes: Mapping[str, object], name: str) -> str | int:
    """A number of people in `edit`'s changes: as typed (checked by the caller) or already a number."""
    value = changes[name]
    if not isinstance(value, str | int):
        raise TypeError(f"activity {name} must be a number or its text, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class TypedPeople:
    """A number of people as typed: the number's own text (or the number) and whether it was
    given as approximate (约 30 人), so that it can be quoted back the same way."""

    number: str | int
    about: bool = False


def typed_people(text: str | int) -> TypedPeople:
    """`约 30 人`, `~30`, `30人左右`, `30`: the number without its unit or its "about". Text that
    is no number even without them is left as typed, for `bounded`'s error to quote."""
    if not isinstance(text, str):
        return TypedPeople(text)
    typed = "".join(unicodedata.normalize("NFKC", text).split())  # "～３０ 人" → "~30人"
    rest, about, changed = typed, False, True
    while changed:
        changed = False
        for unit in _PEOPLE_UNITS:
            if rest.endswith(unit):
                rest, changed = rest.removesuffix(unit), True
        for word in _ABOUT_AFTER:
            if rest.endswith(word):
                rest, changed, about = rest.removesuffix(word), True, True
        for word in _ABOUT_BEFORE:
            if rest.startswith(word):
                rest, changed, about = rest.removeprefix(word), True, True
    if _WHOLE_NUMBER.fullmatch(rest) is None:
        return TypedPeople(typed)
    return TypedPeople(rest, about)


def _number(text: str | int, not_number_key: str) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    cleaned = unicodedata.normalize("NFKC", str(text)).strip()
    number = bounds.whole_number(cleaned)
    if number is None:
        raise DomainError(not_number_key, value=cleaned[:20])
    return number


def bounded(text: str | int, field: str, low: int, high: int, **shown: int) -> int:
    """A whole number from low to high; the errors are activities.err_<field>_not_number and
    activities.err_<field>_out_of_range (value, max, and any `shown`)."""
    number = _number(text, f"activities.err_{field}_not_number")
    if not low <= number <= high:
        raise DomainError(f"activities.err_{field}_out_of_range", value=number, max=high, **shown)
    return number
