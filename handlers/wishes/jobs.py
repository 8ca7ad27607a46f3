"""The wishes' repeating job: the claimers' deadline reminders (3 days and 1 day before) kept in the
persistent scheduler, and the overdue list sent to the county admins once a day."""

from __future__ import annotations

from datetime import time, timedelta

from telegram.ext import Application, CallbackContext

from bot.domain.formatting import DATE, local_text
from bot.domain.services import Services
from bot.domain.wishes import keep_deadline_reminders
from bot.model.wish import Wish
from handlers.context import best_effort, reader_translator, services_of
from handlers.file_import import shorten
from handlers.i18n import plain_text_renderer
from handlers.scheduling import schedule_wake
from handlers.wishes.render import days_overdue, wish_params

DEADLINE_JOB = "wishes:deadlines"
DEADLINE_EVERY = timedelta(minutes=10)
DIGEST_AT = time(9, 0)  # local time after which the day's overdue list goes to the county admins
DIGEST_LINES = 30


def deadline_text(services: Services, wish: Wish, days: int) -> str:
    """Plain text: the reminder sender escapes it itself."""
    return plain_text_renderer(services.config.language)(
        "wishes.ui_deadline_reminder",
        {"days": days, "deadline": local_text(wish.deadline, services.config.zone, DATE), **wish_params(wish)},
    )


async def sync_deadline_reminders(application: Application) -> int:
    services = services_of(application)
    count = await keep_deadline_reminders(
        services.wishes, services.reminders, lambda wish, days: deadline_text(services, wish, days)
    )
    await schedule_wake(application)
    return count


async def send_overdue_digest(application: Application) -> int:
    """Once per local day, from 09:00, if anything is overdue: the list to every county admin.

    The day is claimed in the audit log before sending (WishService.claim_overdue_digest), so
    it goes at most once a day however often the job runs, and across restarts."""
    services = services_of(application)
    now = services.clock.now()
    local = now.astimezone(services.config.zone)
    if local.time() < DIGEST_AT:
        return 0
    overdue = await services.wishes.overdue(now)
    if not overdue or not await services.wishes.claim_overdue_digest(local.date(), len(overdue)):
        return 0
    names = {org.id: org.name for org in await services.orgs.list(include_archived=True)}
    people = await services.people.many([wish.claimed_by_user for wish in overdue if wish.claimed_by_user])
    sent = 0
    for admin_id in await services.wishes.digest_recipients():
        person = await services.people.get(admin_id)
        t = reader_translator(services, person)
        lines = [t("wishes.ui_overdue_title", count=len(overdue), now=local_text(now, services.config.zone)), ""]
        for wish in overdue[:DIGEST_LINES]:
            claimer = people.get(wish.claimed_by_user) if wish.claimed_by_user is not None else None
            lines.append(
                t(
                    "wishes.ui_overdue_line",
                    code=wish.code,
                    label=wish.public_label,
                    text=shorten(wish.text),
                    org=names.get(wish.claimed_by_org, "?") if wish.claimed_by_org is not None else "?",
                    person=claimer.display_name if claimer else "?",
                    deadline=local_text(wish.deadline, services.config.zone, DATE),
                    days=days_overdue(now, wish.deadline),
                )
            )
        if len(overdue) > DIGEST_LINES:
            lines.append(t("wishes.ui_overdue_more", count=len(overdue) - DIGEST_LINES))
        lines.extend(["", t("wishes.ui_overdue_footer")])
        message = await best_effort(
            application.bot.send_message(admin_id, "\n".join(lines)), "overdue list not sent to %s", admin_id
        )
        sent += message is not None
    return sent


async def wish_jobs(context: CallbackContext) -> None:
    await sync_deadline_reminders(context.application)
    await send_overdue_digest(context.application)


def start_wish_jobs(application: Application) -> None:
    """The one repeating job; replaced, never doubled, when called again."""
    queue = application.job_queue
    if queue is None:
        return
    for job in queue.get_jobs_by_name(DEADLINE_JOB):
        job.schedule_removal()
    queue.run_repeating(wish_jobs, interval=DEADLINE_EVERY, first=timedelta(seconds=20), name=DEADLINE_JOB)
