"""Which instance does the scheduled work and the sending (issue #20).

Every instance answers updates. One, the leader, also runs the jobs (reminders, activity
summaries, wish deadlines, the auction's tick, purges) and the outbox's sender, so each job runs
once and Telegram's per-bot limits (30 messages a second, 20 a minute per group) are kept by one
sender whatever the number of instances.

- SQLite: one process owns the file; it leads from the start and nothing here polls.
- PostgreSQL: leadership is an advisory lock (storage/postgres.py, `AdvisoryLeadership`). Every
  LEADER_POLL_SECONDS each instance asks: the leader checks it still holds it, the others try to
  take it, which succeeds as soon as a dead leader's connection is gone. The leader also looks
  for what the others queued (outbox messages, reminders) on each poll, and every few polls
  takes the updates that a dead instance stored but never finished.
"""

from __future__ import annotations

import json
import logging

from telegram import Update
from telegram.ext import Application, CallbackContext

from bot.domain.services import Services
from handlers.leadership import leading, set_leading

log = logging.getLogger(__name__)

LEADER_LOCK = "league-bot:leader"
LEADER_JOB = "leader:poll"
LEADERSHIP = "leadership"
LEADER_POLL_SECONDS = 1.0
# Every poll the leader looks for what the others queued: outbox messages and reminders (a query
# for the next due time each). Updates left by a dead instance, every few polls.
ORPHAN_POLL_EVERY = 5


async def start_leader_duties(application: Application) -> None:
    services: Services = application.bot_data["services"]
    leadership = services.db.leadership(LEADER_LOCK)
    application.bot_data[LEADERSHIP] = leadership
    set_leading(application, False)
    if await leadership.hold():
        await _lead(application)
    else:
        log.info("another instance leads: this one answers updates only")
    if services.db.engine != "sqlite" and application.job_queue is not None:
        state = {"polls": 0}

        async def poll(context: CallbackContext) -> None:
            await _poll(context.application, state)

        application.job_queue.run_repeating(
            poll, interval=LEADER_POLL_SECONDS, first=LEADER_POLL_SECONDS, name=LEADER_JOB
        )


async def stop_leader_duties(application: Application) -> None:
    leadership = application.bot_data.pop(LEADERSHIP, None)
    if leadership is not None:
        await leadership.release()


async def _poll(application: Application, state: dict[str, int]) -> None:
    leadership = application.bot_data[LEADERSHIP]
    holds = await leadership.hold()
    if holds and not leading(application):
        await _lead(application, taking_over=True)
    elif not holds and leading(application):
        _step_down(application)
    elif holds:
        from handlers.outbox import outbox_sender
        from handlers.scheduling import schedule_wake

        state["polls"] += 1
        outbox_sender(application).wake()  # what the other instances queued
        await schedule_wake(application)
        if state["polls"] % ORPHAN_POLL_EVERY == 0:
            await _adopt_orphans(application)


def _duty_jobs() -> frozenset[str]:
    """The names of the jobs only the leader runs (each starter replaces its own, never doubles it)."""
    from handlers.activities.jobs import SUMMARY_JOB
    from handlers.auction.hub import TICK_JOB
    from handlers.maintenance import EXPIRE_JOB, INTAKE_PURGE_JOB
    from handlers.maintenance import PURGE_JOB as WISHES_PURGE_JOB
    from handlers.outbox import SEND_JOB
    from handlers.scheduling import WAKE_JOB
    from handlers.visits.jobs import PURGE_JOB as VISITS_PURGE_JOB
    from handlers.wishes.jobs import DEADLINE_JOB

    return frozenset(
        {SUMMARY_JOB, TICK_JOB, EXPIRE_JOB, INTAKE_PURGE_JOB, WISHES_PURGE_JOB, SEND_JOB, WAKE_JOB}
        | {VISITS_PURGE_JOB, DEADLINE_JOB}
    )


async def _lead(application: Application, *, taking_over: bool = False) -> None:
    from handlers.activities import start_activity_jobs
    from handlers.auction import start_auction_jobs
    from handlers.maintenance import start_maintenance_jobs
    from handlers.outbox import start_outbox_sender
    from handlers.scheduling import schedule_wake
    from handlers.visits import start_visit_jobs
    from handlers.wishes import start_wish_jobs

    set_leading(application, True)
    if taking_over:  # what the dead leader left (at a start, the intake took it already)
        await _adopt_orphans(application)
    # Occurrences missed while no one led are handled at once (the catch-up window decides).
    await schedule_wake(application, now=True)
    start_activity_jobs(application)
    start_wish_jobs(application)
    start_auction_jobs(application)
    start_maintenance_jobs(application)
    start_visit_jobs(application)
    start_outbox_sender(application)  # what waited goes first
    services: Services = application.bot_data["services"]
    if services.db.engine != "sqlite":
        log.info("this instance leads: scheduled work and sending")


def _step_down(application: Application) -> None:
    """The lock's connection broke: another instance may lead already; stop every duty job."""
    set_leading(application, False)
    queue = application.job_queue
    if queue is not None:
        duties = _duty_jobs()
        for job in queue.jobs():
            if job.name in duties:
                job.schedule_removal()
    log.warning("lost the leadership (database connection): scheduled work stops here")


async def _adopt_orphans(application: Application) -> None:
    """Updates an instance stored (Telegram was told they arrived) and never finished because it
    died: handled here. Its session lock tells it is gone (storage/postgres.py), and each such
    update is taken by one instance only (storage/inbox.py, `adopt`)."""
    services: Services = application.bot_data["services"]
    orphans = await services.inbox.left_behind()
    for _, payload in orphans:
        application.update_queue.put_nowait(Update.de_json(json.loads(payload), application.bot))
    if orphans:
        log.warning("%d updates left unfinished by an instance that is gone: handling them here", len(orphans))
