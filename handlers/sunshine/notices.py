"""The messages Sunshine Home's domain queues in the outbox, worded when they go out, in the
recipient's language. None of them names more than a child's public code and alias."""

from __future__ import annotations

from telegram.ext import Application

from bot.model.outbox import OutboxMessage
from bot.model.sunshine import PairStatus
from handlers.context import reader_translator, services_of
from handlers.i18n import Translator
from handlers.outbox import Rendered, Skip
from handlers.sunshine.buttons import answer_markup, repair_markup
from handlers.sunshine.labels import person_name, rhythm_text, support_word


async def _reader(application: Application, message: OutboxMessage) -> Translator:
    services = services_of(application)
    return reader_translator(services, await services.people.get(message.chat_id))


async def render_proposal(application: Application, message: OutboxMessage) -> Rendered | Skip:
    services = services_of(application)
    pair = await services.sunshine.pair(message.param("pair"))
    if pair.status is not PairStatus.PROPOSED:
        return Skip("answered or withdrawn meanwhile")
    child = await services.sunshine.child(pair.child_id)
    org = await services.orgs.get(pair.org_id)
    t = await _reader(application, message)
    text = t(
        "sunshine.proposal",
        org=org.name,
        child=child.code,
        label=child.public_label,
        needs=t("sunshine.list_separator").join(child.needs) or t("sunshine.none"),
        support=support_word(t, pair.support.value),
        rhythm=rhythm_text(t, pair.rhythm_days),
    )
    return Rendered(text, answer_markup(pair.id, t))


async def render_answered(application: Application, message: OutboxMessage) -> Rendered:
    services = services_of(application)
    pair = await services.sunshine.pair(message.param("pair"))
    child = await services.sunshine.child(pair.child_id)
    volunteer = await services.people.get(pair.volunteer_id)
    t = await _reader(application, message)
    key = "sunshine.answer_accepted" if pair.status is PairStatus.ACTIVE else "sunshine.answer_declined"
    text = t(
        key,
        pair=pair.code,
        child=child.code,
        label=child.public_label,
        volunteer=person_name(volunteer, pair.volunteer_id),
    )
    markup = None if pair.status is PairStatus.ACTIVE else repair_markup(child.id, t)
    return Rendered(text, markup)


async def render_quiet_volunteer(application: Application, message: OutboxMessage) -> Rendered | Skip:
    services = services_of(application)
    pair = await services.sunshine.pair(message.param("pair"))
    if pair.status is not PairStatus.ACTIVE:
        return Skip("the pair ended meanwhile")
    child = await services.sunshine.child(pair.child_id)
    t = await _reader(application, message)
    return Rendered(
        t(
            "sunshine.quiet_volunteer",
            child=child.code,
            label=child.public_label,
            since=str(message.params.get("since")),
            rhythm=rhythm_text(t, pair.rhythm_days),
        )
    )


async def render_quiet_cadres(application: Application, message: OutboxMessage) -> Rendered | Skip:
    services = services_of(application)
    pair = await services.sunshine.pair(message.param("pair"))
    if pair.status is not PairStatus.ACTIVE:
        return Skip("the pair ended meanwhile")
    child = await services.sunshine.child(pair.child_id)
    volunteer = await services.people.get(pair.volunteer_id)
    t = await _reader(application, message)
    text = t(
        "sunshine.quiet_cadres",
        pair=pair.code,
        child=child.code,
        label=child.public_label,
        volunteer=person_name(volunteer, pair.volunteer_id),
        since=str(message.params.get("since")),
    )
    return Rendered(text, repair_markup(child.id, t))


async def render_handed_back(application: Application, message: OutboxMessage) -> Rendered:
    services = services_of(application)
    pair = await services.sunshine.pair(message.param("pair"))
    child = await services.sunshine.child(pair.child_id)
    volunteer = await services.people.get(pair.volunteer_id)
    t = await _reader(application, message)
    text = t(
        "sunshine.handed_back",
        pair=pair.code,
        child=child.code,
        label=child.public_label,
        volunteer=person_name(volunteer, pair.volunteer_id),
        support=support_word(t, pair.support.value),
    )
    return Rendered(text, repair_markup(child.id, t) if child.active else None)
