"""A certificate from /me: issued by the domain, worded here, drawn as PDF in a worker thread.

The tap is answered within the update; issuing (the snapshot stored), drawing and sending run as
a background task, issuing and drawing one certificate at a time, so that a burst of requests (a
class asking at once) neither holds the bot's places for updates (every other tap would queue
behind the drawing, bot/runtime/updates.py) nor crowds the database, nor is shed as taps waiting
too long. Should the process stop before the PDF went out, the volunteer taps again.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable

from telegram import Update
from telegram.ext import Application

from bot.domain.charts import cjk_font_path
from bot.domain.formatting import hours_text, local_text
from bot.domain.records.pdf import CertificatePage, certificate_pdf
from bot.model.records import Certificate
from handlers.context import BotContext, Ui
from handlers.i18n import Translator
from handlers.records.buttons import ALL_YEARS, CertificateTap

LIST_LINES = 400  # activities listed on a certificate (a few pages); the totals count them all


def verify_link(bot_username: str | None, serial: str) -> str:
    return f"https://t.me/{bot_username}?start=v_{serial}"


def plain(t: Translator) -> Callable[..., str]:
    """Catalog text without HTML escapes: for the PDF, which is not Telegram HTML."""
    return lambda key, **params: html.unescape(t(key, **params))


def certificate_page(
    translate: Translator, certificate: Certificate, committee: str, link: str, issued: str
) -> CertificatePage:
    """Every word of a certificate, in the reader's language."""
    t = plain(translate)
    hours = lambda minutes: hours_text(minutes, t)  # noqa: E731 - short and local
    paragraphs = [
        t(
            "records.pdf_body",
            name=certificate.name_shown,
            start=certificate.period_start.isoformat(),
            end=certificate.period_end.isoformat(),
            committee=committee,
            times=certificate.person_times,
            hours=hours(certificate.minutes),
        )
    ]
    if not certificate.real_name:
        paragraphs.append(t("records.pdf_no_real_name"))
    rows = [
        (t(f"records.kind_{total.kind.value}"), str(total.person_times), hours(total.minutes))
        for total in certificate.totals
    ]
    rows.append((t("records.pdf_total"), str(certificate.person_times), hours(certificate.minutes)))
    lines = [
        t(
            "records.pdf_line",
            date=line.day.isoformat(),
            kind=t(f"records.kind_{line.kind.value}"),
            title=line.title,
            reference=line.reference,
            org=line.org_name,
            hours=hours(line.minutes),
        )
        for line in certificate.lines[:LIST_LINES]
    ]
    return CertificatePage(
        title=t("records.pdf_title"),
        committee=committee,
        paragraphs=tuple(paragraphs),
        table_header=(t("records.pdf_col_kind"), t("records.pdf_col_times"), t("records.pdf_col_hours")),
        table_rows=tuple(rows),
        list_title=t("records.pdf_list_title"),
        list_lines=tuple(lines),
        footer=(
            t("records.pdf_issued", date=issued),
            t("records.pdf_serial", serial=certificate.serial),
            t("records.pdf_verify", serial=certificate.serial),
        ),
        qr_url=link,
        qr_caption=t("records.pdf_qr_caption"),
    )


PDF_AT_ONCE = 1
_PENDING = "records.certificates_pending"
_SLOTS = "records.certificate_slots"


def _pending(application: Application) -> set[asyncio.Task]:
    return application.bot_data.setdefault(_PENDING, set())


async def certificates_sent(application: Application) -> None:
    """Wait until every certificate asked for so far has been sent (tests, benchmarks, shutdown)."""
    while pending := _pending(application):
        await asyncio.wait(list(pending))


def _one_at_a_time(application: Application) -> asyncio.Semaphore:
    return application.bot_data.setdefault(_SLOTS, asyncio.Semaphore(PDF_AT_ONCE))


async def issue_and_send(ui: Ui, year: int | None) -> None:
    """Issue (the snapshot is stored) and draw, one certificate at a time (a burst must not
    crowd the database and the event loop out from under the other updates), then send it, with
    one message: the caption says how to verify it, and how to add a real name when the display
    name was used. A refusal (no service in the period) reaches the person through the error
    handler, as any DomainError does."""
    service = ui.services.records.service
    zone = ui.services.config.zone
    committee = ui.services.config.records.committee_name or plain(ui.t)("records.committee_default")
    async with _one_at_a_time(ui.context.application):
        certificate = await service.issue(ui.user_id, await service.period_for(ui.user_id, year))
        page = certificate_page(
            ui.t,
            certificate,
            committee,
            verify_link(ui.context.bot.username, certificate.serial),
            local_text(certificate.issued_at, zone, "%Y-%m-%d"),
        )
        content = await asyncio.to_thread(certificate_pdf, page, cjk_font_path())
    caption = ui.t(
        "records.certificate_caption",
        serial=certificate.serial,
        period=f"{certificate.period_start.isoformat()} – {certificate.period_end.isoformat()}",
        times=certificate.person_times,
        hours=hours_text(certificate.minutes, ui.t),
    )
    if not certificate.real_name:
        caption += "\n" + ui.t("records.certificate_no_real_name", name=certificate.name_shown)
    await ui.context.bot.send_document(
        ui.chat_id,
        content,
        filename=plain(ui.t)("records.certificate_file", serial=certificate.serial) + ".pdf",
        caption=caption,
    )


async def certificate_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    tap = CertificateTap.unpack(ui.callback_data)
    await ui.answer()
    task = context.application.create_task(
        issue_and_send(ui, None if tap.year == ALL_YEARS else tap.year), update=update
    )
    pending = _pending(context.application)
    pending.add(task)
    task.add_done_callback(pending.discard)
