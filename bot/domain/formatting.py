"""Dates, times and periods as people read them: in the configured zone, one format everywhere.

Stored times are UTC; everything shown goes through here, so a change of format is one edit.
Text the domain itself stores (reminder texts) comes from the catalogs through a `RenderText`
the runtime passes in: the domain never imports the catalogs, which belong to the handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Protocol, Self
from zoneinfo import ZoneInfo

DATE_TIME = "%Y-%m-%d %H:%M"
DATE = "%Y-%m-%d"  # a deadline is a day: the end of it, in the configured zone

# (catalog key, params) → plain text in the configured language (handlers.i18n.plain_text_renderer).
RenderText = Callable[[str, Mapping[str, object]], str]


def local_text(moment: datetime | None, zone: ZoneInfo, pattern: str = DATE_TIME) -> str:
    """`moment` (aware, any zone) in `zone`; "" for None."""
    return "" if moment is None else moment.astimezone(zone).strftime(pattern)


class Period(Protocol):
    """What a label needs of bot.domain.stats.Period. Named here, not imported: stats depends on
    services that format times, so importing it would make a circle."""

    @property
    def start(self) -> date: ...

    @property
    def end(self) -> date: ...

    @classmethod
    def of_year(cls, year: int) -> Self: ...

    @classmethod
    def of_month(cls, year: int, month: int) -> Self: ...


# Zones as the people who live in them name them, for the zones of China, Hong Kong, Macau and
# Taiwan (and tzdata's old aliases of them); the names are catalog entries `zone.<name>`.
# Asia/Urumqi is UTC+6 in tzdata ("Xinjiang time"), not Beijing time.
_ZONE_NAMES = {
    "Asia/Shanghai": "beijing",
    "Asia/Chongqing": "beijing",
    "Asia/Chungking": "beijing",
    "Asia/Harbin": "beijing",
    "PRC": "beijing",
    "Asia/Urumqi": "xinjiang",
    "Asia/Kashgar": "xinjiang",
    "Asia/Hong_Kong": "hong_kong",
    "Hongkong": "hong_kong",
    "Asia/Macau": "macau",
    "Asia/Macao": "macau",
    "Asia/Taipei": "taiwan",
    "ROC": "taiwan",
}


def zone_label(t: Callable[[str], str], zone: ZoneInfo) -> str:
    """ "北京时间" / "Beijing time" for Asia/Shanghai, in the reader's language (`t`); a zone with
    no everyday name here is shown by its id."""
    name = _ZONE_NAMES.get(zone.key)
    return t(f"zone.{name}") if name else zone.key


def hours_text(minutes: int, t: Callable[..., str]) -> str:
    """Volunteer time as people count it, the same wherever it is shown (a sheet's line, an
    activity's summary, /me, /stats, the year's report): "180 小时 15 分", "2 小时", "45 分钟"."""
    hours, rest = divmod(max(0, int(minutes)), 60)
    if hours and rest:
        return t("common.hours_minutes", hours=hours, minutes=rest)
    if hours:
        return t("common.hours", hours=hours)
    return t("common.minutes", minutes=rest)


def period_label(t: Callable[..., str], period: Period) -> str:
    """ "2026 年", "2026 年 3 月" or "2026-01-01 至 2026-06-30", in the reader's language (`t`)."""
    kind = type(period)
    if period == kind.of_year(period.start.year):
        return t("common.period_year", year=period.start.year)
    if period == kind.of_month(period.start.year, period.start.month):
        return t("common.period_month", year=period.start.year, month=period.start.month)
    return t("common.period_range", start=period.start.isoformat(), end=period.end.isoformat())
