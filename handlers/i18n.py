"""Message catalogs: every user-facing sentence lives in handlers/locales/<lang>/<feature>.toml.

Keys are dotted paths into the TOML tables; one file per feature keeps features apart, and a
key defined twice is an error. Parameters are HTML-escaped on the way in (the bot
speaks Telegram HTML), so a name like "A<B" can never break a message or inject markup; pass
`Raw(...)` for a value that is already HTML (a link, an already translated fragment).
"""

from __future__ import annotations

import html
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from string import Formatter

from bot.domain.formatting import RenderText

LANGUAGES = ("zh-Hans", "en")
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


def translate(language: str, key: str, **params: object) -> str:
    entries = catalog(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        template = entries[key]
    except KeyError:
        raise MissingTranslation(f"{language}: no message '{key}'") from None
    safe = {
        name: value if isinstance(value, Raw) else html.escape(str(value), quote=False)
        for name, value in params.items()
    }
    return template.format_map(safe)


def plain_text_renderer(language: str) -> RenderText:
    """Catalog text as plain text, for the texts the domain stores (system reminders): the
    reminder sender escapes it itself when it sends it."""

    def render(key: str, params: Mapping[str, object]) -> str:
        return html.unescape(translate(language, key, **params))

    return render


class Translator:
    """Bound to one language, for one reader."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, **params: object) -> str:
        return translate(self.language, key, **params)

    def raw(self, key: str, **params: object) -> Raw:
        return Raw(self(key, **params))
