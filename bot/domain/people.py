"""People as the bot knows them, and the language each reads."""

from __future__ import annotations

from bot.domain import bounds
from bot.domain.clock import Clock
from bot.domain.config import SUPPORTED_LANGUAGES
from bot.domain.errors import DomainError
from bot.model.organisation import Person
from storage.people import PeopleRepository

LANGUAGES = SUPPORTED_LANGUAGES
REAL_NAME_MAX = 20


# Telegram's language_code for Traditional Chinese: the script, or the places that write it.
_TRADITIONAL = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")


def language_from_telegram(code: str | None) -> str | None:
    """Telegram's language_code ('zh-hans', 'zh-CN', 'zh-TW', 'en-GB', …) to one we speak, else None."""
    if not code:
        return None
    code = code.lower().replace("_", "-")
    if code.startswith(_TRADITIONAL):
        return "zh-Hant"
    if code.startswith("zh"):
        return "zh-Hans"
    if code.startswith("en"):
        return "en"
    return None


class PeopleService:
    def __init__(self, people: PeopleRepository, clock: Clock, default_language: str) -> None:
        self.people = people
        self.clock = clock
        self.default_language = default_language

    async def seen(
        self, user_id: int, display_name: str, username: str | None, telegram_language: str | None, *, private: bool
    ) -> None:
        await self.people.upsert_seen(
            user_id, display_name[:128], username, telegram_language, self.clock.now(), started=private
        )

    async def get(self, user_id: int) -> Person | None:
        return await self.people.get(user_id)

    async def known(self, user_id: int) -> Person:
        """Someone the bot has seen: the sender of an update (the gatekeeper records everyone who
        writes before any handler runs), or someone who applied or was named earlier."""
        person = await self.people.get(user_id)
        if person is None:
            raise DomainError("people.unknown", value=str(user_id))
        return person

    async def many(self, user_ids: list[int]) -> dict[int, Person]:
        return await self.people.many(user_ids)

    async def find(self, reference: str) -> Person:
        """A person by '@username' or numeric user id, as typed by an admin."""
        reference = reference.strip()
        person = None
        if reference.lstrip("-").isdigit():  # any script's digits: bounds decides (ASCII, < 2^53)
            person = await self.people.get(bounds.parse_id(reference))
        elif reference.startswith("@") and len(reference) > 1:
            person = await self.people.by_username(reference[1:])
        else:
            raise DomainError("people.bad_reference", value=reference[:40])
        if person is None:
            raise DomainError("people.unknown", value=reference[:40])
        return person

    def language_of(self, person: Person | None, telegram_language: str | None) -> str:
        if person is not None and person.language in LANGUAGES:
            return person.language
        return language_from_telegram(telegram_language) or self.default_language

    def check_real_name(self, text: str) -> str:
        name = " ".join(text.split())
        if not 1 <= len(name) <= REAL_NAME_MAX:
            raise DomainError("people.real_name_bad", max=REAL_NAME_MAX)
        return name

    def check_phone(self, text: str) -> str:
        from bot.domain.wishes import normalise_phone

        phone = normalise_phone(text)
        if phone is None:
            raise DomainError("people.phone_bad", value=text.strip()[:20])
        return phone

    async def set_private_details(self, user_id: int, real_name: str | None, phone: str | None) -> None:
        """Optional; shown only to the person (and used by their organisation's admins), never in a group."""
        await self.people.set_private_details(user_id, real_name, phone)

    async def set_language(self, user_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise DomainError("lang.unknown", value=language)
        await self.people.set_language(user_id, language)
