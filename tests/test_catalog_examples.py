"""The catalogs' examples never go stale and are valid input; zh-Hans replies speak everyday Chinese.

Examples are computed by the `Translator` from its clock and zone (handlers/i18n.py), so a
catalog holds no literal date; every example is checked here against the grammar that reads it,
at awkward moments (late on New Year's Eve, just after midnight, a leap day).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.deeds import OLDEST_YEAR
from bot.domain.formatting import zone_label
from bot.domain.schedule_grammar import parse_schedule
from bot.domain.stats import parse_period
from handlers.deeds import parse_done_on
from handlers.i18n import LANGUAGES, Translator, catalog, placeholders, standard_names, translate

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Frozen:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment.astimezone(UTC)

    def monotonic(self) -> float:
        return 0.0


MOMENTS = [
    datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI),
    datetime(2027, 1, 1, 0, 10, tzinfo=SHANGHAI),
    datetime(2028, 2, 28, 12, 0, tzinfo=SHANGHAI),
    datetime(2026, 6, 15, 8, 0, tzinfo=SHANGHAI),
]

LITERAL_DATES = [
    re.compile(r"\d{1,2}-\d{2} \d{1,2}:\d{2}"),  # 12-05 14:00
    re.compile(r"20\d\d[-/.]\d{1,2}[-/.]\d{1,2}"),  # 2026-12-05
    re.compile(r"(?<!\d)20\d\d(?!\d)"),  # a year: /export 2026, 2026 年
    re.compile(r"\d{1,2}月\d{1,2}[日号]"),  # 12月1日
]


def rendered(t: Translator, key: str) -> str:
    """The text as a reader sees it, with the caller's parameters as a neutral word."""
    names = placeholders(catalog(t.language)[key]) - standard_names()
    return t(key, **{name: "x" for name in names})


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalog_holds_a_literal_date(language):
    for key, text in catalog(language).items():
        for pattern in LITERAL_DATES:
            assert not pattern.search(text), f"{language} {key}: literal date {pattern.search(text)[0]!r}"


def test_examples_follow_the_clock_in_the_readers_zone():
    # 16:30 UTC on 31 December is already 1 January in Beijing.
    t = Translator("zh-Hans", Frozen(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)), SHANGHAI)
    assert t("activities.start_recurring", text="x").count("01-03 14:00") == 1
    utc = Translator("en", Frozen(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)), ZoneInfo("UTC"))
    assert "01-02 14:00" in utc("activities.start_recurring", text="x")
    assert "2027-01-08" in t("schedule.unrecognised", text="x") and "1月8日" in t("schedule.unrecognised", text="x")
    assert "/deeds 2026" in t("help.example.deeds")


DATE_TIME = re.compile(
    r"(?<![\d/])((?:\d{4}-\d{2}-\d{2}|\d{2}-\d{2}|\d{4}年\d{1,2}月\d{1,2}日|\d{1,2}月\d{1,2}日"
    r"|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}/\d{1,2}) \d{1,2}:\d{2})"
)


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_date_and_time_example_is_a_future_moment(language, moment):
    """Starts, ends and one-off reminders are all refused in the past: every example with a date
    and a time must be ahead of the reader's now, whatever the day."""
    t = Translator(language, Frozen(moment), SHANGHAI)
    seen = 0
    for key in catalog(language):
        for example in DATE_TIME.findall(rendered(t, key)):
            schedule = parse_schedule(example, now=moment, zone=SHANGHAI)
            assert schedule.kind == "once" and schedule.at > moment, f"{key}: {example}"
            seen += 1
    assert seen >= 15


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_code_example_in_the_time_steps_is_read(language, moment):
    t = Translator(language, Frozen(moment), SHANGHAI)
    for key, once in (
        ("activities.ask_start", True),
        ("activities.edit_ask_start", True),
        ("auction.ask_start", True),
        ("reminders.ask_when", False),
    ):
        for example in re.findall(r"<code>(.*?)</code>", rendered(t, key)):
            schedule = parse_schedule(example, now=moment, zone=SHANGHAI)
            assert schedule.kind == "once" or not once, f"{key}: {example}"
            assert schedule.kind != "once" or schedule.at > moment, f"{key}: {example}"


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
@pytest.mark.parametrize("language", LANGUAGES)
def test_deed_date_examples_are_days_already_done(language, moment):
    t = Translator(language, Frozen(moment), SHANGHAI)
    today = moment.date()
    days = re.compile(
        r"(?<![\d/])(\d{4}-\d{2}-\d{2}|\d{2}-\d{2}|\d{4}年\d{1,2}月\d{1,2}日|\d{4}/\d{1,2}/\d{1,2})(?![\d:])"
    )
    found = []
    for key in ("deeds.ask_date", "deeds.bad_date", "stats.err_deed_date_too_old"):
        for example in days.findall(rendered(t, key)):
            done_on = parse_done_on(example, today)
            assert date(OLDEST_YEAR, 1, 1) <= done_on <= today, f"{key}: {example}"
            found.append(example)
    assert len(found) >= 4


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
@pytest.mark.parametrize("language", LANGUAGES)
def test_period_examples_are_read(language, moment):
    t = Translator(language, Frozen(moment), SHANGHAI)
    periods = re.compile(r"\d{4}-\d{2}-\d{2}(?:\.\.| 至 )\d{4}-\d{2}-\d{2}|(?<![\d-])\d{4}(?:-\d{2})?(?![\d-])")
    found = []
    for key in ("help.example.stats", "help.example.stars", "stats.err_bad_period", "stats.err_period_reversed"):
        for example in periods.findall(rendered(t, key)):
            parse_period(example, moment.date())
            found.append(example)
    assert len(found) >= 6


