"""The claim tap (the hot path) and the winner's release.

A claim tap (`ac:<session>:<wish>`, from the board or a private page) is answered first, with the
outcome; the winner's private message goes out in a background task, so a tap never waits for
other network calls. A private page is refreshed for the person who tapped, never pushed to
everyone. The winner may release within 2 minutes (`ar:<wish>`). Every rule (who is a cadre,
caps, waves, windows) is the domain's (bot/domain/auction/): callback data is only a request,
re-checked there.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application

from bot.domain.errors import DomainError
from bot.domain.formatting import local_text
from bot.domain.services import Services
from bot.model.auction import Outcome
from bot.model.wish import Wish, wish_code
from handlers.context import BotContext, Ui, notify_user, reader_translator, services_of
from handlers.gate import is_anonymous_admin
from handlers.i18n import Translator

from .buttons import ClaimTap, ReleaseTap
from .hub import refresh_board, refresh_live_boards
from .page_refresh import schedule_page_refresh
from .state import auction_state, background
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
        if started:
            await ui.answer("auction.toast_won", code=code)
            if outcome.wish is not None:  # always, for a win: the wish as its claim left it
                won = send_won(application, ui.user_id, outcome.wish, outcome.org_id)
                background(application, auction_state(application).lane.urgent(won), update)
        else:
            await ui.answer("auction.toast_won_start_first", alert=True, code=code)
        await refresh_board(application, session_id)
    elif kind is Outcome.TAKEN:
        await ui.answer("auction.toast_taken", code=code, org=outcome.taken_by_org or "")
    elif kind in (Outcome.CAP_ORG, Outcome.CAP_PERSON):
        await ui.answer(f"auction.toast_{kind.value}", alert=True, count=outcome.cap or 0)
    else:
        await ui.answer(f"auction.toast_{kind.value}", alert=kind in _ALERTS, code=code)
    if ui.is_private and kind in _PAGE_CHANGED:
        schedule_page_refresh(application, ui, session_id)


async def has_started(services: Services, user_id: int) -> bool:
    person = await services.people.get(user_id)
    return person is not None and person.started


def release_markup(wish_id: int) -> Callable[[Translator], InlineKeyboardMarkup]:
    def build(t: Translator) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(t("auction.button_release"), callback_data=ReleaseTap(wish=wish_id).pack())]]
        )

    return build


async def send_won(application: Application, user_id: int, wish: Wish, org_id: int | None) -> None:
    """The winner's private message: the public fields, the deadline, what to do next."""
    services = services_of(application)
    collector = await services.orgs.get(wish.collector_org_id)
    claimer = await services.orgs.get(org_id) if org_id is not None else None
    person = await services.people.get(user_id)
    t = reader_translator(services, person)
    await notify_user(
        application,
        user_id,
        "auction.won",
        release_markup(wish.id),
        code=wish.code,
        org=claimer.name if claimer else "",
        child=wish.public_label,
        collector=collector.name,
        text=wish.text,
        category=category_label(t, wish.category),
        value=wish.value_yuan,
        deadline=local_text(wish.deadline, services.config.zone) or "—",
    )


async def release_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    wish_id = ReleaseTap.unpack(ui.callback_data).wish
    try:
        change = await ui.services.auction.release(ui.user_id, wish_id)
    except DomainError as error:
        await answer_refusal(ui, error)
        return
    await ui.answer("auction.toast_released", code=change.wish.code)
    await ui.edit("auction.released", code=change.wish.code)
    await refresh_live_boards(context.application)
