"""Reminder time grammar: parsing, occurrences (incl. DST and month ends), cron, errors, describe."""

from __future__ import annotations

import json
import subprocess
import sys
import time as wallclock
import tomllib
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from string import Formatter
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import DomainError
from bot.domain.schedule import Schedule, next_occurrence, occurrences
from bot.domain.schedule_grammar import describe, parse_schedule
from handlers.i18n import translate

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)  # a Thursday; 02:00 UTC
LOCALES = Path(__file__).resolve().parent.parent / "handlers" / "locales"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def next_three(text: str, *, now: datetime = NOW, zone: ZoneInfo = SHANGHAI) -> list[datetime]:
    schedule = parse_schedule(text, now=now, zone=zone)
    found = occurrences(schedule, after=now, zone=zone, count=3)
    assert all(moment.utcoffset() == timedelta(0) for moment in found)
    return found


DEC_1_0900 = [utc(2026, 12, 1, 1, 0)]
TOMORROW_0900 = [utc(2026, 11, 27, 1, 0)]
NEXT_MONDAY_1430 = [utc(2026, 11, 30, 6, 30)]
NEXT_WEDNESDAY_1000 = [utc(2026, 12, 2, 2, 0)]
DAILY_0830 = [utc(2026, 11, 27, 0, 30), utc(2026, 11, 28, 0, 30), utc(2026, 11, 29, 0, 30)]
MONDAYS_0900 = [utc(2026, 11, 30, 1, 0), utc(2026, 12, 7, 1, 0), utc(2026, 12, 14, 1, 0)]
MON_WED_FRI_0900 = [utc(2026, 11, 27, 1, 0), utc(2026, 11, 30, 1, 0), utc(2026, 12, 2, 1, 0)]
WORKDAYS_0900 = [utc(2026, 11, 27, 1, 0), utc(2026, 11, 30, 1, 0), utc(2026, 12, 1, 1, 0)]
MONTHLY_1ST_0900 = [utc(2026, 12, 1, 1, 0), utc(2027, 1, 1, 1, 0), utc(2027, 2, 1, 1, 0)]