def test_zone_names_are_the_ones_people_use():
    def t(language):
        return lambda key: translate(language, key)

    assert zone_label(t("zh-Hans"), SHANGHAI) == "北京时间"
    assert zone_label(t("zh-Hans"), ZoneInfo("Asia/Chongqing")) == "北京时间"
    assert zone_label(t("en"), SHANGHAI) == "Beijing time"
    assert zone_label(t("en"), ZoneInfo("Asia/Hong_Kong")) == "Hong Kong time"
    assert zone_label(t("zh-Hans"), ZoneInfo("Europe/Berlin")) == "Europe/Berlin"
    shown = Translator("zh-Hans", Frozen(MOMENTS[0]), SHANGHAI)("auction.ask_start", title="x")
    assert "按北京时间" in shown and "Asia" not in shown


# ---- everyday Chinese -------------------------------------------------------------------------

# ASCII words a zh-Hans reply may hold, each because the reader meets it exactly so elsewhere.
ALLOWED_WORDS = {
    "ID",  # Telegram's own word for a person's number
    "Telegram",  # the app's name
    "Excel",  # the programs people save spreadsheets with, named as their menus name them
    "WPS",
    "XLSX",  # file types, as file names show them
    "CSV",
    "JPG",
    "PNG",
    "MB",  # the unit of a file's size
    "UTF",  # the encodings a "save as" dialog offers
    "GBK",
    "English",  # the language's own name, on the /lang button
    "W",  # the letter of wish codes (W0012), as every list prints it
    "C",  # the letter of children's codes (C0001) in the Sunshine Home register
    "P",  # the letter of pairs' codes (P0001)
}
# Asked in both languages, so that a reader of either can find their way.
EXEMPT_KEYS = {"lang.choose"}
NOT_WORDS = [
    re.compile(r"\{[^}]*\}"),  # placeholders
    re.compile(r"<[^>]+>"),  # HTML tags
    re.compile(r"/[a-z_]+"),  # commands
    re.compile(r"@\w+"),  # usernames
    re.compile(r"(?<![A-Za-z])[AaWwCcPp]\d+"),  # activity, wish, child and pair codes: A12, W0012, C0001, P0001
    re.compile(r"\.(?:xlsx|csv)\b"),  # file names' extensions
]


def test_zh_hans_replies_hold_no_developer_or_english_words():
    offenders = {}
    for key, text in catalog("zh-Hans").items():
        if key in EXEMPT_KEYS:
            continue
        for pattern in NOT_WORDS:
            text = pattern.sub(" ", text)
        words = set(re.findall(r"[A-Za-z]+", text)) - ALLOWED_WORDS
        if words:
            offenders[key] = sorted(words)
    assert offenders == {}


def test_zh_hans_speaks_with_one_voice():
    assert [key for key, text in catalog("zh-Hans").items() if "你" in text] == []
    assert [key for key, text in catalog("zh-Hans").items() if "枢纽" in text] == []
