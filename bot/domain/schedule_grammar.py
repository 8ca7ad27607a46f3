"""Reminder times typed by admins, in Chinese or English: read into a `Schedule`, described back.

Only the language lives here; the stored `Schedule` and when it fires (APScheduler's triggers)
are in bot/domain/schedule.py. No clock: "now" and the local zone are always passed in, and
must be timezone-aware. A one-off's wall-clock time is computed in the local zone and converted
to UTC; a time that does not exist (DST gap) lands just after the gap, an ambiguous one (DST
fold) is the first of the two.

Grammar (whitespace-tolerant, case-insensitive, full-width digits and "：" accepted)

    time of day   9:00 / 09:00 / 9点 / 9点30 / 9点半 / 9点一刻 / 九点 / 下午3点 / 9am / 9:30 pm
    one-off       2026-12-01 9:00, 2026/12/01 9:00, 2026年12月1日 9:00
                  12-01 9:00, 12/01 9:00, 12月1日 9:00   (this year, or the next year it is ahead)
                  今天/明天/后天/大后天 9:00, today/tomorrow 9:00, day after tomorrow 9:00
                  下周一 14:30, next monday 14:30        (that day of next week; weeks start Monday)
                  周三/星期三/礼拜三 10:00, monday 9:00   (next such day; today if still ahead)
                  本周三/这周三 10:00, this wednesday      (that day of this week)
                  9:00                                   (next occurrence: today or tomorrow)
    recurring     每天/每日/天天 8:30, every day / everyday / daily 8:30
                  每周一 9:00, 每周一三五, 每周一、三、五, 每周一至五, every monday, every mon,wed,fri,
                  every mon-fri, mondays 9:00, weekly on tue 9:00
                  每个工作日/工作日 9:00, weekdays / every weekday 9:00      (Mon-Fri)
                  每周末 10:00, weekends / every weekend 10:00              (Sat, Sun)
                  每月1日/每月1号 9:00, every month on the 1st 9:00, monthly 1 9:00
                  (day 29-31 in a shorter month: the month's last day)
                  cron 0 9 * * 1   (standard 5 fields in the local zone: see bot/domain/schedule.py)
    The time may come first ("9:00 tomorrow"); English "at" and Chinese "的" are ignored.

Catalog keys (handlers/locales/<lang>/schedule.toml, table [schedule]):

    errors (DomainError key, params)
        schedule.empty                          -
        schedule.unrecognised                   text
        schedule.bad_date                       date
        schedule.bad_time                       time
        schedule.in_past                        when   (local "YYYY-MM-DD HH:MM")
        bounds.bad_date                         value, min, max   (a one-off outside 2000-2100)
        schedule.bad_month_day                  day
        schedule.missing_month_day              text
        schedule.missing_time                   text
        schedule.bad_cron                       text
        schedule.cron_never                     text
    describe() (rendered through the `t` callable)
        schedule.describe_once                  date, time, weekday
        schedule.describe_daily                 time
        schedule.describe_weekly                days, time
        schedule.describe_workdays              time
        schedule.describe_monthly               day, time
        schedule.describe_monthly_clamped       day, time    (day 29-31)
        schedule.describe_cron                  cron
        schedule.weekday_0 .. schedule.weekday_6   (Monday .. Sunday)
        schedule.list_separator
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import bounds
from bot.domain.errors import DomainError
from bot.domain.formatting import local_text
from bot.domain.schedule import DEFAULT_ZONE, Schedule, check_cron, next_occurrence
from bot.domain.time_words import CN_NUM, number, time_candidates, time_of_day

__all__ = ["WORKDAYS", "Schedule", "describe", "parse_schedule"]

WORKDAYS = (0, 1, 2, 3, 4)
WEEKEND = (5, 6)
MAX_INPUT = 200  # longer text is not a time
SHOWN_TEXT = 50  # how much of the user's text an error message repeats


# --------------------------------------------------------------------------------------------
# Parsing


def parse_schedule(text: str, *, now: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> Schedule:
    """Read what an admin typed; raise DomainError (key `schedule.*`) when it can't be used."""
    _require_aware(now, "now")
    if text is None or not str(text).strip():
        raise DomainError("schedule.empty")
    shown = _shorten(str(text).strip())
    s = _normalise(str(text))
    if not s:
        raise DomainError("schedule.empty")
    if len(s) > MAX_INPUT:
        raise DomainError("schedule.unrecognised", text=shown)

    cron = re.fullmatch(r"cron\s*:?\s*(.*)", s)
    if cron:
        fields = " ".join(cron.group(1).split())
        check_cron(fields)
        schedule = Schedule("cron", None, None, cron=fields)
        if next_occurrence(schedule, after=now, zone=zone) is None:
            raise DomainError("schedule.cron_never", text=fields)
        return schedule

    for clock_match, rest in time_candidates(s):
        spec = _parse_spec(rest, shown)
        if spec is None:
            continue
        return _build(spec, time_of_day(clock_match), now, zone)
    if _parse_spec(s, shown) is not None:
        raise DomainError("schedule.missing_time", text=shown)
    raise DomainError("schedule.unrecognised", text=shown)


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"`{name}` must be a timezone-aware datetime")


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 1] + "…"


