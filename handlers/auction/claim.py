"""The claim tap (the hot path) and the winner's release.

A claim tap (`ac:<session>:<wish>`, from the board or a private page) is answered first, with the
outcome; the winner's private message was queued in the outbox with the win itself (one
transaction: bot/domain/auction/claims.py) and goes out through the outbox's sender
(`render_won` words it then), so a tap never waits for other network calls and no crash after
the claim leaves a winner untold. The tapper's page is refreshed (page_refresh.py), at once after a lost
claim. The winner may release within 2 minutes (`ar:<wish>`): the button goes when the window
does (release_window.py), and a release refreshes the boards and the open pages. Every rule (who
is a cadre, caps, waves, windows) is the domain's (bot/domain/auction/): callback data is only a
request, re-checked there.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application

from bot.domain.errors import DomainError
from bot.domain.formatting import DATE, local_text
from bot.domain.services import Services
from bot.model.auction import Outcome
from bot.model.outbox import OutboxMessage
from bot.model.wish import wish_code
from handlers.context import BotContext, Ui, reader_translator, services_of
from handlers.gate import is_anonymous_admin
from handlers.i18n import Translator
from handlers.outbox import Rendered, Skip

from .buttons import ClaimTap, ReleaseTap
from .hub import refresh_board, refresh_live_boards
from .page_refresh import refresh_open_pages, refresh_tappers_page
from .release_window import forget_release_button, keep_release_button, take_off
from .texts import answer_refusal, category_label

# Refusals answered as an alert (the others as a toast).
_ALERTS = {
    Outcome.CAP_ORG,
    Outcome.CAP_PERSON,
    Outcome.NOT_CADRE,
    Outcome.NOT_LIVE,
    Outcome.CLOSED,
    Outcome.NOT_RELEASED,
    Outcome.NOT_A_LOT,
}
# Outcomes after which the tapper's own page is stale.
_PAGE_CHANGED = {Outcome.WON, Outcome.TAKEN, Outcome.ALREADY_YOURS, Outcome.CLOSED}


async def claim_button(update: Update, context: BotContext) -> None:
    """The hot path: claim, answer at once, then everything else without making the tap wait."""
    ui = Ui(update, context)
    values = ClaimTap.unpack(ui.callback_data)
    session_id, wish_id = values.session, values.wish
    if is_anonymous_admin(update):
        await ui.answer("auction.toast_anonymous", alert=True)
        return
    application = context.application
    try:
        outcome = await ui.services.auction.claim(ui.user_id, session_id, wish_id)
    except DomainError as error:
        await answer_refusal(ui, error)
        return
    kind = outcome.outcome
    code = outcome.wish.code if outcome.wish is not None else wish_code(wish_id)
    if kind is Outcome.WON:
        started = ui.is_private or await has_started(ui.services, ui.user_id)
        if started:  # the private message is on its way (queued with the claim)
            await ui.answer("auction.toast_won", code=code)
        else:
            await ui.answer("auction.toast_won_start_first", alert=True, code=code)
        await refresh_board(application, session_id)
    elif kind is Outcome.TAKEN:
        await ui.answer("auction.toast_taken", code=code, org=outcome.taken_by_org or "")
    elif kind in (Outcome.CAP_ORG, Outcome.CAP_PERSON):
        await ui.answer(f"auction.toast_{kind.value}", alert=True, count=outcome.cap or 0)
    else:
        await ui.answer(f"auction.toast_{kind.value}", alert=kind in _ALERTS, code=code)
    if kind in _PAGE_CHANGED:
        refresh_tappers_page(
            application, update, ui.t, ui.user_id, session_id, private=ui.is_private, prompt=kind is Outcome.TAKEN
        )


async def has_started(services: Services, user_id: int) -> bool:
    person = await services.people.get(user_id)
    return person is not None and person.started


def release_markup(t: Translator, wish_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("auction.button_release"), callback_data=ReleaseTap(wish=wish_id).pack())]]
    )


async def render_won(application: Application, message: OutboxMessage) -> Rendered | Skip:
    """The winner's private message (queued with the win): the public fields, the deadline (a
    date: the end of that day), what to do next, and the 释放 button while the release window
    lasts (taken off when it ends: release_window.py)."""
    services = services_of(application)
    user_id = message.chat_id
    wish = await services.wishes.get(message.param("wish"))
    if wish.claimed_by_user != user_id:
        return Skip("released before the message went out")
    person = await services.people.get(user_id)
    if person is None or not person.started:
        return Skip("never started the bot: told so by the tap's answer")
    collector = await services.orgs.get(wish.collector_org_id)
    claimer = await services.orgs.get(message.param("org"))
    t = reader_translator(services, person)
    text = t(
        "auction.won",
        code=wish.code,
        org=claimer.name,
        child=wish.public_label,
        collector=collector.name,
        text=wish.text,
        category=category_label(t, wish.category),
        value=wish.value_yuan,
        deadline=local_text(wish.deadline, services.config.zone, DATE) or "—",
    )
    until = services.auction.release_ends(wish)
    if until is None or until < services.clock.now():  # the window is over already: no button
        return Rendered(text)
    return Rendered(
        text + t("auction.won_release_hint"),
        release_markup(t, wish.id),
        after=lambda sent: keep_release_button(application, sent, until, text),
    )


async def release_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    wish_id = ReleaseTap.unpack(ui.callback_data).wish
    message = ui.query.message
    key = (message.chat_id, message.message_id) if isinstance(message, Message) else None
    try:
        change = await ui.services.auction.release(ui.user_id, wish_id)
    except DomainError as error:
        await answer_refusal(ui, error)
        shows_button = isinstance(message, Message) and message.reply_markup is not None
        if error.key == "wishes.release_too_late" and key is not None and shows_button:
            # A button left from before a restart, or tapped before the job took it off.
            button = forget_release_button(context.application, key)
            await take_off(context.application, key, button.text if button else None)
        return
    if key is not None:
        forget_release_button(context.application, key)
    await ui.answer("auction.toast_released", code=change.wish.code)
    await ui.edit("auction.released", code=change.wish.code)
    await refresh_live_boards(context.application)
    await refresh_open_pages(context.application)
