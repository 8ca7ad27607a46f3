"""Housekeeping jobs that keep the data within its promises."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, CallbackContext

from bot.domain.services import Services

log = logging.getLogger(__name__)

PURGE_JOB = "wishes:purge_private"
PURGE_EVERY = timedelta(hours=6)


async def purge_children_details(context: CallbackContext) -> None:
    services: Services = context.application.bot_data["services"]
    purged = await services.wishes.purge_private(services.clock.now())
    if purged:
        log.info("purged the private details of %d confirmed wishes", purged)


def start_maintenance_jobs(application: Application) -> None:
    """Idempotent jobs, so running them often (and at start-up) is harmless."""
    queue = application.job_queue
    if queue is None:
        return
    for job in queue.get_jobs_by_name(PURGE_JOB):
        job.schedule_removal()
    queue.run_repeating(purge_children_details, interval=PURGE_EVERY, first=timedelta(seconds=30), name=PURGE_JOB)