def _normalise(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).lower()
    s = s.replace("–", "-").replace("—", "-").replace("～", "~")
    s = " ".join(s.split())
    return s.rstrip(".。!?;； ").strip()


@dataclass(frozen=True)
class _Spec:
    """What the text says apart from the time of day."""

    kind: str  # bare date monthday offset weekday_next weekday_nextweek weekday_thisweek
    # daily weekly monthly
    value: tuple[Any, ...] = ()  # what the kind needs: (year, month, day, text), (weekday,)…


_WEEK = r"(?:周|週|星期|礼拜|禮拜)"
_CN_WEEKDAY = {
    "一": 0,
    "二": 1,
    "三": 2,
    "四": 3,
    "五": 4,
    "六": 5,
    "日": 6,
    "天": 6,
    "1": 0,
    "2": 1,
    "3": 2,
    "4": 3,
    "5": 4,
    "6": 5,
    "7": 6,
}
_CN_DAY_CHARS = "一二三四五六日天1-7"
_EN_WEEKDAY = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_RELATIVE = {
    "今天": 0,
    "今日": 0,
    "today": 0,
    "明天": 1,
    "明日": 1,
    "tomorrow": 1,
    "tmr": 1,
    "tmrw": 1,
    "后天": 2,
    "後天": 2,
    "day after tomorrow": 2,
    "the day after tomorrow": 2,
    "大后天": 3,
    "大後天": 3,
}
_NUM = rf"(\d{{1,3}}|{CN_NUM})"
_ORDINAL = r"(\d{1,3})(?:st|nd|rd|th)?"


def _clean(rest: str) -> str:
    s = rest.strip(" ,")
    s = re.sub(r"(?:^|\s)(?:at|@)$", "", s).strip(" ,")
    s = re.sub(r"^(?:at|@)\s+", "", s)
    return s.rstrip("的").strip(" ,")


def _parse_spec(rest: str, shown: str) -> _Spec | None:
    """None when the words are not understood; DomainError when understood but unusable."""
    s = _clean(rest)
    c = s.replace(" ", "")
    if not s:
        return _Spec("bare")

    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号號]?", c)
    if m:
        return _Spec("date", (int(m[1]), int(m[2]), int(m[3]), s))
    m = re.fullmatch(rf"{_NUM}[-/.月]{_NUM}[日号號]?", c)
    if m:
        month, day = number(m[1]), number(m[2])
        if month is None or day is None:
            return None
        return _Spec("monthday", (month, day, s))
    if s in _RELATIVE or c in _RELATIVE:
        return _Spec("offset", (_RELATIVE.get(s, _RELATIVE.get(c)),))

    m = re.fullmatch(rf"下(?:个|個|一个|一個|一)?{_WEEK}([{_CN_DAY_CHARS}])", c)
    if m:
        return _Spec("weekday_nextweek", (_CN_WEEKDAY[m[1]],))
    m = re.fullmatch(rf"(?:本|这|這|这个|這個){_WEEK}([{_CN_DAY_CHARS}])", c)
    if m:
        return _Spec("weekday_thisweek", (_CN_WEEKDAY[m[1]],))
    m = re.fullmatch(rf"{_WEEK}([{_CN_DAY_CHARS}])", c)
    if m:
        return _Spec("weekday_next", (_CN_WEEKDAY[m[1]],))

    if c in ("每天", "每日", "天天", "每一天") or re.fullmatch(r"(?:every|each) ?day|daily", s):
        return _Spec("daily")
    if re.fullmatch(r"(?:每个|每個|每一个|每)?工作日", c) or re.fullmatch(
        r"(?:(?:every|each|on) )?(?:week ?days?|work ?days?|working days?)", s
    ):
        return _Spec("weekly", WORKDAYS)
    if re.fullmatch(rf"每(?:个|個)?{_WEEK}末", c) or re.fullmatch(r"(?:every|each) weekend|(?:on )?weekends", s):
        return _Spec("weekly", WEEKEND)
    m = re.fullmatch(rf"每(?:个|個|一个|一個)?{_WEEK}(.+)", c)
    if m:
        days = _cn_days(m[1])
        return _Spec("weekly", days) if days else None

    m = re.fullmatch(rf"每(?:个|個|一个|一個)?月(?:的)?(?:第)?{_NUM}(?:日|号|號|天)?", c)
    if m:
        return _Spec("monthly", (_month_day(m[1]),))
    if c in ("每月", "每个月", "每個月", "每一个月"):
        raise DomainError("schedule.missing_month_day", text=shown)
    m = re.fullmatch(rf"(?:(?:every|each) month|monthly)(?: on)?(?: the)?(?: day)? {_ORDINAL}", s) or re.fullmatch(
        rf"(?:on )?(?:the )?(?:day )?{_ORDINAL} (?:day )?of (?:every|each|the) month", s
    )
    if m:
        return _Spec("monthly", (_month_day(m[1]),))
    if re.fullmatch(r"(?:every|each) month|monthly", s):
        raise DomainError("schedule.missing_month_day", text=shown)

    return _english_weekdays(s)


