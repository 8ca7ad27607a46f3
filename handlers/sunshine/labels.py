"""How Sunshine Home's values read (catalog words), shared by the cards, notices and figures."""

from __future__ import annotations

from bot.model.organisation import Person
from bot.model.sunshine import Child, Pair
from handlers.i18n import Translator


def support_word(t: Translator, value: str) -> str:
    return t(f"sunshine.support_{value}")


def needs_text(t: Translator, child: Child) -> str:
    return t("sunshine.list_separator").join(child.needs) if child.needs else t("sunshine.none")


def person_name(person: Person | None, user_id: int) -> str:
    if person is None:
        return str(user_id)
    return person.display_name + (f" (@{person.username})" if person.username else "")


def rhythm_text(t: Translator, days: int) -> str:
    return t("sunshine.rhythm_days", days=days)


def pair_line(t: Translator, pair: Pair, child: Child, volunteer: Person | None) -> str:
    return t(
        "sunshine.pair_line",
        pair=pair.code,
        child=child.code,
        label=child.public_label,
        volunteer=person_name(volunteer, pair.volunteer_id),
        support=support_word(t, pair.support.value),
        rhythm=rhythm_text(t, pair.rhythm_days),
        status=t(f"sunshine.pair_status_{pair.status.value}"),
    )
