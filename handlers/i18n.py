"""Message catalogs: every user-facing sentence lives in handlers/locales/<lang>/<feature>.toml.

Keys are dotted paths into the TOML tables; one file per feature keeps features apart, and a
key defined twice is an error. Parameters are HTML-escaped on the way in (the bot
speaks Telegram HTML), so a name like "A<B" can never break a message or inject markup; pass
`Raw(...)` for a value that is already HTML (a link, an already translated fragment).

Standard placeholders: a catalog text may use these without the caller passing them; the
`Translator` fills them from its clock and zone, so an example never goes stale and a handler
never computes one. A catalog must not hold a literal date (a test refuses one).

    {ex_<day><form>}   a date, as someone would type it:
        day   today, tomorrow, day_after (the day after tomorrow), next_week (today + 7 days),
              month_start (the 1st of this month: never ahead, never in another year)
        form  ""             12-06        (month-day: the grammars read it as this year's)
              _full          2026-12-06
              _written       12月6日 / 12/6              (the catalog's example.written)
              _written_full  2026年12月6日 / 2026/12/6   (the catalog's example.written_full)
    {ex_year}, {ex_last_year}   2026, 2025
    {ex_last_month}             2026-11
    {zone_name}                 the zone as its people name it: 北京时间, Beijing time

Times of day stay literal in the catalogs (`{ex_tomorrow} 19:00`): they never go stale, and
each conversation shows the hour that suits it.
"""

from __future__ import annotations

import html
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from functools import cache
from importlib import resources
from string import Formatter
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock, SystemClock
from bot.domain.config import Config
from bot.domain.formatting import RenderText, zone_label
from bot.domain.people import LANGUAGES

DEFAULT_LANGUAGE = "zh-Hans"


class Raw(str):
    """A parameter value that is already safe HTML."""


class MissingTranslation(KeyError):
    pass


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


@cache
def catalog(language: str) -> dict[str, str]:
    folder = resources.files("handlers") / "locales" / language
    merged: dict[str, str] = {}
    for source in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if not source.name.endswith(".toml"):
            continue
        entries = _flatten(tomllib.loads(source.read_text(encoding="utf-8")))
        clash = merged.keys() & entries.keys()
        if clash:
            raise ValueError(f"{language}/{source.name}: keys defined twice: {sorted(clash)}")
        merged.update(entries)
    return merged


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field}


_DAYS: dict[str, Callable[[date], date]] = {
    "today": lambda today: today,
    "tomorrow": lambda today: today + timedelta(days=1),
    "day_after": lambda today: today + timedelta(days=2),
    "next_week": lambda today: today + timedelta(days=7),
    "month_start": lambda today: today.replace(day=1),
}
_FORMS = ("_written_full", "_written", "_full", "")


def standard_names() -> set[str]:
    """Every placeholder a `Translator` fills by itself."""
    dated = {f"ex_{day}{form}" for day in _DAYS for form in _FORMS}
    return dated | {"ex_year", "ex_last_year", "ex_last_month", "zone_name"}


class _Standard:
    """The standard placeholders for one reader, computed only when a text asks for one."""

    def __init__(self, language: str, clock: Clock, zone: ZoneInfo) -> None:
        self.language, self.clock, self.zone = language, clock, zone

    def value(self, name: str) -> str | None:
        if name == "zone_name":
            return zone_label(lambda key: _render(self.language, key, {}, None), self.zone)
        if not name.startswith("ex_"):
            return None
        today = self.clock.now().astimezone(self.zone).date()
        if name == "ex_year":
            return str(today.year)
        if name == "ex_last_year":
            return str(today.year - 1)
        if name == "ex_last_month":
            return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        rest = name[3:]
        for form in _FORMS:
            day = rest.removesuffix(form) if form else rest
            if (form == "" or rest.endswith(form)) and day in _DAYS:
                return self._date(_DAYS[day](today), form)
        return None

    def _date(self, day: date, form: str) -> str:
        if form == "":
            return day.strftime("%m-%d")
        if form == "_full":
            return day.isoformat()
        key = "example.written_full" if form == "_written_full" else "example.written"
        return _render(self.language, key, {"year": day.year, "month": day.month, "day": day.day}, None)


class _Params(dict[str, object]):
    """The caller's parameters (escaped), then the standard placeholders, else a KeyError."""

    def __init__(self, given: Mapping[str, object], standard: _Standard | None) -> None:
        super().__init__(given)
        self.standard = standard

    def __missing__(self, name: str) -> object:
        found = self.standard.value(name) if self.standard is not None else None
        if found is None:
            raise KeyError(name)
        return html.escape(found, quote=False)


def _render(language: str, key: str, params: Mapping[str, object], standard: _Standard | None) -> str:
    entries = catalog(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        template = entries[key]
    except KeyError:
        raise MissingTranslation(f"{language}: no message '{key}'") from None
    safe = {
        name: value if isinstance(value, Raw) else html.escape(str(value), quote=False)
        for name, value in params.items()
    }
    return template.format_map(_Params(safe, standard))


def translate(language: str, key: str, **params: object) -> str:
    """One message, outside any reader's view (examples as `Translator` without a clock)."""
    return Translator(language)(key, **params)


def plain_text_renderer(language: str) -> RenderText:
    """Catalog text as plain text, for the texts the domain stores (system reminders): the
    reminder sender escapes it itself when it sends it."""

    def render(key: str, params: Mapping[str, object]) -> str:
        return html.unescape(translate(language, key, **params))

    return render


class Translator:
    """Bound to one language, for one reader, with the clock and zone its examples come from.

    Without a clock or zone (the command menu, tests of a single text), examples are computed
    from the system clock in the default configured zone."""

    def __init__(self, language: str, clock: Clock | None = None, zone: ZoneInfo | None = None) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._standard = _Standard(self.language, clock or SystemClock(), zone or ZoneInfo(Config.timezone))

    def __call__(self, key: str, **params: object) -> str:
        return _render(self.language, key, params, self._standard)

    def raw(self, key: str, **params: object) -> Raw:
        return Raw(self(key, **params))
