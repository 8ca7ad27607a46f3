"""Reminder times typed by admins, in Chinese or English, parsed into a `Schedule`.

Pure Python, no clock: "now" and the local zone are always passed in. Every datetime that goes in
must be timezone-aware; every datetime that comes out is an aware UTC datetime. Wall-clock times
are computed in the local zone and then converted to UTC; a wall-clock time that does not exist
(DST gap) is read with fold=0 and normalised, i.e. lands just after the gap; an ambiguous one
(DST fold) is the first of the two.

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
                  cron 0 9 * * 1   (standard 5 fields, evaluated in the local zone)
    The time may come first ("9:00 tomorrow"); English "at" and Chinese "的" are ignored.

Cron: minute hour day-of-month month day-of-week; `*`, lists `a,b`, ranges `a-b`, steps `*/n`,
`a-b/n` and `a/n` (= a-max/n); month names jan..dec and day names sun..sat; day-of-week 0-7 with
0 and 7 = Sunday. When both day-of-month and day-of-week are restricted (neither is exactly `*`)
a day matches if EITHER matches, as in cron; otherwise both must match.

Catalog keys (handlers/locales/<lang>/schedule.toml, table [schedule]):

    errors (DomainError key, params)
        schedule.empty                          -
        schedule.unrecognised                   text
        schedule.bad_date                       date
        schedule.bad_time                       time
        schedule.in_past                        when   (local "YYYY-MM-DD HH:MM")
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

import calendar
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.domain.errors import DomainError

__all__ = [
    "DEFAULT_ZONE",
    "KINDS",
    "Schedule",
    "describe",
    "next_occurrence",
    "occurrences",
    "parse_schedule",
]

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
KINDS = ("once", "daily", "weekly", "monthly", "cron")
WORKDAYS = (0, 1, 2, 3, 4)
WEEKEND = (5, 6)
SEARCH_DAYS = 5 * 366 + 2  # how far next_occurrence looks ahead (cron may never fire)
MAX_INPUT = 200  # longer text is not a time
SHOWN_TEXT = 50  # how much of the user's text an error message repeats


# --------------------------------------------------------------------------------------------
# Schedule


@dataclass(frozen=True)
class Schedule:
    kind: str  # "once" | "daily" | "weekly" | "monthly" | "cron"
    at: datetime | None  # for "once": the UTC moment
    time: time | None  # local wall-clock time for daily/weekly/monthly
    weekdays: tuple[int, ...] = ()  # 0=Monday..6=Sunday, for "weekly"
    month_day: int | None = None  # 1..31, for "monthly"
    cron: str | None = None  # normalised 5-field text, for "cron"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown schedule kind {self.kind!r}")
        if self.kind == "once":
            if not isinstance(self.at, datetime) or self.at.utcoffset() is None:
                raise ValueError("a 'once' schedule needs an aware datetime `at`")
            object.__setattr__(self, "at", self.at.astimezone(UTC))
        elif self.at is not None:
            raise ValueError(f"a {self.kind!r} schedule has no `at`")
        if self.kind in ("daily", "weekly", "monthly"):
            if not isinstance(self.time, time) or self.time.tzinfo is not None:
                raise ValueError(f"a {self.kind!r} schedule needs a naive local `time`")
        elif self.time is not None:
            raise ValueError(f"a {self.kind!r} schedule has no `time`")
        days = tuple(sorted(set(self.weekdays)))
        if self.kind == "weekly":
            if not days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
                raise ValueError("a 'weekly' schedule needs weekdays in 0..6")
        elif days:
            raise ValueError(f"a {self.kind!r} schedule has no weekdays")
        object.__setattr__(self, "weekdays", days)
        if self.kind == "monthly":
            if not isinstance(self.month_day, int) or not 1 <= self.month_day <= 31:
                raise ValueError("a 'monthly' schedule needs month_day in 1..31")
        elif self.month_day is not None:
            raise ValueError(f"a {self.kind!r} schedule has no month_day")
        if self.kind == "cron":
            if not isinstance(self.cron, str):
                raise ValueError("a 'cron' schedule needs cron text")
            text = " ".join(self.cron.lower().split())
            try:
                _compile_cron(text)
            except DomainError:
                raise ValueError(f"invalid cron text {self.cron!r}") from None
            object.__setattr__(self, "cron", text)
        elif self.cron is not None:
            raise ValueError(f"a {self.kind!r} schedule has no cron text")

    @property
    def recurring(self) -> bool:
        return self.kind != "once"

    def to_json(self) -> dict:
        clock = None
        if self.time is not None:
            spec = "minutes" if not (self.time.second or self.time.microsecond) else "auto"
            clock = self.time.isoformat(timespec=spec)
        return {
            "kind": self.kind,
            "at": self.at.isoformat() if self.at is not None else None,
            "time": clock,
            "weekdays": list(self.weekdays),
            "month_day": self.month_day,
            "cron": self.cron,
        }

    @classmethod
    def from_json(cls, data: dict) -> Schedule:
        if not isinstance(data, dict):
            raise ValueError("a stored schedule must be a JSON object")
        at = data.get("at")
        clock = data.get("time")
        try:
            return cls(
                kind=data.get("kind"),
                at=datetime.fromisoformat(at) if at is not None else None,
                time=time.fromisoformat(clock) if clock is not None else None,
                weekdays=tuple(data.get("weekdays") or ()),
                month_day=data.get("month_day"),
                cron=data.get("cron"),
            )
        except TypeError as error:
            raise ValueError(f"malformed stored schedule: {error}") from None


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
        _compile_cron(fields)
        schedule = Schedule("cron", None, None, cron=fields)
        if next_occurrence(schedule, after=now, zone=zone) is None:
            raise DomainError("schedule.cron_never", text=fields)
        return schedule

    for clock_match, rest in _time_candidates(s):
        spec = _parse_spec(rest, shown)
        if spec is None:
            continue
        return _build(spec, _clock(clock_match), now, zone)
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


# Chinese numerals up to 99 ("九", "十二", "二十三", "零五"); "一十" is not accepted so that
# "每周一十点" reads as Monday 10:00.
_CN_NUM = r"(?:[二两三四五六七八九]?十[一二三四五六七八九]?|[零〇]?[一二两三四五六七八九]|[零〇])"
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

_TIME_RE = re.compile(
    rf"""
    (?:(?P<period>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上)\s*)?
    (?:
        (?P<h1>\d{{1,3}})\s*:\s*(?P<m1>\d{{1,3}})(?:\s*(?P<ap1>[ap])\.?\s*m\.?)?
      | (?P<h2>\d{{1,3}}|{_CN_NUM})\s*[点點时時]\s*
        (?:钟|鐘|(?P<half>半)|(?P<quarter>[一三])刻|(?P<m2>\d{{1,3}}|{_CN_NUM})\s*分?)?
      | (?P<h3>\d{{1,3}})\s*(?P<ap3>[ap])\.?\s*m\.?
    )
    """,
    re.VERBOSE,
)


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, ones = token.partition("十")
        high = _CN_DIGITS.get(tens, None) if tens else 1
        low = _CN_DIGITS.get(ones, None) if ones else 0
        if high is None or low is None:
            return None
        return high * 10 + low
    token = token.lstrip("零〇") or "零"
    return _CN_DIGITS.get(token) if len(token) == 1 else None


def _time_candidates(s: str) -> Iterator[tuple[re.Match, str]]:
    """Ways to split the text into (time of day, the rest): time last first, then time first."""
    n = len(s)
    for i in range(n):
        if i and s[i].isdigit() and s[i - 1].isdigit():
            continue
        match = _TIME_RE.fullmatch(s, i)
        if match:
            yield match, s[:i]
    for j in range(n, 0, -1):
        if j < n and s[j].isdigit() and s[j - 1].isdigit():
            continue
        match = _TIME_RE.fullmatch(s, 0, j)
        if match:
            yield match, s[j:]


def _clock(match: re.Match) -> time:
    bad = DomainError("schedule.bad_time", time=match.group(0).strip())
    meridiem = None
    if match["h1"] is not None:
        if len(match["h1"]) > 2 or len(match["m1"]) != 2:
            raise bad
        hour, minute, meridiem = int(match["h1"]), int(match["m1"]), match["ap1"]
    elif match["h2"] is not None:
        hour = _number(match["h2"])
        if match["half"]:
            minute = 30
        elif match["quarter"]:
            minute = 15 if match["quarter"] == "一" else 45
        elif match["m2"]:
            if match["m2"].isdigit() and len(match["m2"]) > 2:
                raise bad
            minute = _number(match["m2"])
        else:
            minute = 0
        if match["h2"].isdigit() and len(match["h2"]) > 2:
            raise bad
    else:
        if len(match["h3"]) > 2:
            raise bad
        hour, minute, meridiem = int(match["h3"]), 0, match["ap3"]
    if hour is None or minute is None:
        raise bad
    if meridiem:
        if not 1 <= hour <= 12:
            raise bad
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    elif match["period"]:
        period = match["period"]
        if period in ("凌晨", "早上", "早晨", "上午"):
            if hour > 12:
                raise bad
            if period == "凌晨" and hour == 12:
                hour = 0
        elif period == "中午":
            if hour < 11:
                hour += 12
        else:  # 下午 傍晚 晚上
            if period != "下午" and hour == 12:
                raise bad  # "晚上12点" is midnight of another day: ask for 0:00
            if 1 <= hour <= 11:
                hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise bad
    return time(hour, minute)


@dataclass(frozen=True)
class _Spec:
    """What the text says apart from the time of day."""

    kind: str  # bare date monthday offset weekday_next weekday_nextweek weekday_thisweek
    # daily weekly monthly
    value: tuple = ()


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
_NUM = rf"(\d{{1,3}}|{_CN_NUM})"
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
        month, day = _number(m[1]), _number(m[2])
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
    day = _number(token)
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
        read = [_english_weekday(end.strip()) for end in ends]
        if any(r is None for r in read):
            return None
        plurals.extend(r[1] for r in read)
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


# --------------------------------------------------------------------------------------------
# Cron

_MONTH_NAMES = {
    name: i
    for i, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_DOW_NAMES = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_CRON_FIELDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTH_NAMES), (0, 7, _DOW_NAMES))


@dataclass(frozen=True)
class _Cron:
    times: tuple[time, ...]  # sorted wall-clock times of a matching day
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # cron numbering: 0 = Sunday
    day_or_weekday: bool  # both restricted: either may match

    def matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = (day.weekday() + 1) % 7 in self.weekdays
        return (by_day or by_weekday) if self.day_or_weekday else (by_day and by_weekday)


@lru_cache(maxsize=512)
def _compile_cron(text: str) -> _Cron:
    bad = DomainError("schedule.bad_cron", text=text)
    fields = text.split()
    if len(fields) != 5:
        raise bad
    values = []
    for raw, (low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        parsed = _cron_field(raw, low, high, names)
        if parsed is None:
            raise bad
        values.append(parsed)
    minutes, hours, days, months, weekdays = values
    weekdays = {0 if d == 7 else d for d in weekdays}
    return _Cron(
        times=tuple(time(h, m) for h in sorted(hours) for m in sorted(minutes)),
        days=frozenset(days),
        months=frozenset(months),
        weekdays=frozenset(weekdays),
        day_or_weekday=fields[2] != "*" and fields[4] != "*",
    )


def _cron_field(raw: str, low: int, high: int, names: dict[str, int]) -> set[int] | None:
    def value(token: str) -> int | None:
        number = int(token) if token.isdigit() else names.get(token)
        return number if number is not None and low <= number <= high else None

    result: set[int] = set()
    for part in raw.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                return None
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = value(start), value(end)
            if first is None or last is None or first > last:
                return None
        else:
            first = value(base)
            if first is None:
                return None
            last = high if slash else first
        result.update(range(first, last + 1, step))
    return result


# --------------------------------------------------------------------------------------------
# Occurrences


def _to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """Wall-clock time in `zone` -> UTC. A gap time moves past the gap; a fold time is the first."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def _day_matcher(schedule: Schedule) -> Callable[[date], bool]:
    if schedule.kind == "daily":
        return lambda day: True
    if schedule.kind == "weekly":
        wanted = frozenset(schedule.weekdays)
        return lambda day: day.weekday() in wanted
    if schedule.kind == "monthly":

        def monthly(day: date) -> bool:
            last = calendar.monthrange(day.year, day.month)[1]
            return day.day == min(schedule.month_day, last)

        return monthly
    return _compile_cron(schedule.cron).matches


