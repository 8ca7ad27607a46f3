"""A session's rules as pure functions: what the creation conversation may enter (one step at a
time), which wishes a selection names, and how waves release the lots over time."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import bounds
from bot.domain.errors import DomainError, one_line
from bot.domain.formatting import local_text
from bot.domain.wishes import parse_code
from bot.model.auction import AuctionSession
from bot.model.wish import WishCategory

from .records import LotSelection

TITLE_MAX = 60
DURATION_MIN, DURATION_MAX = 5, 240
CAP_MIN, CAP_MAX = 1, 500
DEADLINE_MIN, DEADLINE_MAX = 1, 90
WAVE_SIZE_MIN, WAVE_SIZE_MAX = 1, 500
WAVE_EVERY_MIN, WAVE_EVERY_MAX = 1, 60
START_GRACE = timedelta(minutes=5)  # the creation conversation takes a while: "now" may have passed
_WAVES = re.compile(r"(\d+)\s*(?:[\s,，/、xX×*]|每)\s*(\d+)\s*(?:分钟|分鐘|分|min|m)?")

Waves = tuple[int, int]  # (lots per wave, minutes between waves)


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the auction service; pass an aware datetime")
    return moment.astimezone(UTC).replace(microsecond=0)


def _text(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def _whole_number(value: object, key: str, low: int, high: int, range_key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = _text(value)
        found = bounds.whole_number(text)
        if found is None:
            raise DomainError(key, value=text[:20], min=low, max=high)
        number = found
    if not low <= number <= high:
        raise DomainError(range_key, value=number, min=low, max=high)
    return number


# ---- what the creation conversation enters --------------------------------------------------
def check_title(text: str) -> str:
    return one_line(
        text, max_length=TITLE_MAX, empty_key="auction.err_title_empty", too_long_key="auction.err_title_too_long"
    )


def check_start(starts_at: datetime, now: datetime, zone: ZoneInfo) -> datetime:
    """Not in the past (a few minutes' grace: the conversation takes time). UTC, whole seconds."""
    start = utc(starts_at)
    if start < now - START_GRACE:
        raise DomainError("auction.err_start_in_past", start=local_text(start, zone), now=local_text(now, zone))
    return start


def check_duration(value: int | str) -> int:
    return _whole_number(
        value, "auction.err_duration_not_number", DURATION_MIN, DURATION_MAX, "auction.err_duration_out_of_range"
    )


def check_caps(value: int | str | None) -> int | None:
    """One cap (per organisation or per person): 1..500, or None (or "") for no cap."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _whole_number(value, "auction.err_cap_not_number", CAP_MIN, CAP_MAX, "auction.err_cap_out_of_range")


def check_deadline_days(value: int | str) -> int:
    return _whole_number(
        value, "auction.err_deadline_not_number", DEADLINE_MIN, DEADLINE_MAX, "auction.err_deadline_out_of_range"
    )


def check_waves(
    value: str | int | Waves | None,
    every: int | str | None = None,
    *,
    duration_minutes: int | None = None,
    lot_count: int | None = None,
) -> Waves | None:
    """ "50 3", (50, 3) or (50, every=3): 50 lots every 3 minutes → (50, 3); None or "" → no waves.

    With the duration and the number of lots, also refuses a rhythm that would not release
    every lot before the end."""
    size: object
    if every is not None:
        size = value
    elif value is None or (isinstance(value, str) and not value.strip()):
        return None
    elif isinstance(value, tuple):
        size, every = value
    else:
        match = _WAVES.fullmatch(_text(value))
        if match is None:
            raise DomainError("auction.err_waves_format", value=_text(value)[:20])
        size, every = int(match.group(1)), int(match.group(2))
    lots = _whole_number(
        size, "auction.err_waves_format", WAVE_SIZE_MIN, WAVE_SIZE_MAX, "auction.err_wave_size_out_of_range"
    )
    minutes = _whole_number(
        every, "auction.err_waves_format", WAVE_EVERY_MIN, WAVE_EVERY_MAX, "auction.err_wave_every_out_of_range"
    )
    if duration_minutes is not None and lot_count is not None:
        waves = 1 + (duration_minutes * 60 - 1) // (minutes * 60)  # the last one before the end
        if lots * waves < lot_count:
            raise DomainError(
                "auction.err_waves_too_slow", released=lots * waves, lots=lot_count, minutes=duration_minutes
            )
    return lots, minutes


# ---- which wishes a selection names -----------------------------------------------------------
@dataclass(frozen=True)
class SelectionWhere:
    """A checked selection, as the repository's choice of lots reads it (ids None: any id)."""

    collector_org_ids: tuple[int, ...]
    categories: tuple[WishCategory, ...]
    min_value: int | None
    max_value: int | None
    ids: tuple[int, ...] | None


def check_selection(selection: LotSelection) -> SelectionWhere:
    for value in (selection.min_value, selection.max_value):
        if value is not None and value < 0:
            raise DomainError("auction.err_value_negative", value=value)
    if (
        selection.min_value is not None
        and selection.max_value is not None
        and selection.min_value > selection.max_value
    ):
        raise DomainError("auction.err_value_range", min=selection.min_value, max=selection.max_value)
    ids: tuple[int, ...] | None = None
    if selection.codes:
        found: list[int] = []
        for code in selection.codes:
            wish_id = parse_code(code)
            if wish_id is None:
                raise DomainError("auction.err_code_invalid", value=_text(code)[:20])
            found.append(wish_id)
        ids = tuple(dict.fromkeys(found))
    elif not selection.all_open and not selection.narrowed:
        ids = ()
    return SelectionWhere(
        collector_org_ids=tuple(selection.collector_org_ids),
        categories=tuple(WishCategory(category) for category in selection.categories),
        min_value=selection.min_value,
        max_value=selection.max_value,
        ids=ids,
    )


# ---- waves ------------------------------------------------------------------------------------
def released(session: AuctionSession, now: datetime) -> int:
    """Waves: wave_size × (1 + whole wave periods since the start), at most every lot; no waves: all."""
    if session.wave_size is None or session.wave_every_minutes is None or not session.has_waves:
        return session.lot_count
    elapsed = max(0.0, (now - session.starts_at).total_seconds())
    waves = 1 + int(elapsed // (session.wave_every_minutes * 60))
    return min(session.lot_count, session.wave_size * waves)