EXAMPLES = [
    # one-off
    ("2026-12-01 09:00", "once", DEC_1_0900),
    ("2026/12/01 9:00", "once", DEC_1_0900),
    ("2026年12月1日 9:00", "once", DEC_1_0900),
    ("12-01 9:00", "once", DEC_1_0900),
    ("12/01 9:00", "once", DEC_1_0900),
    ("12月1日 9:00", "once", DEC_1_0900),
    ("今天 18:00", "once", [utc(2026, 11, 26, 10, 0)]),
    ("明天 9:00", "once", TOMORROW_0900),
    ("后天 9:00", "once", [utc(2026, 11, 28, 1, 0)]),
    ("tomorrow 9:00", "once", TOMORROW_0900),
    ("today 18:00", "once", [utc(2026, 11, 26, 10, 0)]),
    ("下周一 14:30", "once", NEXT_MONDAY_1430),
    ("周三 10:00", "once", NEXT_WEDNESDAY_1000),
    ("星期三 10:00", "once", NEXT_WEDNESDAY_1000),
    ("礼拜三 10:00", "once", NEXT_WEDNESDAY_1000),
    ("next monday 14:30", "once", NEXT_MONDAY_1430),
    ("monday 9:00", "once", [utc(2026, 11, 30, 1, 0)]),
    ("周四 11:00", "once", [utc(2026, 11, 26, 3, 0)]),  # today, still ahead
    ("thursday 9:00", "once", [utc(2026, 12, 3, 1, 0)]),  # today's has passed
    ("9:00", "once", TOMORROW_0900),
    ("11:00", "once", [utc(2026, 11, 26, 3, 0)]),
    # time forms
    ("明天 9点", "once", TOMORROW_0900),
    ("明天 9点30", "once", [utc(2026, 11, 27, 1, 30)]),
    ("明天9点半", "once", [utc(2026, 11, 27, 1, 30)]),
    ("  明天   ９：００ ", "once", TOMORROW_0900),
    ("明天下午3点", "once", [utc(2026, 11, 27, 7, 0)]),
    ("TOMORROW AT 9AM", "once", TOMORROW_0900),
    ("tomorrow 9:30 pm", "once", [utc(2026, 11, 27, 13, 30)]),
    ("9:00 tomorrow", "once", TOMORROW_0900),
    ("十二月一日 上午九点", "once", DEC_1_0900),
    ("１２月１日 ９：００", "once", DEC_1_0900),
    # recurring
    ("每天 8:30", "daily", DAILY_0830),
    ("every day 8:30", "daily", DAILY_0830),
    ("Daily 8:30", "daily", DAILY_0830),
    ("每天早上8点半", "daily", DAILY_0830),
    ("每周一 9:00", "weekly", MONDAYS_0900),
    ("每周一三五 9:00", "weekly", MON_WED_FRI_0900),
    ("每周一、三、五 9:00", "weekly", MON_WED_FRI_0900),
    ("每周一，周三，周五 9点", "weekly", MON_WED_FRI_0900),
    ("every monday 9:00", "weekly", MONDAYS_0900),
    ("Every Mon,Wed,Fri 9:00", "weekly", MON_WED_FRI_0900),
    ("every mon, wed and fri at 9:00", "weekly", MON_WED_FRI_0900),
    ("mondays 9:00", "weekly", MONDAYS_0900),
    ("每个工作日 9:00", "weekly", WORKDAYS_0900),
    ("工作日 9:00", "weekly", WORKDAYS_0900),
    ("weekdays 9:00", "weekly", WORKDAYS_0900),
    ("每周一至五 9:00", "weekly", WORKDAYS_0900),
    ("every mon-fri 9:00", "weekly", WORKDAYS_0900),
    ("每月1日 9:00", "monthly", MONTHLY_1ST_0900),
    ("每月1号 9:00", "monthly", MONTHLY_1ST_0900),
    ("every month on the 1st 9:00", "monthly", MONTHLY_1ST_0900),
    ("monthly 1 9:00", "monthly", MONTHLY_1ST_0900),
    ("cron 0 9 * * 1", "cron", MONDAYS_0900),
    ("CRON  0  9  *  *  1", "cron", MONDAYS_0900),
]


@pytest.mark.parametrize(("text", "kind", "expected"), EXAMPLES)
def test_examples_parse_to_the_right_next_occurrences(text, kind, expected):
    schedule = parse_schedule(text, now=NOW, zone=SHANGHAI)
    assert schedule.kind == kind
    assert schedule.recurring == (kind != "once")
    assert next_three(text) == expected


def test_parsed_fields():
    assert parse_schedule("每周一三五 9:00", now=NOW, zone=SHANGHAI) == Schedule(
        "weekly", None, time(9, 0), weekdays=(0, 2, 4)
    )
    assert parse_schedule("每月15号 18:30", now=NOW, zone=SHANGHAI) == Schedule(
        "monthly", None, time(18, 30), month_day=15
    )
    assert parse_schedule("cron  0 9 *  * 1", now=NOW, zone=SHANGHAI).cron == "0 9 * * 1"
    once = parse_schedule("明天 9:00", now=NOW, zone=SHANGHAI)
    assert once.at == utc(2026, 11, 27, 1, 0) and once.time is None
    # every day of the week is just daily
    assert parse_schedule("每周一至日 9:00", now=NOW, zone=SHANGHAI).kind == "daily"


def test_month_day_without_year_rolls_to_next_year_once_passed():
    assert next_three("11-01 9:00") == [utc(2027, 11, 1, 1, 0)]
    assert next_three("11月26日 9:00") == [utc(2027, 11, 26, 1, 0)]  # earlier today
    assert next_three("2月29日 9:00") == [utc(2028, 2, 29, 1, 0)]  # next leap year


def test_utc_zone():
    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert next_three("明天 9:00", now=now, zone=ZoneInfo("UTC")) == [utc(2026, 11, 27, 9, 0)]
    assert next_three("每天 8:30", now=now, zone=ZoneInfo("UTC")) == [
        utc(2026, 11, 26, 8, 30),
        utc(2026, 11, 27, 8, 30),
        utc(2026, 11, 28, 8, 30),
    ]


