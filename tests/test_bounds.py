"""bot/domain/bounds.py: every outside number, id and date checked in one place; each refusal
names the valid range with an example, in both languages."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.domain import bounds
from bot.domain.errors import DomainError
from handlers.i18n import catalog, placeholders, translate


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1", 1),
        ("12345", 12345),
        (" 42 ", 42),
        (str(2**53 - 1), 2**53 - 1),
        (str(2**53), None),
        ("99999999999999999999", None),  # 20 digits: would overflow SQLite's INTEGER
        ("0", None),
        ("-5", None),
        ("²", None),  # "²".isdigit() is True, int("²") fails
        ("١٢", None),  # Arabic-Indic digits: int() takes them, we do not
        ("１２", None),  # full-width: the callers fold them with NFKC where typing them is natural
        ("", None),
        ("1e3", None),
        ("0x10", None),
    ],
)
def test_ids(text, expected):
    assert bounds.id_or_none(text) == expected
    if expected is None:
        with pytest.raises(DomainError) as caught:
            bounds.parse_id(text)
        assert caught.value.key == "bounds.bad_id"
    else:
        assert bounds.parse_id(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-1001234567890", -1001234567890),
        ("300001", 300001),
        (f"-{2**53 - 1}", -(2**53 - 1)),
        (f"-{2**53}", None),
        ("-99999999999999999999", None),
        ("0", None),
        ("-0", None),
        ("-", None),
        ("--5", None),
        ("-²", None),
    ],
)
def test_chat_ids(text, expected):
    assert bounds.chat_id_or_none(text) == expected
    if expected is None:
        with pytest.raises(DomainError, match="bounds.bad_chat_id"):
            bounds.parse_chat_id(text)


def test_signed_and_natural_numbers_for_buttons():
    assert bounds.signed_or_none("0") == 0 and bounds.natural_or_none("0") == 0
    assert bounds.signed_or_none("-7") == -7 and bounds.natural_or_none("-7") is None
    assert bounds.signed_or_none(str(2**63)) is None and bounds.natural_or_none(str(2**63)) is None
    assert bounds.within_id_range(2**53 - 1) and not bounds.within_id_range(2**53)
    assert not bounds.within_id_range(-(2**53))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("20260101", date(2026, 1, 1)),
        ("21001231", date(2100, 12, 31)),
        ("20000101", date(2000, 1, 1)),
        ("00010101", None),
        ("99991231", None),
        ("19991231", None),
        ("21010101", None),
        ("20260230", None),
        ("2026011", None),
        ("２０２６０１０１", None),
    ],
)
def test_compact_dates_from_buttons(text, expected):
    assert bounds.compact_date_or_none(text) == expected


def test_dates_and_moments():
    assert bounds.check_date(date(2026, 12, 5)) == date(2026, 12, 5)
    with pytest.raises(DomainError) as caught:
        bounds.check_date(date(9999, 12, 31))
    assert caught.value.key == "bounds.bad_date"
    assert caught.value.params == {"value": "9999-12-31", "min": "2000-01-01", "max": "2100-12-31"}
    with pytest.raises(DomainError):
        bounds.check_moment(datetime(9999, 12, 31, 22, 0))
    with pytest.raises(DomainError):
        bounds.check_date(date(1, 1, 1))


@pytest.mark.parametrize(
    "text, expected",
    [("2026", 2026), ("2000", 2000), ("2100", 2100), ("1999", None), ("9999", None), ("²⁰²⁶", None), ("26", None)],
)
def test_years(text, expected):
    assert bounds.year_or_none(text) == expected
    if expected is None:
        with pytest.raises(DomainError, match="bounds.bad_year"):
            bounds.parse_year(text)


def test_counts_and_durations_have_ceilings():
    assert bounds.parse_count("20", maximum=500) == 20
    assert bounds.parse_count("0", maximum=500) == 0
    for bad in ("501", "-1", "²", "99999999999999999999", "x"):
        with pytest.raises(DomainError) as caught:
            bounds.parse_count(bad, maximum=500)
        assert caught.value.key == "bounds.bad_count" and caught.value.params["max"] == 500
    with pytest.raises(DomainError) as caught:
        bounds.parse_count("200000", maximum=10**9)  # no caller may go above MAX_COUNT
    assert caught.value.params["max"] == bounds.MAX_COUNT
    assert bounds.check_minutes(180) == 180
    for bad in (0, -30, bounds.MAX_DURATION_MINUTES + 1):
        with pytest.raises(DomainError, match="bounds.bad_duration"):
            bounds.check_minutes(bad)


def test_whole_numbers_of_any_size_are_read_without_building_huge_integers():
    for text, expected in (("42", 42), (" -3 ", -3), ("+7", 7), ("４２", 42), ("9" * 40, int("9" * 40))):
        assert bounds.whole_number(text) == expected
    for text in ("١٢", "1_000", "3.5", "1e5", "", "-", "9" * 41, "0x10", "- 1"):
        assert bounds.whole_number(text) is None, text


def test_typed_durations_of_any_size_are_refused_with_the_range():
    assert bounds.typed_minutes("3小时", "3", None) == 180
    assert bounds.typed_minutes("1.5h 10m", "1.5", "10") == 100
    assert bounds.typed_minutes("0分钟", None, "0") == 0  # the caller says why 0 is no duration
    for hours, minutes in (("99999999999999999999", None), ("1" + "0" * 400, None), (None, "10081"), ("169", None)):
        with pytest.raises(DomainError) as caught:
            bounds.typed_minutes("typed", hours, minutes)
        assert caught.value.key == "bounds.bad_duration_typed" and caught.value.params["max_hours"] == 168


def test_a_wish_value_in_exponent_notation_is_out_of_range_at_once():
    """`1e999999999` is a whole number to Decimal: int() of it took minutes (and the message
    then failed on a number of more than 4,300 digits)."""
    from bot.domain.wishes.rules import VALUE_MAX, clean_value, parse_yuan

    assert parse_yuan("1e999999999") == bounds.ID_LIMIT and parse_yuan("-1e99999") == -bounds.ID_LIMIT
    assert parse_yuan("50.0") == 50 and parse_yuan("1e2") == 100
    with pytest.raises(DomainError) as caught:
        clean_value("1e999999999")
    assert caught.value.key == "wishes.value_out_of_range"
    assert caught.value.params == {"value": "1e999999999", "min": 1, "max": VALUE_MAX}


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_every_bounds_message_names_its_range_with_an_example(language):
    keys = [key for key in catalog(language) if key.startswith("bounds.")]
    assert sorted(keys) == sorted(key for key in catalog("zh-Hans") if key.startswith("bounds."))
    assert len(keys) == 8
    for key in keys:
        params = {name: "X" for name in placeholders(catalog(language)[key])}
        text = translate(language, key, **params)
        assert any(word in text for word in ("例如", "for example")), key
        assert "{max}" not in text and ("max" in params or "max_hours" in params), key
