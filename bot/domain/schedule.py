"""A reminder's schedule as it is stored, and its occurrences, computed by APScheduler's triggers.

`Schedule` is the value kept in the `reminders.schedule` JSON column (`to_json` / `from_json`).
When it fires is not computed here: each kind becomes an APScheduler trigger (a `DateTrigger`
for a one-off, `CronTrigger`s for the rest, an `OrTrigger` where cron reads "either"). Every
datetime that goes in must be timezone-aware; every datetime that comes out is an aware UTC
datetime.

Zone changes: the cron triggers count on the local wall clock (a zone without changes), and
zoneinfo turns each wall-clock time into a moment with fold=0: a time that does not exist (DST
gap) lands just after the gap (02:30 → 03:30 summer time), and of a time met twice (DST fold) the
first is taken. APScheduler 3's own zone arithmetic is not used for this: when it steps a day
across a change it lands an hour off, and so skips a 00:30 reminder on the day after the spring
change (agronholm/apscheduler#529, still so in 3.11), and it fires the repeated hour twice.

Cron text is the standard five fields (minute hour day-of-month month day-of-week), evaluated in
the local zone; `*`, lists, ranges, steps (`*/n`, `a-b/n`, `a/n` = a-max/n), month names and day
names. Two readings differ from APScheduler's own and are translated here: day-of-week numbers
are cron's (0 and 7 = Sunday, not Monday), and when both day-of-month and day-of-week are
restricted (neither is exactly `*`) a day matches if EITHER matches, as in cron.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.domain.errors import DomainError

__all__ = ["DEFAULT_ZONE", "KINDS", "Schedule", "check_cron", "next_occurrence", "occurrences"]

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
KINDS = ("once", "daily", "weekly", "monthly", "cron")
# How far ahead an occurrence is looked for: a cron text may never fire ("0 0 30 2 *").
HORIZON = timedelta(days=5 * 366 + 2)
_TICK = timedelta(microseconds=1)  # triggers answer "at or after"; occurrences are strictly after
# Months that can be shorter than a monthly day 29-31: there, the month's last day is used.
_SHORT_MONTHS = {29: "2", 30: "2", 31: "2,4,6,9,11"}
_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # cron's 0..7
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12))  # minute, hour, day of month, month
_STEPPED = re.compile(r"(\*|\d+)(?:-(\d+))?/(\d+)")


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
                check_cron(text)
            except DomainError:
                raise ValueError(f"invalid cron text {self.cron!r}") from None
            object.__setattr__(self, "cron", text)
        elif self.cron is not None:
            raise ValueError(f"a {self.kind!r} schedule has no cron text")

    @property
    def recurring(self) -> bool:
        return self.kind != "once"

    def to_json(self) -> dict[str, Any]:
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
    def from_json(cls, data: dict[str, Any]) -> Schedule:
        if not isinstance(data, dict):
            raise ValueError("a stored schedule must be a JSON object")
        at = data.get("at")
        clock = data.get("time")
        try:
            return cls(
                kind=data.get("kind", ""),  # __post_init__ refuses anything but a kind
                at=datetime.fromisoformat(at) if at is not None else None,
                time=time.fromisoformat(clock) if clock is not None else None,
                weekdays=tuple(data.get("weekdays") or ()),
                month_day=data.get("month_day"),
                cron=data.get("cron"),
            )
        except TypeError as error:
            raise ValueError(f"malformed stored schedule: {error}") from None


# --------------------------------------------------------------------------------------------
# Occurrences


def next_occurrence(schedule: Schedule, *, after: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> datetime | None:
    """The first occurrence strictly after `after`, in UTC; None if there is none."""
    if not isinstance(after, datetime) or after.utcoffset() is None:
        raise ValueError("`after` must be a timezone-aware datetime")
    after = after.astimezone(UTC)
    if schedule.at is not None:  # once
        fire: datetime | None = DateTrigger(run_date=schedule.at).get_next_fire_time(None, after)
        return fire if fire is not None and fire > after else None  # it answers with its date, passed or not
    # The wall-clock times from just before `after` on: under the smaller of the offsets around it,
    # so that a time in a gap `after` has just passed (it happens after the gap) is not missed.
    offset = min(_offset(after, zone), _offset(after - timedelta(days=1), zone))
    try:
        wall, until = _as_wall(after + offset), _as_wall(after + offset + HORIZON)
    except OverflowError:
        return None
    trigger = _wall_trigger(schedule, until)
    while True:
        fire = trigger.get_next_fire_time(None, wall + _TICK)
        if fire is None:
            return None
        # fold=0: a time in a gap lands just after it; of a time met twice, the first is taken.
        moment = fire.replace(tzinfo=zone).astimezone(UTC)
        if moment > after:
            return moment
        wall = fire


def occurrences(schedule: Schedule, *, after: datetime, zone: ZoneInfo = DEFAULT_ZONE, count: int) -> list[datetime]:
    """The next `count` occurrences strictly after `after`, in UTC."""
    found: list[datetime] = []
    moment: datetime | None = after
    while len(found) < count and moment is not None:
        moment = next_occurrence(schedule, after=moment, zone=zone)
        if moment is not None:
            found.append(moment)
    return found


def _offset(moment: datetime, zone: ZoneInfo) -> timedelta:
    return moment.astimezone(zone).utcoffset() or timedelta()


def _as_wall(local: datetime) -> datetime:
    """A local wall-clock time written as UTC: the zone in which the triggers count."""
    return local.replace(tzinfo=UTC)


def _wall_trigger(schedule: Schedule, until: datetime) -> Any:
    """The APScheduler trigger of a recurring schedule, on the wall clock, looking up to `until`."""

    def cron(**fields: str | int) -> Any:
        return CronTrigger(timezone=UTC, end_date=until, **fields)

    if schedule.cron is not None:
        minute, hour, day, month, weekday = check_cron(schedule.cron)
        when = {"minute": minute, "hour": hour, "month": month}
        if day != "*" and weekday != "*":  # cron's rule: either may match
            return OrTrigger([cron(day=day, **when), cron(day_of_week=weekday, **when)])
        return cron(day=day, day_of_week=weekday, **when)
    assert schedule.time is not None  # __post_init__: daily, weekly and monthly have one
    at = {"hour": schedule.time.hour, "minute": schedule.time.minute, "second": schedule.time.second}
    if schedule.kind == "daily":
        return cron(**at)
    if schedule.kind == "weekly":  # APScheduler numbers weekdays as we do: 0 = Monday
        return cron(day_of_week=",".join(map(str, schedule.weekdays)), **at)
    assert schedule.month_day is not None
    month_day = schedule.month_day
    if month_day not in _SHORT_MONTHS:
        return cron(day=month_day, **at)
    return OrTrigger([cron(day=month_day, **at), cron(month=_SHORT_MONTHS[month_day], day="last", **at)])


# --------------------------------------------------------------------------------------------
# Cron text


@lru_cache(maxsize=512)
def check_cron(text: str) -> tuple[str, str, str, str, str]:
    """Normalised five-field cron text → APScheduler's minute, hour, day, month, day_of_week;
    DomainError `schedule.bad_cron` (text) when it is not cron."""
    bad = DomainError("schedule.bad_cron", text=text)
    fields = text.split()
    if len(fields) != 5:
        raise bad
    ranges = zip(fields[:4], _CRON_RANGES, strict=True)
    minute, hour, day, month = (_fit_steps(field, low, high) for field, (low, high) in ranges)
    weekday = _weekday_field(fields[4])
    if weekday is None:
        raise bad
    try:  # APScheduler checks the other fields' syntax and ranges
        CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=UTC)
    except ValueError:
        raise bad from None
    return minute, hour, day, month, weekday


def _fit_steps(field: str, low: int, high: int) -> str:
    """Cron allows a step longer than its range ("5-5/1", "*/60"): only the start matches.
    APScheduler refuses those, so they are written as that start."""
    parts = []
    for part in field.split(","):
        stepped = _STEPPED.fullmatch(part)
        if stepped:
            first = low if stepped[1] == "*" else int(stepped[1])
            last = int(stepped[2]) if stepped[2] else high
            if first <= last < first + int(stepped[3]):
                part = str(first)
        parts.append(part)
    return ",".join(parts)


def _weekday_field(field: str) -> str | None:
    """Cron's day-of-week field (0 and 7 = Sunday) as APScheduler's names; None if malformed.
    Spelled out day by day, because APScheduler counts from Monday and has no steps over names."""
    if field == "*":
        return "*"

    def number(token: str) -> int | None:
        value = int(token) if token.isdigit() else _CRON_WEEKDAYS.index(token) if token in _CRON_WEEKDAYS else None
        return value if value is not None and 0 <= value <= 7 else None

    days: set[int] = set()
    for part in field.split(","):
        base, slash, step_text = part.partition("/")
        if slash and (not step_text.isdigit() or int(step_text) == 0):
            return None
        step = int(step_text) if slash else 1
        start, dash, end = base.partition("-")
        first = 0 if base == "*" else number(start)
        last = 7 if base == "*" or (slash and not dash) else number(end) if dash else first
        if first is None or last is None or first > last:
            return None
        days.update(value % 7 for value in range(first, last + 1, step))
    return ",".join(_CRON_WEEKDAYS[value] for value in sorted(days))
