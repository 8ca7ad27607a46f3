"""Housekeeping jobs that keep the data within its promises."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, CallbackContext

from bot.domain.services import Services

log = logging.getLogger(__name__)

PURGE_JOB = "wishes:purge_private"
PURGE_EVERY = timedelta(hours=6)
EXPIRE_JOB = "conversations:expire"
# Reading a conversation checks its age too: the sweep only bounds how long an abandoned one's
# data can stay in the file (the expiry plus this).
EXPIRE_EVERY = timedelta(minutes=15)
INTAKE_PURGE_JOB = "inbox_outbox:purge"
INTAKE_PURGE_EVERY = timedelta(hours=6)


async def purge_children_details(context: CallbackContext) -> None:
    services: Services = context.application.bot_data["services"]
    purged = await services.wishes.purge_private(services.clock.now())
    if purged:
        await services.db.checkpoint()  # the WAL's older copies of those pages go too
        log.info("purged the private details of %d confirmed wishes", purged)


async def expire_conversations(context: CallbackContext) -> None:
    services: Services = context.application.bot_data["services"]
    swept = await services.conversations.sweep()
    if swept.expired:
        await services.db.checkpoint()  # the WAL's older copies of those pages go too
        log.info("expired %d idle conversations (their data deleted)", swept.expired)


async def purge_inbox_and_outbox(context: CallbackContext) -> None:
    """Handled updates (only their ids are left) and finished messages past their keeping time."""
    services: Services = context.application.bot_data["services"]
    updates = await services.inbox.purge()
    messages = await services.outbox.purge()
    if updates or messages:
        log.info("forgot %d handled updates and %d finished outgoing messages", updates, messages)


def start_maintenance_jobs(application: Application) -> None:
    """Idempotent jobs, so running them often (and at start-up) is harmless."""
    queue = application.job_queue
    if queue is None:
        return
    for name, job_callback, every in (
        (PURGE_JOB, purge_children_details, PURGE_EVERY),
        (EXPIRE_JOB, expire_conversations, EXPIRE_EVERY),
        (INTAKE_PURGE_JOB, purge_inbox_and_outbox, INTAKE_PURGE_EVERY),
    ):
        for job in queue.get_jobs_by_name(name):
            job.schedule_removal()
        queue.run_repeating(job_callback, interval=every, first=timedelta(seconds=30), name=name)
