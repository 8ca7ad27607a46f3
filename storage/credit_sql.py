"""The attendance credit rule (bot/domain/attendance/core.py `credited_minutes`) as one SQL
expression, so a province-year's figures are summed in the database instead of parsing half a
million rows in Python.

The rule: from the check-in (not before the activity's start) to the check-out (not after its
end; a missing check-out counts as the end when `credit_missing_checkout`, else as nothing),
whole minutes rounded down to `credit_rounding_minutes`, nothing when that is not positive.
tests/test_credit_sql.py checks this expression against the Python rule case by case.

Portable SQL only (SQLite and PostgreSQL): the times are the stored UTC text
'YYYY-MM-DDTHH:MM:SSZ'; the seconds between two of them come from integer arithmetic on their
parts (`substr`, `CAST`), the days between two dates from the proleptic Gregorian day count
(only computed when the dates differ: a check-in and check-out are nearly always on one day).
"""

from __future__ import annotations

# The columns the expression reads: the activity `a` and its attendance row `t`.
_STARTS, _ENDS, _IN, _OUT = "a.starts_at", "a.ends_at", "t.checked_in_at", "t.checked_out_at"


def _int(text: str, first: int, length: int) -> str:
    return f"CAST(substr({text}, {first}, {length}) AS INTEGER)"


def _second_of_day(text: str) -> str:
    return f"({_int(text, 12, 2)} * 3600 + {_int(text, 15, 2)} * 60 + {_int(text, 18, 2)})"


def _day_number(text: str) -> str:
    """Days since a fixed origin, counting years from March (so 29 February ends a year)."""
    month = _int(text, 6, 2)
    year = f"({_int(text, 1, 4)} - CASE WHEN {month} <= 2 THEN 1 ELSE 0 END)"
    march_month = f"({month} + CASE WHEN {month} <= 2 THEN 9 ELSE -3 END)"
    return (
        f"(365 * {year} + {year} / 4 - {year} / 100 + {year} / 400"
        f" + (153 * {march_month} + 2) / 5 + {_int(text, 9, 2)})"
    )


def _seconds_between(earlier: str, later: str) -> str:
    days = (
        f"CASE WHEN substr({later}, 1, 10) = substr({earlier}, 1, 10) THEN 0"
        f" ELSE ({_day_number(later)} - {_day_number(earlier)}) * 86400 END"
    )
    return f"({days} + {_second_of_day(later)} - {_second_of_day(earlier)})"


def credited_minutes_sql(rounding_minutes: int, credit_missing_checkout: bool) -> str:
    """The credited minutes of attendance row `t` at activity `a`, for rows checked in (the
    caller's WHERE keeps only those). The settings are checked integers, written into the text."""
    rounding = int(rounding_minutes)
    if rounding < 1:
        raise ValueError("credit rounding must be at least one minute")
    begin = f"CASE WHEN {_IN} > {_STARTS} THEN {_IN} ELSE {_STARTS} END"
    finish = f"CASE WHEN {_OUT} IS NULL OR {_OUT} > {_ENDS} THEN {_ENDS} ELSE {_OUT} END"
    # Whole minutes rounded down to whole `rounding`s: the seconds divided by 60 × rounding (all
    # positive: the finish is after the begin), computed once per row.
    seconds = _seconds_between(begin, finish)
    credited = f"CASE WHEN {finish} > {begin} THEN ({seconds} / {60 * rounding}) * {rounding} ELSE 0 END"
    if credit_missing_checkout:
        return f"({credited})"
    return f"(CASE WHEN {_OUT} IS NULL THEN 0 ELSE {credited} END)"
