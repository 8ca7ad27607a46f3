"""How the catch-up's messages read (bot/domain/catch_up.py decides what is caught up)."""

from __future__ import annotations

from telegram.ext import Application

from bot.domain.catch_up import parse_ids
from bot.domain.errors import DomainError
from bot.domain.formatting import hours_text
from bot.model.outbox import OutboxMessage
from handlers.context import group_t, reader_translator, services_of
from handlers.i18n import Translator
from handlers.outbox import Rendered, Skip


async def _lines(application: Application, message: OutboxMessage, t: Translator, key: str) -> list[str]:
    services = services_of(application)
    lines = []
    for activity_id in parse_ids(message.params.get("activities")):
        try:
            activity = await services.activities.get(activity_id)
        except DomainError:  # deleted since: nothing to say about it
            continue
        summary = await services.attendance.summary(activity.id)
        lines.append(
            t(
                key,
                title=activity.title,
                code=activity.code,
                volunteers=summary.volunteers,
                hours=hours_text(summary.volunteer_minutes, t),
                served=summary.served,
            )
        )
    return lines


async def render_summaries_together(application: Application, message: OutboxMessage) -> Rendered | Skip:
    """A group's summaries missed while the bot was down, in one message, oldest first."""
    t = group_t(services_of(application))
    lines = await _lines(application, message, t, "catch_up.summary_line")
    if not lines:
        return Skip("the activities are gone")
    return Rendered("\n".join([t("catch_up.summaries_title", count=len(lines)), *lines, t("catch_up.summaries_end")]))


async def render_stale_summaries(application: Application, message: OutboxMessage) -> Rendered | Skip:
    """To a county admin: the summaries that ended too long ago to be sent to their groups."""
    services = services_of(application)
    t = reader_translator(services, await services.people.get(message.chat_id))
    count = message.params.get("count")
    total = count if isinstance(count, int) else 0
    lines = await _lines(application, message, t, "catch_up.stale_line")
    if not lines:
        return Skip("the activities are gone")
    parts = [t("catch_up.stale_title", count=total, hours=services.config.catch_up.window_hours), *lines]
    if total > len(lines):
        parts.append(t("catch_up.stale_more", count=total - len(lines)))
    return Rendered("\n".join(parts))
