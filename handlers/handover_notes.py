"""The handover's notes, queued by bot/domain/membership.py and sent by the outbox: the request
to the successor (with Accept / Decline in their language), the answer to the predecessor, and,
when the successor cannot be reached (they blocked the bot), a note to the predecessor."""

from __future__ import annotations

from telegram.ext import Application

from bot.model.organisation import Handover
from bot.model.outbox import OutboxMessage
from handlers.context import reader_translator, services_of
from handlers.i18n import Translator
from handlers.members import answer_markup, at_username, name_of
from handlers.outbox import Rendered


async def _handover(application: Application, message: OutboxMessage) -> tuple[Handover, Translator]:
    services = services_of(application)
    handover = await services.membership.get_handover(message.param("handover"))
    return handover, reader_translator(services, await services.people.get(message.chat_id))


async def render_request(application: Application, message: OutboxMessage) -> Rendered:
    services = services_of(application)
    handover, t = await _handover(application, message)
    org = await services.orgs.get(handover.org_id)
    predecessor = await services.people.get(handover.from_user_id)
    text = t(
        "handover.request",
        name=name_of(predecessor, handover.from_user_id),
        username=at_username(predecessor),
        org=org.name,
    )
    return Rendered(text, answer_markup(handover.id)(t))


async def render_answered(application: Application, message: OutboxMessage) -> Rendered:
    services = services_of(application)
    handover, t = await _handover(application, message)
    org = await services.orgs.get(handover.org_id)
    successor = await services.people.get(handover.to_user_id)
    key = "handover.accepted_predecessor" if handover.status == "accepted" else "handover.declined_predecessor"
    return Rendered(t(key, name=name_of(successor, handover.to_user_id), org=org.name))


async def render_unreachable(application: Application, message: OutboxMessage) -> Rendered:
    services = services_of(application)
    handover, t = await _handover(application, message)
    org = await services.orgs.get(handover.org_id)
    successor = await services.people.get(handover.to_user_id)
    return Rendered(t("handover.successor_unreachable", name=name_of(successor, handover.to_user_id), org=org.name))
