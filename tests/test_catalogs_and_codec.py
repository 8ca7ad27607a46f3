"""Message catalogs are complete in every language; the callback codec refuses what Telegram would."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from handlers.callback_data import MAX_INT, CallbackData, CallbackDataError
from handlers.commands import COMMANDS
from handlers.i18n import LANGUAGES, MissingTranslation, Raw, catalog, placeholders, translate


def test_the_languages_are_the_three_catalogs():
    assert LANGUAGES == ("zh-Hans", "zh-Hant", "en")


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "zh-Hans"])
def test_every_language_has_the_keys_and_placeholders_of_zh_hans(language):
    zh, other = catalog("zh-Hans"), catalog(language)
    assert sorted(zh.keys() - other.keys()) == [], f"keys missing in {language}"
    assert sorted(other.keys() - zh.keys()) == [], "keys missing in zh-Hans"
    for key in zh:
        assert placeholders(zh[key]) == placeholders(other[key]), key


def test_every_command_has_a_description_and_an_example():
    for language in LANGUAGES:
        for command in COMMANDS:
            assert translate(language, f"commands.{command.name}")
            assert translate(language, f"help.example.{command.name}")


def test_a_missing_key_is_an_error_not_a_blank():
    with pytest.raises(MissingTranslation):
        translate("zh-Hans", "no.such.key")


def test_parameters_are_escaped_unless_raw():
    assert "&lt;b&gt;" in translate("en", "join.already_member", org="<b>")
    assert "<i>x</i>" in translate("en", "join.already_member", org=Raw("<i>x</i>"))


@dataclass(frozen=True)
class Decision(CallbackData, prefix="jd"):
    request: int
    verdict: str


def test_codec_round_trip_and_anchored_pattern():
    data = Decision(request=42, verdict="a").pack()
    assert data == "jd:42:a"
    assert Decision.unpack(data) == Decision(request=42, verdict="a")
    import re

    assert re.match(Decision.pattern(), "jd:1:a") and not re.match(Decision.pattern(), "jdx:1:a")


@pytest.mark.parametrize(
    "values",
    [
        {"request": 1, "verdict": "a:b"},
        {"request": 1, "verdict": "x" * 70},
        {"request": "one", "verdict": "a"},
        {"request": MAX_INT, "verdict": "a"},
    ],
)
def test_codec_refuses_bad_packing(values):
    with pytest.raises((CallbackDataError, ValueError)):
        Decision(**values).pack()


def test_codec_needs_every_field():
    with pytest.raises(TypeError):
        Decision(request=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "data",
    ["jd:1", "jd:1:a:b", "xx:1:a", "jd:abc:a", "jd:1:<script>", "", "jd:" + "9" * 70, f"jd:{2**53}:a", "jd:²:a"],
)
def test_codec_refuses_forged_data(data):
    with pytest.raises(CallbackDataError):
        Decision.unpack(data)