def test_berlin_across_the_spring_dst_change():
    now = datetime(2026, 3, 27, 12, 0, tzinfo=BERLIN)  # Friday; DST starts Sunday 29th
    assert next_three("每天 9:00", now=now, zone=BERLIN) == [
        utc(2026, 3, 28, 8, 0),
        utc(2026, 3, 29, 7, 0),
        utc(2026, 3, 30, 7, 0),
    ]
    # 02:30 does not exist on the 29th: it moves past the gap (03:30 CEST = 01:30 UTC)
    assert next_three("每天 2:30", now=now, zone=BERLIN) == [
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 0, 30),
    ]
    gap = parse_schedule("2026-03-29 02:30", now=now, zone=BERLIN)
    assert gap.at == utc(2026, 3, 29, 1, 30)
    assert gap.at.astimezone(BERLIN).strftime("%H:%M") == "03:30"
    # cron around the gap: 02:00-02:59 do not exist; nothing fires twice, nothing goes backwards
    cron = parse_schedule("cron 0,30 1-3 29 3 *", now=now, zone=BERLIN)
    assert occurrences(cron, after=now, zone=BERLIN, count=5) == [
        utc(2026, 3, 29, 0, 0),
        utc(2026, 3, 29, 0, 30),
        utc(2026, 3, 29, 1, 0),
        utc(2026, 3, 29, 1, 30),
        utc(2027, 3, 28, 23, 0),
    ]  # 2027: already CEST


def test_berlin_ambiguous_autumn_time_is_the_first():
    now = datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN)  # DST ends Sunday 25th 03:00
    assert next_three("每天 2:30", now=now, zone=BERLIN) == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
        utc(2026, 10, 27, 1, 30),
    ]


def test_month_end_clamping():
    now = datetime(2027, 1, 15, 12, 0, tzinfo=SHANGHAI)
    assert next_three("每月31日 9:00", now=now) == [
        utc(2027, 1, 31, 1, 0),
        utc(2027, 2, 28, 1, 0),
        utc(2027, 3, 31, 1, 0),
    ]
    leap = datetime(2028, 2, 1, 12, 0, tzinfo=SHANGHAI)
    assert next_three("monthly 30 9:00", now=leap) == [
        utc(2028, 2, 29, 1, 0),
        utc(2028, 3, 30, 1, 0),
        utc(2028, 4, 30, 1, 0),
    ]
    assert next_three("每月31日 9:00") == [  # November has 30 days
        utc(2026, 11, 30, 1, 0),
        utc(2026, 12, 31, 1, 0),
        utc(2027, 1, 31, 1, 0),
    ]


def cron_next(expression: str, count: int = 3, *, now: datetime = NOW) -> list[datetime]:
    schedule = parse_schedule(f"cron {expression}", now=now, zone=SHANGHAI)
    return occurrences(schedule, after=now, zone=SHANGHAI, count=count)


def test_cron_lists_ranges_and_steps():
    assert cron_next("0,30 9 * * *") == [utc(2026, 11, 27, 1, 0), utc(2026, 11, 27, 1, 30), utc(2026, 11, 28, 1, 0)]
    assert cron_next("*/20 10-11 * * *") == [
        utc(2026, 11, 26, 2, 20),
        utc(2026, 11, 26, 2, 40),
        utc(2026, 11, 26, 3, 0),
    ]
    assert cron_next("15 8-18/5 * * *", 4) == [  # 08, 13, 18 local
        utc(2026, 11, 26, 5, 15),
        utc(2026, 11, 26, 10, 15),
        utc(2026, 11, 27, 0, 15),
        utc(2026, 11, 27, 5, 15),
    ]
    assert cron_next("0 9 * * 1-5") == WORKDAYS_0900
    assert cron_next("0 9 * * mon,wed,fri") == MON_WED_FRI_0900
    assert cron_next("0 12 1 jan *", 2) == [utc(2027, 1, 1, 4, 0), utc(2028, 1, 1, 4, 0)]
    assert cron_next("* * * * *", 2) == [utc(2026, 11, 26, 2, 1), utc(2026, 11, 26, 2, 2)]


