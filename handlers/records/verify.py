"""/verify SERIAL (anyone, any chat; also the deep link a certificate's QR code opens) and
/revokecert SERIAL REASON (county admins)."""

from __future__ import annotations

from telegram import Update

from bot.domain.formatting import hours_text, local_text
from bot.domain.records.service import normal_serial
from bot.model.records import Certificate, Verification, VerifyOutcome
from handlers.context import BotContext, Ui
from handlers.i18n import Raw
from handlers.records.me import kinds_text

SHOWN_SERIAL = 40  # characters of a "not found" serial quoted back


def shown_name(ui: Ui, certificate: Certificate) -> str:
    """A real name (given in /profile, kept out of groups) is masked in a group: 王**."""
    name = certificate.name_shown
    if certificate.real_name and not ui.is_private:
        return name[:1] + "*" * (len(name) - 1)
    return name


def _details(ui: Ui, certificate: Certificate) -> dict[str, object]:
    zone = ui.services.config.zone
    return {
        "serial": certificate.serial,
        "name": shown_name(ui, certificate),
        "start": certificate.period_start.isoformat(),
        "end": certificate.period_end.isoformat(),
        "times": certificate.person_times,
        "hours": hours_text(certificate.minutes, ui.t),
        "kinds": Raw(kinds_text(ui.t, certificate.totals)),
        "issued": local_text(certificate.issued_at, zone, "%Y-%m-%d"),
    }


async def answer_verification(ui: Ui, text: str) -> None:
    found: Verification = await ui.services.records.service.verify(ui.user_id, text)
    certificate = found.certificate
    if found.outcome is VerifyOutcome.NOT_FOUND or certificate is None:
        await ui.reply("records.verify_not_found", serial=normal_serial(text)[:SHOWN_SERIAL])
        return
    if found.outcome is VerifyOutcome.REVOKED:
        await ui.reply(
            "records.verify_revoked",
            serial=certificate.serial,
            date=local_text(certificate.revoked_at, ui.services.config.zone, "%Y-%m-%d"),
            reason=certificate.revoke_reason or "",
        )
        return
    if found.outcome is VerifyOutcome.SUPERSEDED:
        newer = (
            ui.t.raw("records.verify_newer", serials=", ".join(found.newer))
            if found.newer
            else ui.t.raw("records.verify_no_newer")
        )
        await ui.reply("records.verify_superseded", newer=newer, **_details(ui, certificate))
        return
    await ui.reply("records.verify_genuine", **_details(ui, certificate))


async def verify_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    text = " ".join(context.args or [])
    if not text.strip():
        await ui.reply("records.verify_usage")
        return
    await answer_verification(ui, text)


async def revoke_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    args = context.args or []
    if not args:
        await ui.reply("records.revoke_usage")
        return
    certificate = await ui.services.records.service.revoke(ui.user_id, args[0], " ".join(args[1:]))
    await ui.reply("records.revoked", serial=certificate.serial)
