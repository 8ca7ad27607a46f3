"""Sunshine Home's fields: their limits and how typed or imported text is read.

Pure rules shared by the services, the import and the conversations: no database, no clock.
Catalog keys raised are under `sunshine.` (handlers/locales/<lang>/sunshine_errors.toml).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from bot.domain import bounds
from bot.domain.errors import DomainError
from bot.domain.wishes.rules import is_real_name, normalise, normalise_phone, parse_consent
from bot.model.sunshine import ChildPrivate, child_code

__all__ = [
    "ALIAS_MAX",
    "GRADE_MAX",
    "MINUTES_MAX",
    "NEEDS_MAX",
    "NOTE_MAX",
    "RHYTHMS",
    "clean_alias",
    "clean_grade",
    "clean_note",
    "clean_private",
    "is_real_name",
    "normalise_phone",
    "parse_child_code",
    "parse_consent",
    "parse_day",
    "parse_minutes",
    "parse_needs",
    "parse_rhythm",
    "parse_tags",
]

ALIAS_MAX = 20
GRADE_MAX = 10
TAG_MAX = 12
NEEDS_MAX = 8
NOTE_MAX = 200
PRIVATE_TEXT_MAX = 100
NOTES_MAX = 300
MINUTES_MAX = 720
EMPLOYER_MAX = 40
AREA_MAX = 40
# A pair's rhythm, in days between contacts, by name (the buttons offer these).
RHYTHMS = {"weekly": 7, "fortnightly": 14, "monthly": 30}
RHYTHM_MAX = 92

_CODE = re.compile(r"[cC]?0*([0-9]{1,7})")
_TAG_SPLIT = re.compile(r"[,，、;；/\s]+")
_TODAY = {"今天", "今日", "today"}
_YESTERDAY = {"昨天", "昨日", "yesterday"}
_DATE = re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?")
_MONTH_DAY = re.compile(r"([0-9]{1,2})[-/.月]([0-9]{1,2})日?")
_MINUTES = re.compile(r"([0-9]{1,4})\s*(?:分钟|分鐘|分|min|mins|minutes|m)?")
_HOURS = re.compile(r"([0-9]{1,2}(?:\.[0-9])?)\s*(?:小时|小時|h|hours?)")


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


def parse_child_code(text: str) -> int:
    """ "C0001", "c1", "1" → 1; anything else refused with an example."""
    match = _CODE.fullmatch(_fold(text))
    if match is None or int(match.group(1)) == 0:
        raise DomainError("sunshine.child_code_invalid", value=str(text)[:20], example=child_code(1))
    return int(match.group(1))


def clean_alias(text: str) -> str:
    value = normalise(text)
    if not value:
        raise DomainError("sunshine.alias_empty")
    if len(value) > ALIAS_MAX:
        raise DomainError("sunshine.alias_too_long", length=len(value), max=ALIAS_MAX)
    return value


def clean_grade(text: str) -> str:
    value = normalise(text)
    if not value:
        raise DomainError("sunshine.grade_empty")
    if len(value) > GRADE_MAX:
        raise DomainError("sunshine.grade_too_long", length=len(value), max=GRADE_MAX)
    return value


def parse_tags(text: str, *, key: str = "sunshine.tags_bad") -> tuple[str, ...]:
    """ "数学，英语、画画" → ("数学", "英语", "画画"): up to NEEDS_MAX short tags, duplicates dropped."""
    tags = [tag for tag in _TAG_SPLIT.split(normalise(unicodedata.normalize("NFKC", text))) if tag]
    unique = tuple(dict.fromkeys(tags))
    if len(unique) > NEEDS_MAX or any(len(tag) > TAG_MAX for tag in unique):
        raise DomainError(key, max=NEEDS_MAX, length=TAG_MAX)
    return unique


def parse_needs(text: str) -> tuple[str, ...]:
    return parse_tags(text, key="sunshine.needs_bad")


def clean_note(text: str | None) -> str | None:
    value = normalise(text or "")
    if len(value) > NOTE_MAX:
        raise DomainError("sunshine.note_too_long", length=len(value), max=NOTE_MAX)
    return value or None


def clean_private(details: ChildPrivate, alias: str) -> ChildPrivate:
    """Tidy each private field and check it; the alias must not give the real name away."""

    def text(value: str | None, limit: int, key: str) -> str | None:
        cleaned = normalise(value or "")
        if len(cleaned) > limit:
            raise DomainError(key, max=limit)  # never quote a private value back
        return cleaned or None

    phone = None
    if details.guardian_phone and normalise(details.guardian_phone):
        phone = normalise_phone(details.guardian_phone)
        if phone is None:
            raise DomainError("sunshine.phone_invalid")
    cleaned = ChildPrivate(
        real_name=text(details.real_name, ALIAS_MAX, "sunshine.private_too_long"),
        birth_date=details.birth_date,
        guardian=text(details.guardian, ALIAS_MAX, "sunshine.private_too_long"),
        guardian_phone=phone,
        address=text(details.address, PRIVATE_TEXT_MAX, "sunshine.private_too_long"),
        notes=text(details.notes, NOTES_MAX, "sunshine.private_too_long"),
    )
    if is_real_name(alias, cleaned.real_name):
        raise DomainError("sunshine.alias_is_real_name")
    return cleaned


def parse_day(text: str, today: date) -> date:
    """今天 / 昨天 / 2026-11-20 (also 2026/11/20, 2026年11月20日) / 11-20 (this year)."""
    cleaned = _fold(text)
    if cleaned in _TODAY:
        return today
    if cleaned in _YESTERDAY:
        return today - timedelta(days=1)
    try:
        if match := _DATE.fullmatch(cleaned):
            return bounds.check_date(date(*(int(part) for part in match.groups())))
        if match := _MONTH_DAY.fullmatch(cleaned):
            return date(today.year, int(match.group(1)), int(match.group(2)))
    except ValueError:  # 2026-02-30
        pass
    raise DomainError("sunshine.day_bad", text=str(text)[:30])


def parse_minutes(text: str) -> int:
    """ "45", "45分钟", "1.5小时" → minutes, 1..720."""
    cleaned = _fold(text)
    minutes: int | None = None
    if match := _HOURS.fullmatch(cleaned):
        minutes = round(float(match.group(1)) * 60)
    elif match := _MINUTES.fullmatch(cleaned):
        minutes = int(match.group(1))
    if minutes is None or not 1 <= minutes <= MINUTES_MAX:
        raise DomainError("sunshine.minutes_bad", text=str(text)[:20], max=MINUTES_MAX)
    return minutes


def parse_rhythm(text: str) -> int:
    """A rhythm name (weekly, monthly…) or a number of days 1..92."""
    named = RHYTHMS.get(_fold(text))
    if named is not None:
        return named
    days = bounds.whole_number(_fold(text).removesuffix("天").removesuffix("days"))
    if days is None or not 1 <= days <= RHYTHM_MAX:
        raise DomainError("sunshine.rhythm_bad", text=str(text)[:20], max=RHYTHM_MAX)
    return days


def short_text(text: str, limit: int, key: str) -> str | None:
    value = normalise(text)
    if len(value) > limit:
        raise DomainError(key, length=len(value), max=limit)
    return value or None