def test_cron_sunday_is_0_and_7():
    sundays = [utc(2026, 11, 29, 1, 0), utc(2026, 12, 6, 1, 0), utc(2026, 12, 13, 1, 0)]
    assert cron_next("0 9 * * 0") == sundays
    assert cron_next("0 9 * * 7") == sundays
    assert cron_next("0 9 * * 5-7") == [utc(2026, 11, 27, 1, 0), utc(2026, 11, 28, 1, 0), utc(2026, 11, 29, 1, 0)]


def test_cron_day_of_month_or_day_of_week():
    # both restricted: the 1st of the month OR any Monday
    assert cron_next("0 9 1 * 1", 4) == [
        utc(2026, 11, 30, 1, 0),
        utc(2026, 12, 1, 1, 0),
        utc(2026, 12, 7, 1, 0),
        utc(2026, 12, 14, 1, 0),
    ]
    # only one restricted: that one decides
    assert cron_next("0 9 1 * *") == MONTHLY_1ST_0900
    assert cron_next("0 9 * * 1") == MONDAYS_0900
    # "Monday OR 30 Feb" still fires on Mondays in February
    assert cron_next("0 9 30 2 1", 1) == [utc(2027, 2, 1, 1, 0)]


def test_cron_search_is_day_by_day_and_bounded():
    schedule = parse_schedule("cron 0 0 29 2 *", now=NOW, zone=SHANGHAI)  # leap days only
    started = wallclock.perf_counter()
    assert occurrences(schedule, after=NOW, zone=SHANGHAI, count=2) == [
        utc(2028, 2, 28, 16, 0),
        utc(2032, 2, 28, 16, 0),
    ]
    busy = parse_schedule("cron * * * * *", now=NOW, zone=SHANGHAI)
    assert len(occurrences(busy, after=NOW, zone=SHANGHAI, count=300)) == 300
    assert wallclock.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        ("", "schedule.empty", {}),
        ("   ", "schedule.empty", {}),
        ("hello there", "schedule.unrecognised", {"text": "hello there"}),
        ("每周八 9:00", "schedule.unrecognised", {"text": "每周八 9:00"}),
        ("2月30日 9:00", "schedule.bad_date", {"date": "2月30日"}),
        ("2026-13-01 9:00", "schedule.bad_date", {"date": "2026-13-01"}),
        ("2027-02-29 9:00", "schedule.bad_date", {"date": "2027-02-29"}),
        ("明天 25:00", "schedule.bad_time", {"time": "25:00"}),
        ("9:60", "schedule.bad_time", {"time": "9:60"}),
        ("每天 9:5", "schedule.bad_time", {"time": "9:5"}),
        ("明天 13pm", "schedule.bad_time", {"time": "13pm"}),
        ("今天 8:00", "schedule.in_past", {"when": "2026-11-26 08:00"}),
        ("2025-01-01 9:00", "schedule.in_past", {"when": "2025-01-01 09:00"}),
        ("本周三 9:00", "schedule.in_past", {"when": "2026-11-25 09:00"}),
        ("每月32日 9:00", "schedule.bad_month_day", {"day": "32"}),
        ("每月0号 9:00", "schedule.bad_month_day", {"day": "0"}),
        ("monthly 40 9:00", "schedule.bad_month_day", {"day": "40"}),
        ("每月 9:00", "schedule.missing_month_day", {"text": "每月 9:00"}),
        ("cron 0 9 * *", "schedule.bad_cron", {"text": "0 9 * *"}),
        ("cron 60 9 * * *", "schedule.bad_cron", {"text": "60 9 * * *"}),
        ("cron 0 9 * * 8", "schedule.bad_cron", {"text": "0 9 * * 8"}),
        ("cron */0 9 * * *", "schedule.bad_cron", {"text": "*/0 9 * * *"}),
        ("cron 0 9 5-1 * *", "schedule.bad_cron", {"text": "0 9 5-1 * *"}),
        ("cron 0 9 L * *", "schedule.bad_cron", {"text": "0 9 l * *"}),
        ("cron 0 0 30 2 *", "schedule.cron_never", {"text": "0 0 30 2 *"}),
        ("每周一", "schedule.missing_time", {"text": "每周一"}),
        ("明天", "schedule.missing_time", {"text": "明天"}),
        ("every monday", "schedule.missing_time", {"text": "every monday"}),
    ],
)
def test_bad_input_is_refused_with_the_right_key(text, key, params):
    with pytest.raises(DomainError) as refused:
        parse_schedule(text, now=NOW, zone=SHANGHAI)
    assert refused.value.key == key
    assert refused.value.params == params


