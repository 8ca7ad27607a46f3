"""How the catch-up's messages read (bot/domain/catch_up.py and bot/domain/reminders.py decide
what is caught up)."""

from __future__ import annotations

from telegram.ext import Application

from bot.domain.catch_up import parse_ids
from bot.domain.errors import DomainError
from bot.domain.formatting import hours_text
from bot.domain.reminders import OCCURRENCES
from bot.model.outbox import OutboxMessage
from handlers.context import group_t, reader_translator, services_of
from handlers.i18n import Translator
from handlers.outbox import Rendered, Skip
from handlers.reminders import preview, when_text

# The words of each reminder a listing names, in UTF-16 units (what Telegram counts): 20 lines
# of at most ~170 stay well inside a message's 4,096.
LINE_PREVIEW = 150


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
    lines = await _lines(application, message, t, "catch_up.stale_line")
    return _stale(services.config.catch_up.window_hours, message, t, "catch_up.stale_title", lines)


async def render_reminders_together(application: Application, message: OutboxMessage) -> Rendered | Skip:
    """A chat's reminder occurrences missed while the bot was down, in one message, oldest first."""
    t = group_t(services_of(application))
    lines = await _reminder_lines(application, message, t)
    if not lines:
        return Skip("the reminders are gone")
    return Rendered("\n".join([t("catch_up.reminders_title", count=len(lines)), *lines]))


async def render_stale_reminders(application: Application, message: OutboxMessage) -> Rendered | Skip:
    """To a county admin: the reminder occurrences too late to be sent to their chats."""
    services = services_of(application)
    t = reader_translator(services, await services.people.get(message.chat_id))
    lines = await _reminder_lines(application, message, t)
    return _stale(services.config.catch_up.window_hours, message, t, "catch_up.stale_reminders_title", lines)


async def _reminder_lines(application: Application, message: OutboxMessage, t: Translator) -> list[str]:
    """One line per listed occurrence still known: when it was due, and its words (shortened)."""
    services = services_of(application)
    lines = []
    for occurrence_id in parse_ids(message.params.get(OCCURRENCES)):
        reminder = await services.reminders.occurring(occurrence_id)
        if reminder is None:  # deleted since: nothing to say about it
            continue
        when = when_text(t, services.config.zone, reminder.due_at)
        lines.append(t("catch_up.reminder_line", when=when, text=preview(reminder.text, LINE_PREVIEW)))
    return lines


def _stale(hours: int, message: OutboxMessage, t: Translator, title: str, lines: list[str]) -> Rendered | Skip:
    """A county admin's list of what was too old to send: the title, the first few, how many more."""
    if not lines:
        return Skip("what was listed is gone")
    count = message.params.get("count")
    total = count if isinstance(count, int) else 0
    parts = [t(title, count=total, hours=hours), *lines]
    if total > len(lines):
        parts.append(t("catch_up.stale_more", count=total - len(lines)))
    return Rendered("\n".join(parts))
