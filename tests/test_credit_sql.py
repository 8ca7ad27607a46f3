"""The credit rule in SQL (storage/credit_sql.py) gives what the attendance service's Python rule
gives, minute for minute: across midnight, month and year ends, 29 February, check-outs missing,
before the start or after the end, every rounding."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.attendance import AttendanceService
from bot.domain.config import Config
from bot.model.activity import Span
from storage.credit_sql import credited_minutes_sql
from storage.db import to_db_time

EDGES = (
    datetime(2026, 3, 1, 9, tzinfo=UTC),
    datetime(2024, 2, 28, 23, 10, tzinfo=UTC),  # a leap year's 29 February in between
    datetime(2026, 12, 31, 22, 45, 30, tzinfo=UTC),  # into the next year
    datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC),  # into February
    datetime(2100, 2, 28, 20, tzinfo=UTC),  # no 29 February (a century)
    datetime(2000, 2, 28, 20, tzinfo=UTC),  # a 29 February (every 400 years)
)


def _cases(rng: random.Random) -> list[tuple[datetime, datetime, datetime, datetime | None]]:
    cases = []
    for base in EDGES:
        for _ in range(150):
            starts = base + timedelta(seconds=rng.randrange(-3 * 3600, 3 * 3600))
            ends = starts + timedelta(seconds=rng.randrange(0, 30 * 3600))
            checked_in = starts + timedelta(seconds=rng.randrange(-7200, 7200 + int((ends - starts).total_seconds())))
            checked_out = (
                None if rng.random() < 0.2 else checked_in + timedelta(seconds=rng.randrange(-3600, 40 * 3600))
            )
            cases.append((starts, ends, checked_in, checked_out))
    return cases


@pytest.mark.parametrize(("rounding", "missing"), [(15, True), (15, False), (1, True), (60, True), (7, False)])
def test_sql_rule_equals_the_python_rule(rounding: int, missing: bool) -> None:
    config = Config()
    settings = replace(config.activities, credit_rounding_minutes=rounding, credit_missing_checkout=missing)
    service = AttendanceService.__new__(AttendanceService)
    service.settings = settings  # the rule reads only its settings
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, starts_at TEXT, ends_at TEXT)")
    conn.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, activity_id INTEGER, checked_in_at TEXT, checked_out_at TEXT)"
    )
    cases = _cases(random.Random(rounding * 2 + missing))
    for number, (starts, ends, checked_in, checked_out) in enumerate(cases, start=1):
        conn.execute("INSERT INTO a VALUES (?, ?, ?)", (number, to_db_time(starts), to_db_time(ends)))
        conn.execute(
            "INSERT INTO t VALUES (?, ?, ?, ?)",
            (number, number, to_db_time(checked_in), None if checked_out is None else to_db_time(checked_out)),
        )
    expression = credited_minutes_sql(rounding, missing)
    got = [row[0] for row in conn.execute(f"SELECT {expression} FROM a JOIN t ON t.activity_id = a.id ORDER BY t.id")]
    wanted = [
        service.credited_minutes(Span(starts, ends), checked_in, checked_out)
        for starts, ends, checked_in, checked_out in cases
    ]
    assert got == wanted
    assert sum(1 for minutes in wanted if minutes > 0) > len(cases) // 3  # not just zeros compared
