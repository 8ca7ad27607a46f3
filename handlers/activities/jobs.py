"""The one repeating job of activities: the summaries of those that ended."""

from __future__ import annotations

from telegram.ext import Application, CallbackContext

from handlers.activities.summaries import send_due_summaries

SUMMARY_JOB = "activities:summaries"


async def _summaries_job(context: CallbackContext) -> None:
    await send_due_summaries(context.application)


def start_activity_jobs(application: Application) -> None:
    """The one repeating job that sends summaries; replaced, never doubled, when called again."""
    queue = application.job_queue
    if queue is None:
        return
    for job in queue.get_jobs_by_name(SUMMARY_JOB):
        job.schedule_removal()
    queue.run_repeating(_summaries_job, interval=60, first=5, name=SUMMARY_JOB)