def _month_day(token: str) -> int:
    day = number(token)
    if day is None or not 1 <= day <= 31:
        raise DomainError("schedule.bad_month_day", day=token)
    return day


def _cn_days(text: str) -> tuple[int, ...] | None:
    """ "一三五", "一、三、五", "周一,周三", "一至五" -> weekday numbers."""
    token = re.compile(rf"{_WEEK}?([{_CN_DAY_CHARS}])|([、,/和与與及跟])|([至到~-])")
    days: list[int] = []
    pending_range = False
    pos = 0
    while pos < len(text):
        m = token.match(text, pos)
        if not m:
            return None
        pos = m.end()
        if m[1]:
            day = _CN_WEEKDAY[m[1]]
            if pending_range:
                days.extend(_day_range(days[-1], day)[1:])
                pending_range = False
            else:
                days.append(day)
        elif m[3]:
            if not days or pending_range:
                return None
            pending_range = True
    if pending_range or not days:
        return None
    return tuple(sorted(set(days)))


def _day_range(first: int, last: int) -> list[int]:
    days = [first]
    while days[-1] != last:
        days.append((days[-1] + 1) % 7)
    return days


def _english_weekday(word: str) -> tuple[int, bool] | None:
    if word in _EN_WEEKDAY:
        return _EN_WEEKDAY[word], False
    if word.endswith("s") and word[:-1] in _EN_WEEKDAY:
        return _EN_WEEKDAY[word[:-1]], True
    return None


def _english_weekdays(s: str) -> _Spec | None:
    mode, words = "plain", s
    for prefix, kind in (
        ("every week on ", "every"),
        ("every ", "every"),
        ("each ", "every"),
        ("weekly on ", "every"),
        ("weekly ", "every"),
        ("next ", "next"),
        ("this ", "this"),
        ("on ", "plain"),
    ):
        if s.startswith(prefix):
            mode, words = kind, s[len(prefix) :]
            break
    words = re.sub(r" (?:to|through|thru|till|until) ", "-", words)
    tokens = [w for w in re.split(r"\s*(?:,|&|/|\band\b|\s)\s*", words) if w]
    if not tokens:
        return None
    days: list[int] = []
    plurals: list[bool] = []
    for token in tokens:
        ends = token.split("-")
        if len(ends) > 2:
            return None
        read = [day for day in map(_english_weekday, map(str.strip, ends)) if day is not None]
        if len(read) < len(ends):
            return None
        plurals.extend(plural for _, plural in read)
        if len(read) == 2:
            days.extend(_day_range(read[0][0], read[1][0]))
        else:
            days.append(read[0][0])
    days_set = tuple(sorted(set(days)))
    if mode == "every" or (mode == "plain" and all(plurals)):
        return _Spec("weekly", days_set)
    if len(tokens) == 1 and len(days) == 1 and not any(plurals):
        kind = {"next": "weekday_nextweek", "this": "weekday_thisweek"}.get(mode, "weekday_next")
        return _Spec(kind, (days[0],))
    return None