def test_naive_datetimes_are_a_programming_error():
    with pytest.raises(ValueError):
        parse_schedule("明天 9:00", now=datetime(2026, 11, 26, 10, 0), zone=SHANGHAI)
    with pytest.raises(ValueError):
        next_occurrence(Schedule("daily", None, time(9)), after=datetime(2026, 1, 1), zone=SHANGHAI)


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-01 09:00",
        "每天 8:30",
        "每周一三五 9:00",
        "每月31日 9:00",
        "cron 0 9 1 * 1",
    ],
)
def test_json_round_trip(text):
    schedule = parse_schedule(text, now=NOW, zone=SHANGHAI)
    stored = json.loads(json.dumps(schedule.to_json()))
    again = Schedule.from_json(stored)
    assert again == schedule
    assert occurrences(again, after=NOW, zone=SHANGHAI, count=3) == occurrences(
        schedule, after=NOW, zone=SHANGHAI, count=3
    )


def test_json_shape_and_bad_records():
    assert Schedule("weekly", None, time(9), weekdays=(4, 0, 0)).to_json() == {
        "kind": "weekly",
        "at": None,
        "time": "09:00",
        "weekdays": [0, 4],
        "month_day": None,
        "cron": None,
    }
    for bad in (
        {"kind": "yearly"},
        {"kind": "once", "at": "2026-12-01T09:00:00"},
        {"kind": "weekly", "time": "09:00", "weekdays": [9]},
        {"kind": "cron", "cron": "not cron"},
        {"kind": "daily"},
    ):
        with pytest.raises(ValueError):
            Schedule.from_json(bad)


def test_once_is_not_repeated():
    once = parse_schedule("明天 9:00", now=NOW, zone=SHANGHAI)
    assert next_occurrence(once, after=once.at, zone=SHANGHAI) is None
    assert next_occurrence(once, after=once.at - timedelta(seconds=1), zone=SHANGHAI) == once.at
    assert occurrences(once, after=NOW, zone=SHANGHAI, count=3) == [once.at]


def test_occurrences_come_from_apscheduler_without_telegram():
    """The domain computes occurrences with APScheduler alone: PTB (telegram) is not loaded."""
    probe = (
        "import sys, bot.domain.schedule_grammar; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'apscheduler', 'telegram'}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['apscheduler']"


def test_a_time_in_the_first_hour_after_the_spring_change_is_not_skipped():
    """APScheduler 3's own zone arithmetic skips 2026-03-30 here (agronholm/apscheduler#529)."""
    now = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    assert next_three("每天 0:30", now=now, zone=BERLIN) == [
        utc(2026, 3, 28, 23, 30),
        utc(2026, 3, 29, 22, 30),
        utc(2026, 3, 30, 22, 30),
    ]
    hourly = parse_schedule("cron 0 * * * 1", now=now, zone=BERLIN)  # Mondays, every hour
    assert occurrences(hourly, after=now, zone=BERLIN, count=2) == [utc(2026, 3, 29, 22, 0), utc(2026, 3, 29, 23, 0)]


def test_next_occurrence_is_strictly_after():
    daily = Schedule("daily", None, time(9, 0))
    nine = datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)
    assert next_occurrence(daily, after=nine, zone=SHANGHAI) == utc(2026, 11, 28, 1, 0)
    assert next_occurrence(daily, after=nine - timedelta(microseconds=1), zone=SHANGHAI) == utc(2026, 11, 27, 1, 0)