def _first_on_day(day: date, times: tuple[time, ...], after: datetime, zone: ZoneInfo) -> datetime | None:
    """The earliest of `times` on local `day` that is strictly after `after` (UTC)."""
    offset = datetime.combine(day, time(0), tzinfo=zone).utcoffset()
    if offset == datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).utcoffset():
        # No offset change during the day: wall clock = UTC + offset, so bisect.
        threshold = (after + offset).replace(tzinfo=None)
        if threshold.date() > day:
            return None
        index = 0 if threshold.date() < day else bisect_right(times, threshold.time())
        if index == len(times):
            return None
        return (datetime.combine(day, times[index]) - offset).replace(tzinfo=UTC)
    best = None
    for clock in times:  # a DST change: gap times are not monotonic
        moment = _to_utc(day, clock, zone)
        if moment > after:
            best = moment if best is None or moment < best else best
            regular = moment.astimezone(zone).replace(tzinfo=None) == datetime.combine(day, clock)
            if regular:
                break
    return best


def next_occurrence(schedule: Schedule, *, after: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> datetime | None:
    """The first occurrence strictly after `after`, in UTC; None if there is none."""
    _require_aware(after, "after")
    after = after.astimezone(UTC)
    if schedule.kind == "once":
        return schedule.at if schedule.at > after else None
    times = _compile_cron(schedule.cron).times if schedule.kind == "cron" else (schedule.time,)
    matches = _day_matcher(schedule)
    start = after.astimezone(zone).date() - timedelta(days=1)
    for ahead in range(SEARCH_DAYS):
        try:
            day = start + timedelta(days=ahead)
        except OverflowError:
            return None
        if matches(day):
            found = _first_on_day(day, times, after, zone)
            if found is not None:
                return found
    return None


def occurrences(schedule: Schedule, *, after: datetime, zone: ZoneInfo = DEFAULT_ZONE, count: int) -> list[datetime]:
    """The next `count` occurrences strictly after `after`, in UTC."""
    found: list[datetime] = []
    moment = after
    while len(found) < count:
        moment = next_occurrence(schedule, after=moment, zone=zone)
        if moment is None:
            break
        found.append(moment)
    return found


# --------------------------------------------------------------------------------------------
# Describing


def describe(schedule: Schedule, zone: ZoneInfo, t: Callable[..., str]) -> str:
    """Render a schedule through the catalog: `t(key, **params) -> str`."""
    if schedule.kind == "once":
        local = schedule.at.astimezone(zone)
        return t(
            "schedule.describe_once",
            date=f"{local:%Y-%m-%d}",
            time=f"{local:%H:%M}",
            weekday=t(f"schedule.weekday_{local.weekday()}"),
        )
    if schedule.kind == "cron":
        return t("schedule.describe_cron", cron=schedule.cron)
    clock = f"{schedule.time:%H:%M}"
    if schedule.kind == "daily":
        return t("schedule.describe_daily", time=clock)
    if schedule.kind == "weekly":
        if schedule.weekdays == WORKDAYS:
            return t("schedule.describe_workdays", time=clock)
        days = t("schedule.list_separator").join(t(f"schedule.weekday_{day}") for day in schedule.weekdays)
        return t("schedule.describe_weekly", days=days, time=clock)
    key = "schedule.describe_monthly_clamped" if schedule.month_day >= 29 else "schedule.describe_monthly"
    return t(key, day=schedule.month_day, time=clock)
