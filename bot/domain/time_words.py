"""Times of day and small numbers as people type them, in Chinese or English.

    9:00 / 09:00 / 9点 / 9点30 / 9点半 / 9点一刻 / 九点 / 下午3点 / 9am / 9:30 pm

Full-width forms are expected to be folded (NFKC) and the text lower-cased by the caller
(bot/domain/schedule_grammar.py, which reads the rest: days, dates, recurrences).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import time

from bot.domain.errors import DomainError

__all__ = ["CN_NUM", "number", "time_candidates", "time_of_day"]

# Chinese numerals up to 99 ("九", "十二", "二十三", "零五"); "一十" is not accepted so that
# "每周一十点" reads as Monday 10:00.
CN_NUM = r"(?:[二两三四五六七八九]?十[一二三四五六七八九]?|[零〇]?[一二两三四五六七八九]|[零〇])"
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
      | (?P<h2>\d{{1,3}}|{CN_NUM})\s*[点點时時]\s*
        (?:钟|鐘|(?P<half>半)|(?P<quarter>[一三])刻|(?P<m2>\d{{1,3}}|{CN_NUM})\s*分?)?
      | (?P<h3>\d{{1,3}})\s*(?P<ap3>[ap])\.?\s*m\.?
    )
    """,
    re.VERBOSE,
)


def number(token: str) -> int | None:
    """ "12" or "十二" → 12; None for anything else."""
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


def time_candidates(s: str) -> Iterator[tuple[re.Match[str], str]]:
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


def time_of_day(match: re.Match[str]) -> time:
    """The time a `time_candidates` match names; DomainError `schedule.bad_time` (time) if none."""
    bad = DomainError("schedule.bad_time", time=match.group(0).strip())
    meridiem = None
    hour: int | None
    minute: int | None
    if match["h1"] is not None:
        if len(match["h1"]) > 2 or len(match["m1"]) != 2:
            raise bad
        hour, minute, meridiem = int(match["h1"]), int(match["m1"]), match["ap1"]
    elif match["h2"] is not None:
        hour = number(match["h2"])
        if match["half"]:
            minute = 30
        elif match["quarter"]:
            minute = 15 if match["quarter"] == "一" else 45
        elif match["m2"]:
            if match["m2"].isdigit() and len(match["m2"]) > 2:
                raise bad
            minute = number(match["m2"])
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