# --- catalogs and describe() -------------------------------------------------------------


def load_catalog(language: str) -> dict[str, str]:
    data = tomllib.loads((LOCALES / language / "schedule.toml").read_text(encoding="utf-8"))
    assert list(data) == ["schedule"]
    return {f"schedule.{key}": value for key, value in data["schedule"].items()}


def translator(language: str):
    entries = load_catalog(language)
    return lambda key, **params: entries[key].format(**params)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field}


def test_catalogs_have_the_same_keys_and_placeholders():
    zh, en = load_catalog("zh-Hans"), load_catalog("en")
    assert zh.keys() == en.keys()
    for key in zh:
        assert placeholders(zh[key]) == placeholders(en[key]), key
    for key in (
        "empty",
        "unrecognised",
        "bad_date",
        "bad_time",
        "in_past",
        "bad_month_day",
        "missing_month_day",
        "missing_time",
        "bad_cron",
        "cron_never",
    ):
        assert f"schedule.{key}" in zh
        assert "9:00" in zh[f"schedule.{key}"] and "9:00" in en[f"schedule.{key}"], key


def test_every_error_key_the_parser_raises_is_in_the_catalog():
    zh = load_catalog("zh-Hans")
    for text, key in [
        ("hello", "schedule.unrecognised"),
        ("每月 9:00", "schedule.missing_month_day"),
    ]:
        with pytest.raises(DomainError) as refused:
            parse_schedule(text, now=NOW, zone=SHANGHAI)
        assert refused.value.key == key
        assert refused.value.key in zh
        assert translate("zh-Hans", refused.value.key, **refused.value.params)
    assert (
        zh["schedule.missing_time"].format(text="每周一")
        == "「每周一」缺少具体时间。请加上几点几分，例如：每周一 9:00。"
    )


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("每周一三五 9:00", "每周一、三、五 09:00", "every Mon, Wed, Fri at 09:00"),
        ("每天 8:30", "每天 08:30", "every day at 08:30"),
        ("每个工作日 9:00", "每个工作日（周一至周五） 09:00", "every weekday (Mon–Fri) at 09:00"),
        ("每周六日 10:00", "每周六、日 10:00", "every Sat, Sun at 10:00"),
        ("每月1日 9:00", "每月1日 09:00", "every month on day 1 at 09:00"),
        (
            "每月31日 9:00",
            "每月31日 09:00（当月没有这一天时，在最后一天）",
            "every month on day 31 at 09:00 (the last day in shorter months)",
        ),
        ("明天 9:00", "2026-11-27（周五）09:00，仅一次", "once, on Fri 2026-11-27 at 09:00"),
        ("cron 0 9 * * 1", "按定时表达式「0 9 * * 1」", 'on the cron schedule "0 9 * * 1"'),
    ],
)
def test_describe(text, zh, en):
    schedule = parse_schedule(text, now=NOW, zone=SHANGHAI)
    assert describe(schedule, SHANGHAI, translator("zh-Hans")) == zh
    assert describe(schedule, SHANGHAI, translator("en")) == en


def test_describe_uses_the_given_zone_for_a_one_off():
    once = Schedule("once", utc(2026, 11, 26, 23, 30), None)
    assert describe(once, SHANGHAI, translator("en")) == "once, on Fri 2026-11-27 at 07:30"
    assert describe(once, ZoneInfo("UTC"), translator("en")) == "once, on Thu 2026-11-26 at 23:30"


def test_describe_with_a_stub():
    calls = []

    def stub(key, **params):
        calls.append((key, params))
        return key.rsplit(".", 1)[1] if key.startswith("schedule.weekday_") else "|"

    describe(Schedule("weekly", None, time(9), weekdays=(0, 2)), SHANGHAI, stub)
    assert calls[-1] == ("schedule.describe_weekly", {"days": "weekday_0|weekday_2", "time": "09:00"})
