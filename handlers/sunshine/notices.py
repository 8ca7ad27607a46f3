"""The messages Sunshine Home's domain queues in the outbox, worded when they go out, in the
recipient's language. None of them names more than a child's public code and alias."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import Application

from bot.model.outbox import OutboxMessage
from bot.model.sunshine import Child, Pair, PairStatus
from handlers.context import reader_translator, services_of
from handlers.i18n import Translator
from handlers.outbox import Rendered, Skip
from handlers.sunshine.buttons import answer_markup, repair_markup
from handlers.sunshine.labels import person_name, rhythm_text, support_word


@dataclass(frozen=True)
class _About:
    """What a notice is about, as it stands when it goes out, and the reader's words."""

    pair: Pair
    child: Child
    volunteer: str
    t: Translator

    def params(self, **more: object) -> dict[str, object]:
        return {"pair": self.pair.code, "child": self.child.code, "label": self.child.public_label, **more}


async def _about(application: Application, message: OutboxMessage) -> _About:
    services = services_of(application)
    pair = await services.sunshine.pair(message.param("pair"))
    child = await services.sunshine.child(pair.child_id)
    volunteer = person_name(await services.people.get(pair.volunteer_id), pair.volunteer_id)
    t = reader_translator(services, await services.people.get(message.chat_id))
    return _About(pair, child, volunteer, t)


async def render_proposal(application: Application, message: OutboxMessage) -> Rendered | Skip:
    about = await _about(application, message)
    if about.pair.status is not PairStatus.PROPOSED:
        return Skip("answered or withdrawn meanwhile")
    t, pair, child = about.t, about.pair, about.child
    org = await services_of(application).orgs.get(pair.org_id)
    text = t(
        "sunshine.proposal",
        **about.params(
            org=org.name,
            needs=t("sunshine.list_separator").join(child.needs) or t("sunshine.none"),
            support=support_word(t, pair.support.value),
            rhythm=rhythm_text(t, pair.rhythm_days),
        ),
    )
    return Rendered(text, answer_markup(pair.id, t))


async def render_answered(application: Application, message: OutboxMessage) -> Rendered:
    about = await _about(application, message)
    accepted = about.pair.status is PairStatus.ACTIVE
    key = "sunshine.answer_accepted" if accepted else "sunshine.answer_declined"
    text = about.t(key, **about.params(volunteer=about.volunteer))
    return Rendered(text, None if accepted else repair_markup(about.child.id, about.t))


async def render_quiet_volunteer(application: Application, message: OutboxMessage) -> Rendered | Skip:
    about = await _about(application, message)
    if about.pair.status is not PairStatus.ACTIVE:
        return Skip("the pair ended meanwhile")
    since, rhythm = str(message.params.get("since")), rhythm_text(about.t, about.pair.rhythm_days)
    return Rendered(about.t("sunshine.quiet_volunteer", **about.params(since=since, rhythm=rhythm)))


async def render_quiet_cadres(application: Application, message: OutboxMessage) -> Rendered | Skip:
    about = await _about(application, message)
    if about.pair.status is not PairStatus.ACTIVE:
        return Skip("the pair ended meanwhile")
    params = about.params(volunteer=about.volunteer, since=str(message.params.get("since")))
    return Rendered(about.t("sunshine.quiet_cadres", **params), repair_markup(about.child.id, about.t))


async def render_handed_back(application: Application, message: OutboxMessage) -> Rendered:
    about = await _about(application, message)
    support = support_word(about.t, about.pair.support.value)
    text = about.t("sunshine.handed_back", **about.params(volunteer=about.volunteer, support=support))
    return Rendered(text, repair_markup(about.child.id, about.t) if about.child.active else None)
