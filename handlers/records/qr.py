"""QR check-in: /qr CODE [new] gives the organiser the activity's code (a PNG and a printable A4
PDF); scanning it opens /start q_… in private chat (handlers/start.py), which checks the volunteer
in, asks for a location when the activity has a radius, and offers the check-out button."""

from __future__ import annotations

import asyncio
import html

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Location,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot.domain.charts import cjk_font_path
from bot.domain.errors import DomainError
from bot.domain.formatting import local_text
from bot.domain.records.pdf import PosterPage, poster_pdf, qr_png
from bot.domain.records.qr import IssuedCode, Scan
from bot.model.records import ScanOutcome
from handlers.activities.render import normalise_code, when_text
from handlers.context import BotContext, Ui
from handlers.flow import Flow, flow_of
from handlers.records.buttons import QrCheckoutTap

RENEW_WORDS = {"new", "renew", "换", "换码", "新", "新码"}
# Outcomes after which the volunteer may check out with a tap.
_CHECKOUT_OFFERED = (ScanOutcome.CHECKED_IN, ScanOutcome.ALREADY)


def scan_link(bot_username: str | None, issued: IssuedCode) -> str:
    return f"https://t.me/{bot_username}?start={issued.ticket.payload()}"


async def qr_command(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    args = context.args or []
    code = normalise_code(args[0]) if args else None
    if code is None:
        await ui.reply("records.qr_usage")
        return
    renew = len(args) > 1 and args[1].lower() in RENEW_WORDS
    issued = await ui.services.records.qr.code(ui.user_id, code, renew=renew)
    activity = issued.activity
    zone = ui.services.config.zone
    link = scan_link(ui.context.bot.username, issued)
    if issued.valid_until is None:
        validity = ui.t.raw("records.qr_valid_fixed", code=activity.code)
    else:
        validity = ui.t.raw(
            "records.qr_valid_until", until=local_text(issued.valid_until, zone, "%H:%M"), code=activity.code
        )
    png = await asyncio.to_thread(qr_png, link)
    caption = ui.t("records.qr_caption", title=activity.title, code=activity.code, validity=validity, link=link)
    await ui.context.bot.send_photo(ui.chat_id, png, caption=caption)
    plain = lambda key, **params: html.unescape(ui.t(key, **params))  # noqa: E731 - the PDF is not HTML
    page = PosterPage(
        title=plain("records.poster_title", title=activity.title),
        lines=(
            plain(
                "records.poster_when",
                when=html.unescape(when_text(ui.t, zone, activity.starts_at, activity.ends_at)),
                place=activity.place.text,
            ),
            activity.code,
        ),
        qr_url=link,
        note=plain("records.poster_note"),
    )
    pdf = await asyncio.to_thread(poster_pdf, page, cjk_font_path())
    await ui.context.bot.send_document(
        ui.chat_id, pdf, filename=plain("records.poster_file", code=activity.code) + ".pdf"
    )


def _checkout_markup(ui: Ui, scan: Scan) -> InlineKeyboardMarkup | None:
    if scan.outcome not in _CHECKOUT_OFFERED or scan.activity is None:
        return None
    button = InlineKeyboardButton(
        ui.t("records.button_checkout"), callback_data=QrCheckoutTap(activity=scan.activity.id).pack()
    )
    return InlineKeyboardMarkup([[button]])


async def tell_scan(ui: Ui, scan: Scan) -> None:
    activity = scan.activity
    zone = ui.services.config.zone
    params: dict[str, object] = {
        "title": activity.title if activity else "",
        "code": activity.code if activity else "",
        "time": local_text(scan.at, zone, "%H:%M") if scan.at else "",
        "distance": scan.distance_m or 0,
    }
    text = ui.t(f"records.scan_{scan.outcome.value}", **params)
    markup = _checkout_markup(ui, scan)
    if markup is None and scan.outcome not in (ScanOutcome.NEEDS_LOCATION, ScanOutcome.OUTSIDE_RADIUS):
        await ui.context.bot.send_message(ui.chat_id, text, reply_markup=ReplyKeyboardRemove())
        return
    await ui.send_text(text, markup)


class QrLocationFlow(Flow):
    """A scanned code for an activity with a radius: the location, then the check-in."""

    name = "qr"

    async def start(self, ui: Ui, payload: str = "", scan: Scan | None = None, **kwargs: object) -> None:
        await self.go(ui, "where", {"payload": payload})
        await self._ask(ui, scan or await ui.services.records.qr.scan(ui.user_id, payload))

    async def _ask(self, ui: Ui, scan: Scan) -> None:
        activity = scan.activity
        params: dict[str, object] = {"title": activity.title if activity else "", "distance": scan.distance_m or 0}
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(ui.t("records.button_send_location"), request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await ui.context.bot.send_message(
            ui.chat_id, ui.t(f"records.scan_{scan.outcome.value}", **params), reply_markup=keyboard
        )

    async def text_where(self, ui: Ui, data: dict, text: str) -> None:
        """Typed text instead of a location: say what is wanted, stay at this step."""
        raise DomainError("records.ask_location_again")

    async def location_where(self, ui: Ui, data: dict, location: Location) -> None:
        scan = await ui.services.records.qr.scan(
            ui.user_id, str(data["payload"]), (location.latitude, location.longitude)
        )
        if scan.outcome is ScanOutcome.OUTSIDE_RADIUS:
            await self._ask(ui, scan)  # still at this step: another try once there
            return
        await self.finish(ui)
        await tell_scan(ui, scan)


async def scanned(ui: Ui, context: BotContext, payload: str) -> None:
    """/start q_…: a scanned check-in code."""
    scan = await ui.services.records.qr.scan(ui.user_id, payload)
    if scan.outcome is ScanOutcome.NEEDS_LOCATION:
        await flow_of(context, QrLocationFlow).start(ui, payload=payload, scan=scan)
        return
    await tell_scan(ui, scan)


async def checkout_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    tap = QrCheckoutTap.unpack(ui.callback_data)
    await ui.answer()
    await tell_scan(ui, await ui.services.records.qr.check_out(ui.user_id, tap.activity))
