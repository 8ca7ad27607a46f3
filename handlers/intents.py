"""Plain text in the private chat with no conversation open: what the person probably wants.

New cadres type what they mean ("认领心愿", "我要签到", "报名", "怎么用") instead of a command.
The words of each intent come from the catalogs (`intents.words_<intent>`, every language's list
is tried), so the grammar lives beside the texts; anything unrecognised gets the three most
useful commands for that person's role.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import cache

from handlers.commands import Audience
from handlers.context import Ui
from handlers.i18n import LANGUAGES, catalog


class Intent(StrEnum):
    # In order of precedence when two match equally well: the general "help" last.
    CLAIM = "claim"
    CHECK_IN = "checkin"
    SIGN_UP = "signup"
    JOIN = "join"
    HELP = "help"


# The three commands each role most often needs, most useful first.
TOP_COMMANDS: dict[Audience, tuple[str, str, str]] = {
    Audience.EVERYONE: ("activities", "join", "me"),
    Audience.CADRE: ("activities", "wishes", "stats"),
    Audience.ORG_ADMIN: ("newactivity", "members", "remind"),
    Audience.COUNTY_ADMIN: ("stats", "newauction", "orgs"),
}
MAX_TEXT = 40  # a longer message is not a request for a command: no guessing


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\W_]+", "", text)


@cache
def _words() -> tuple[tuple[Intent, frozenset[str]], ...]:
    found = []
    for intent in Intent:
        words: set[str] = set()
        for language in LANGUAGES:
            entry = catalog(language).get(f"intents.words_{intent.value}", "")
            words.update(_normalise(word) for word in entry.split("|") if _normalise(word))
        found.append((intent, frozenset(words)))
    return tuple(found)


def recognise(text: str) -> Intent | None:
    """The intent whose words the text is, or contains (longest word first); None if unclear."""
    plain = _normalise(text)
    if not plain or len(plain) > MAX_TEXT:
        return None
    best: tuple[int, Intent] | None = None
    for intent, words in _words():
        for word in words:
            if word in plain and (best is None or len(word) > best[0]):
                best = (len(word), intent)
    return best[1] if best else None


async def answer_plain_text(ui: Ui, text: str, audience: Audience) -> None:
    intent = recognise(text)
    if intent is None:
        first, second, third = TOP_COMMANDS[audience]
        await ui.reply("intents.unclear", first=first, second=second, third=third)
        return
    if intent is Intent.CLAIM:
        live = await ui.services.auction.live_sessions()
        await ui.reply("intents.claim_live" if live else "intents.claim_none")
        return
    await ui.reply(f"intents.{intent.value}")
