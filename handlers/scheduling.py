"""The reminder wake-up job and the words of one reminder message.

There is one job, `reminders:wake`, always derived from the database: it runs the domain's
`deliver_due`, which queues each occurrence due in the outbox, has the outbox send them, and
then sets itself for the next send time. APScheduler's default would skip a job more than a
second late, so it runs whenever it is late (misfire_grace_time=None), and the domain's catch-up
rule ([catch_up] window_hours) decides what a late occurrence gets. Each message is worded when the outbox sends it
(`render_reminder`), for the chat it goes to.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext

from bot.domain.digest import DigestItem
from bot.domain.formatting import local_text
from bot.domain.reminders import Drain
from bot.domain.services import Services
from bot.model.outbox import OutboxMessage
from handlers.context import group_t, services_of
from handlers.i18n import Raw, Translator
from handlers.leadership import leading
from handlers.outbox import Rendered, Skip, drain_outbox

log = logging.getLogger(__name__)

WAKE_JOB = "reminders:wake"
# Even with nothing due, look again now and then, so a reminder written by another process
# (or a clock jump) is never waited for indefinitely.
LONGEST_SLEEP = timedelta(minutes=10)
SHORTEST_SLEEP = timedelta(seconds=1)
DIGEST_ITEMS = 30
# bot_data key: system reminders whose words depend on the day they are due, by subject key →
# async (services, chat id, reminder) → the text for that chat, or None (nothing to say there).
# Filled by handlers.register.
COMPUTED_TEXTS = "computed_reminder_texts"


def telegram_sender(application: Application) -> Drain:
    """What `deliver_due` runs once it has queued the occurrences due: the outbox's sender."""

    async def drain() -> int:
        return await drain_outbox(application)

    return drain


async def render_reminder(application: Application, message: OutboxMessage) -> Rendered | Skip:
    """One occurrence's message for the chat it goes to: the reminder's own words, the weekly
    digest of that chat, or a computed text; a digest or computed text may have nothing to say."""
    services = services_of(application)
    reminder = await services.reminders.as_occurring(message)
    if reminder is None:
        return Skip("the reminder is gone")
    chat_id = message.chat_id
    t = group_t(services)
    computed_texts = application.bot_data.get(COMPUTED_TEXTS, {})
    if reminder.content_kind == "weekly_digest":
        items = await services.digest.items_for(chat_id, services.clock.now())
        if not items:
            return Skip("nothing to say")
        return Rendered(render_digest(t, items, services.config.zone))
    if reminder.subject_key in computed_texts:
        # A system reminder whose words depend on the day it is due (deeds pace, ranking).
        body = await computed_texts[reminder.subject_key](services, chat_id, reminder)
        return Skip("nothing to say") if body is None else Rendered(body)
    late = message.params.get("late") is True
    return Rendered(t("reminders.message_late" if late else "reminders.message", text=Raw(_escape(reminder.text))))


def render_digest(t: Translator, items: list[DigestItem], zone: ZoneInfo) -> str:
    lines = [t("digest.title", count=len(items))]
    for item in items[:DIGEST_ITEMS]:
        lines.append(
            t(
                "digest.line",
                weekday=t(f"schedule.weekday_{item.when.astimezone(zone).weekday()}"),
                date=local_text(item.when, zone, "%m-%d"),
                time=local_text(item.when, zone, "%H:%M"),
                text=t.raw(f"digest.item_{item.kind}", text=item.text[:120]),
            )
        )
    if len(items) > DIGEST_ITEMS:
        lines.append(t("digest.more", count=len(items) - DIGEST_ITEMS))
    return "\n".join(lines)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


async def wake(context: CallbackContext) -> None:
    application = context.application
    services: Services = application.bot_data["services"]
    await services.reminders.deliver_due(telegram_sender(application))
    await schedule_wake(application)


async def schedule_wake(application: Application, *, now: bool = False) -> None:
    """(Re)arm the single wake-up job for the next send time (the leading instance's)."""
    queue = application.job_queue
    if queue is None or not leading(application):
        return
    services: Services = application.bot_data["services"]
    current = services.clock.now()
    due = current if now else (await services.reminders.next_wake() or current + LONGEST_SLEEP)
    # After a delivery pass nothing should be due any more; should something still be (a clock
    # jump, a bug), waiting a second keeps the bot from spinning on it.
    floor = current if now else current + SHORTEST_SLEEP
    when: datetime = min(max(due, floor), current + LONGEST_SLEEP)
    for job in queue.get_jobs_by_name(WAKE_JOB):
        job.schedule_removal()
    # A delay, not a moment: it is measured on the bot's clock, which may differ from the
    # scheduler's wall clock (the sandbox's clock jumps ahead).
    queue.run_once(wake, when=when - current, name=WAKE_JOB, job_kwargs={"misfire_grace_time": None})
