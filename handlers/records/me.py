"""/me: the person's service record (this year's lines, every year's totals by kind) and the
buttons that issue a certificate."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.domain.formatting import hours_text
from bot.model.records import KindTotal, ServiceKind, ServiceLine
from handlers.activities.render import MESSAGE_BUDGET, fit
from handlers.context import BotContext, Ui
from handlers.i18n import Raw, Translator
from handlers.records.buttons import ALL_YEARS, CertificateTap

YEAR_BUTTONS = 3  # the latest years with service get a button each, then "all years"


def kinds_text(t: Translator, totals: tuple[KindTotal, ...]) -> str:
    return t.raw("records.me_kind_separator").join(
        t.raw(
            "records.me_kind",
            kind=t.raw(f"records.kind_{total.kind.value}"),
            times=total.person_times,
            hours=hours_text(total.minutes, t),
        )
        for total in totals
    )


def line_text(ui: Ui, line: ServiceLine, *, full_date: bool = False) -> str:
    correction = ui.t.raw("records.me_correction", reason=line.correction) if line.correction else Raw("")
    return ui.t(
        "records.me_line",
        date=line.day.isoformat() if full_date else line.day.strftime("%m-%d"),
        kind=ui.t.raw(f"records.kind_{line.kind.value}"),
        title=line.title,
        reference=line.reference,
        hours=hours_text(line.minutes, ui.t),
        correction=correction,
    )


async def show_record(ui: Ui) -> None:
    zone = ui.services.config.zone
    year = ui.services.clock.now().astimezone(zone).year
    record = await ui.services.records.service.record_of(ui.user_id)
    if not record.lines:
        await ui.reply("records.me_empty_all")
        return
    this_year = [line for line in record.lines if line.day.year == year]
    attended = [line for line in this_year if line.kind is ServiceKind.ACTIVITY]
    if attended:
        head = ui.t(
            "activities.me_title",
            year=year,
            count=len(attended),
            person_times=len(attended),
            total=hours_text(sum(line.minutes for line in attended), ui.t),
        )
    else:
        head = ui.t("activities.me_empty", year=year)
    summary = [ui.t("records.me_record_title")]
    summary += [
        ui.t("records.me_year", year=each, kinds=Raw(kinds_text(ui.t, totals))) for each, totals in record.years()
    ]
    summary.append(ui.t("records.me_total", times=record.person_times, hours=hours_text(record.minutes, ui.t)))
    summary.append(ui.t("records.me_certificate_hint"))
    tail = "\n".join(summary)
    shown = [line_text(ui, line) for line in this_year]
    # Corrections of earlier years' lines are shown too: the record says what changed and why.
    corrected = [line for line in record.lines if line.correction and line.day.year != year]
    if corrected:
        shown.append(ui.t("records.me_corrections_title"))
        shown += [line_text(ui, line, full_date=True) for line in reversed(corrected)]
    lines = fit(ui.t, shown, MESSAGE_BUDGET - len(head) - len(tail) - 4)
    years = [each for each, _ in record.years()][:YEAR_BUTTONS]
    buttons = [
        InlineKeyboardButton(
            ui.t("records.button_certificate_year", year=each), callback_data=CertificateTap(year=each).pack()
        )
        for each in years
    ]
    buttons.append(
        InlineKeyboardButton(
            ui.t("records.button_certificate_all"), callback_data=CertificateTap(year=ALL_YEARS).pack()
        )
    )
    text = "\n".join([head, *lines]) + "\n\n" + tail
    await ui.send_text(text, InlineKeyboardMarkup([[button] for button in buttons]))


async def me_command(update: Update, context: BotContext) -> None:
    await show_record(Ui(update, context))
