"""The values of an activity as the service receives them: typed text, or values of any type.

Each refusal is a `DomainError` with the field's own catalog key (activities.err_<field>_*, see
bot/domain/activities.py); a value of the wrong type from the code is a `TypeError`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TypeVar

from bot.domain.errors import DomainError

T = TypeVar("T")


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


def _number(text: str | int, not_number_key: str) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    cleaned = unicodedata.normalize("NFKC", str(text)).strip()
    try:
        return int(cleaned)
    except ValueError:
        raise DomainError(not_number_key, value=cleaned[:20]) from None


def bounded(text: str | int, field: str, low: int, high: int, **shown: int) -> int:
    """A whole number from low to high; the errors are activities.err_<field>_not_number and
    activities.err_<field>_out_of_range (value, max, and any `shown`)."""
    number = _number(text, f"activities.err_{field}_not_number")
    if not low <= number <= high:
        raise DomainError(f"activities.err_{field}_out_of_range", value=number, max=high, **shown)
    return number
