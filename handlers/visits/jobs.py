"""The campaign's timed work: the daily reminder's words for each person (a system reminder of
the persistent scheduler, bot/domain/visits/progress.py: restart-safe), and the purge of
private details a configured time after a campaign closes."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, CallbackContext

from bot.domain.services import Services
from bot.model.reminder import ReminderRecord
from handlers.context import reader_translator, services_of
from handlers.i18n import Raw

log = logging.getLogger(__name__)

PURGE_JOB = "visits:purge_private"
PURGE_EVERY = timedelta(hours=6)


async def render_daily(services: Services, chat_id: int, reminder: ReminderRecord) -> str | None:
    """One person's daily text: their households left; for county admins after a deadline,
    the overdue list by team. None: nothing to say to them today."""
    notice = await services.visits.notice_for(chat_id, reminder.due_at)
    if notice.empty:
        return None
    t = reader_translator(services, await services.people.get(chat_id))
    parts = [
        t("visits.daily_left", title=campaign.title, count=count, days=services.visits.days_left(campaign))
        for campaign, count in notice.left
    ]
    for overdue in notice.overdue:
        lines = "\n".join(t("visits.overdue_line", team=team, count=count) for team, count in overdue.by_team)
        parts.append(
            t(
                "visits.overdue",
                title=overdue.campaign.title,
                lines=Raw(lines),
                count=sum(c for _, c in overdue.by_team),
            )
        )
    return "\n\n".join(parts)


async def purge_private(context: CallbackContext) -> None:
    services = services_of(context.application)
    purged = await services.visits.purge_private(services.clock.now())
    if purged:
        await services.db.checkpoint()  # the WAL's older copies of those pages go too
        log.info("purged the private details of %d closed visit campaigns", purged)


def start_visit_jobs(application: Application) -> None:
    queue = application.job_queue
    if queue is None:
        return
    for job in queue.get_jobs_by_name(PURGE_JOB):
        job.schedule_removal()
    queue.run_repeating(purge_private, interval=PURGE_EVERY, first=timedelta(seconds=40), name=PURGE_JOB)