def _build(spec: _Spec, clock: time, now: datetime, zone: ZoneInfo) -> Schedule:
    if spec.kind == "daily":
        return Schedule("daily", None, clock)
    if spec.kind == "weekly":
        if len(spec.value) == 7:
            return Schedule("daily", None, clock)
        return Schedule("weekly", None, clock, weekdays=tuple(spec.value))
    if spec.kind == "monthly":
        return Schedule("monthly", None, clock, month_day=spec.value[0])

    now = now.astimezone(UTC)
    today = now.astimezone(zone).date()

    def once(day: date) -> Schedule:
        # Within the bot's dates (bounds.py): a one-off on 9999-12-31 parsed, but quiet hours,
        # an end three hours later or the reminder's next wake-up then stepped past year 9999.
        bounds.check_date(day)
        moment = _to_utc(day, clock, zone)
        if moment <= now:
            raise DomainError("schedule.in_past", when=f"{day.isoformat()} {clock:%H:%M}")
        return Schedule("once", moment, None)

    if spec.kind == "bare":
        moment = _to_utc(today, clock, zone)
        if moment <= now:
            moment = _to_utc(today + timedelta(days=1), clock, zone)
        return Schedule("once", moment, None)
    if spec.kind == "date":
        year, month, day, raw = spec.value
        try:
            target = date(year, month, day)
            _to_utc(target, clock, zone)
        except (ValueError, OverflowError):
            raise DomainError("schedule.bad_date", date=raw) from None
        return once(target)
    if spec.kind == "monthday":
        month, day, raw = spec.value
        try:
            date(2000, month, day)  # a leap year: is this a date at all?
        except ValueError:
            raise DomainError("schedule.bad_date", date=raw) from None
        for year in range(today.year, today.year + 9):
            try:
                target = date(year, month, day)
            except ValueError:
                continue  # 2月29日 outside a leap year
            if _to_utc(target, clock, zone) > now:
                return once(target)
        raise DomainError("schedule.bad_date", date=raw)  # pragma: no cover - unreachable
    if spec.kind == "offset":
        return once(today + timedelta(days=spec.value[0]))
    weekday = spec.value[0]
    monday = today - timedelta(days=today.weekday())
    if spec.kind == "weekday_nextweek":
        return once(monday + timedelta(days=7 + weekday))
    if spec.kind == "weekday_thisweek":
        return once(monday + timedelta(days=weekday))
    for ahead in range(8):  # weekday_next: today if still ahead, else next week
        day = today + timedelta(days=ahead)
        if day.weekday() == weekday and _to_utc(day, clock, zone) > now:
            return once(day)
    raise AssertionError("unreachable")  # pragma: no cover


def _to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """Wall-clock time in `zone` -> UTC. A gap time moves past the gap; a fold time is the first."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


# --------------------------------------------------------------------------------------------
# Describing


def describe(schedule: Schedule, zone: ZoneInfo, t: Callable[..., str]) -> str:
    """Render a schedule through the catalog: `t(key, **params) -> str`."""
    if schedule.at is not None:  # once
        return t(
            "schedule.describe_once",
            date=local_text(schedule.at, zone, "%Y-%m-%d"),
            time=local_text(schedule.at, zone, "%H:%M"),
            weekday=t(f"schedule.weekday_{schedule.at.astimezone(zone).weekday()}"),
        )
    if schedule.cron is not None:
        return t("schedule.describe_cron", cron=schedule.cron)
    clock = f"{schedule.time:%H:%M}"
    if schedule.kind == "daily":
        return t("schedule.describe_daily", time=clock)
    if schedule.kind == "weekly":
        if schedule.weekdays == WORKDAYS:
            return t("schedule.describe_workdays", time=clock)
        days = t("schedule.list_separator").join(t(f"schedule.weekday_{day}") for day in schedule.weekdays)
        return t("schedule.describe_weekly", days=days, time=clock)
    assert schedule.month_day is not None  # a monthly schedule always has one
    key = "schedule.describe_monthly_clamped" if schedule.month_day >= 29 else "schedule.describe_monthly"
    return t(key, day=schedule.month_day, time=clock)
