"""Input bounds in one place: every number, id and date that comes from outside (callback data,
deep links, typed text, uploaded files) is checked here before it reaches a rule or the database.

Why: Python's `int()` takes any size and any script (`"²".isdigit()` is True yet `int("²")`
fails; `int("١٢")` is 12), SQLite refuses integers of 2^63 and more with an OverflowError, and
`datetime` cannot step past the year 9999. Each of those used to reach the error handler, so the
person got the generic apology instead of being told what to send.

- ids (users, organisations, wishes, sessions…): ASCII digits, 1 ≤ n < 2^53 (Telegram's own bound);
- chat ids: the same magnitude, negative allowed (groups), never 0;
- dates: 2000-01-01 to 2100-12-31 (the bot's records start in this century; nothing is planned
  further ahead);
- durations and counts: each caller names its maximum; MAX_DURATION_MINUTES and MAX_COUNT are
  the ceilings no caller may exceed;
- other whole numbers a rule checks against its own range (slots, caps, quotas): `whole_number`
  reads them without ever building a huge integer, so the rule can say "out of range".

Every parser either returns the value or raises `DomainError` with a `bounds.*` key whose text
names the valid range and gives an example; the `…_or_none` forms are for forged input
(buttons, deep links) where the caller answers "expired button" itself.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime

from bot.domain.errors import DomainError

ID_LIMIT = 2**53  # exclusive: Telegram's ids fit in 53 bits, anything larger is forged
MAX_ID = ID_LIMIT - 1
MIN_YEAR, MAX_YEAR = 2000, 2100
MIN_DATE, MAX_DATE = date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)
MAX_DURATION_MINUTES = 7 * 24 * 60  # a week: the longest activity or session anyone plans
MAX_COUNT = 100_000  # slots, people served, lots: more than a county has people
_MAX_DIGITS = len(str(MAX_ID))
_MAX_WHOLE_DIGITS = 40  # far beyond any range a rule checks; more digits are not read at all


def ascii_digits(text: str) -> bool:
    """Only 0-9 (`str.isdigit` also accepts "²" and "١")."""
    return text.isascii() and text.isdigit()


def _magnitude(text: str) -> int | None:
    """ASCII digits with at most 16 of them, below 2^53; None otherwise (never an OverflowError)."""
    if not ascii_digits(text) or len(text) > _MAX_DIGITS:
        return None
    number = int(text)
    return number if number < ID_LIMIT else None


# ---- ids ---------------------------------------------------------------------------------------
def id_or_none(text: str) -> int | None:
    """A positive id (1 ≤ n < 2^53) written in ASCII digits, else None."""
    number = _magnitude(text.strip())
    return number if number else None


def parse_id(text: str) -> int:
    number = id_or_none(text)
    if number is None:
        raise DomainError("bounds.bad_id", text=text.strip()[:24], max=MAX_ID)
    return number


def chat_id_or_none(text: str) -> int | None:
    """A chat id: |n| < 2^53, negative for groups, never 0; else None."""
    text = text.strip()
    number = _magnitude(text[1:] if text.startswith("-") else text)
    if not number:
        return None
    return -number if text.startswith("-") else number


def parse_chat_id(text: str) -> int:
    number = chat_id_or_none(text)
    if number is None:
        raise DomainError("bounds.bad_chat_id", text=text.strip()[:24], max=MAX_ID)
    return number


def natural_or_none(text: str) -> int | None:
    """0 ≤ n < 2^53 in ASCII digits (an id, or an index such as a value band's), else None."""
    return _magnitude(text.strip())


def signed_or_none(text: str) -> int | None:
    """Any integer with |n| < 2^53 (0 included): the callback-data codec's integer fields."""
    number = _magnitude(text[1:] if text.startswith("-") else text)
    if number is None:
        return None
    return -number if text.startswith("-") else number


def whole_number(text: str) -> int | None:
    """An integer as typed ("42", "-3", "+7", full-width "４２": ASCII digits after NFKC and an
    optional sign), else None ("١٢", "1_000", "3.5", "1e5"). Up to 40 digits of any size, for the
    caller's own range check to refuse (its message names the range); more are not a number here."""
    text = unicodedata.normalize("NFKC", text).strip()
    digits = text[1:] if text[:1] in ("-", "+") else text
    if not ascii_digits(digits) or len(digits) > _MAX_WHOLE_DIGITS:
        return None
    return int(text)


def within_id_range(value: int) -> bool:
    """For values about to be packed or stored: |n| < 2^53."""
    return -ID_LIMIT < value < ID_LIMIT


# ---- dates ---------------------------------------------------------------------------------------
def date_in_range(day: date) -> bool:
    return MIN_DATE <= day <= MAX_DATE


def check_date(day: date) -> date:
    if not date_in_range(day):
        raise DomainError("bounds.bad_date", value=day.isoformat(), min=MIN_DATE.isoformat(), max=MAX_DATE.isoformat())
    return day


def check_moment(moment: datetime) -> datetime:
    """A moment (aware or local) whose calendar date is within the range."""
    check_date(moment.date())
    return moment


def compact_date_or_none(text: str) -> date | None:
    """`20260101` (what buttons carry) → a date within the range, else None."""
    if len(text) != 8 or not ascii_digits(text):
        return None
    try:
        day = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
    return day if date_in_range(day) else None


def year_or_none(text: str) -> int | None:
    """A year in ASCII digits between MIN_YEAR and MAX_YEAR, else None."""
    text = text.strip()
    if len(text) != 4 or not ascii_digits(text):
        return None
    year = int(text)
    return year if MIN_YEAR <= year <= MAX_YEAR else None


def parse_year(text: str) -> int:
    year = year_or_none(text)
    if year is None:
        raise DomainError("bounds.bad_year", text=text.strip()[:24], min=MIN_YEAR, max=MAX_YEAR)
    return year


# ---- durations and counts ---------------------------------------------------------------------
def parse_count(text: str, *, maximum: int, minimum: int = 0) -> int:
    """A whole number typed as ASCII digits (full-width ones are folded by the caller's NFKC),
    minimum ≤ n ≤ maximum (never above MAX_COUNT)."""
    maximum = min(maximum, MAX_COUNT)
    number = _magnitude(text.strip())
    if number is None or not minimum <= number <= maximum:
        raise DomainError("bounds.bad_count", text=text.strip()[:24], min=minimum, max=maximum)
    return number


def typed_minutes(text: str, hours: str | None, minutes: str | None, *, maximum: int = MAX_DURATION_MINUTES) -> int:
    """The hours (a decimal point allowed: "1.5") and minutes of a typed duration `text`, in ASCII
    digits, as whole minutes from 0 to maximum (never above a week); 0 is the caller's to refuse.
    However many digits were typed ("99999999999999999999小时"), the answer is DomainError
    `bounds.bad_duration_typed`, which names the range, not an OverflowError from `timedelta`."""
    maximum = min(maximum, MAX_DURATION_MINUTES)
    try:
        total = float(hours or 0) * 60 + float(minutes or 0)  # a huge number is inf, never an error
    except ValueError:
        raise DomainError("bounds.bad_duration_typed", text=text.strip()[:24], max_hours=maximum // 60) from None
    if not math.isfinite(total) or not 0 <= total <= maximum:
        raise DomainError("bounds.bad_duration_typed", text=text.strip()[:24], max_hours=maximum // 60)
    return round(total)


def check_minutes(minutes: int, *, maximum: int = MAX_DURATION_MINUTES) -> int:
    """A duration in minutes: 1 ≤ n ≤ maximum (never above a week)."""
    maximum = min(maximum, MAX_DURATION_MINUTES)
    if not 1 <= minutes <= maximum:
        raise DomainError("bounds.bad_duration", minutes=minutes, max_hours=maximum // 60)
    return minutes
