"""The hub: the announcement, the live board, the summary, and the repeating job that drives them.

`auction_tick` (the repeating job `auction:tick`, every 5 s) opens due sessions (posts the live
board into the hub and pins it where the bot may), keeps live boards true (waves, minutes left),
closes due sessions (final board without buttons, summary in the hub, the claims as an XLSX
file to the creator), and takes expired 释放 buttons off winners' messages (release_window.py).
The board is only ever edited through handlers/live_message.py (coalesced, at most ~10 edits a
minute in the hub, never an identical edit): a claim asks for a refresh, it never edits.
"""

from __future__ import annotations

import logging
import math

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, CallbackContext

from bot.domain.auction import CloseSummary
from bot.domain.errors import DomainError
from bot.domain.formatting import DATE, local_text
from bot.domain.services import Services
from bot.model.auction import AuctionSession, LotFilter
from handlers.context import best_effort, group_t, notify_user, reader_translator, services_of
from handlers.i18n import Raw
from handlers.live_message import View, request_refresh

from .buttons import ClaimTap
from .release_window import expire_release_buttons
from .state import auction_state, background
from .texts import deep_link, fingerprint, fit_lines, lot_label, rules_text, when_text

log = logging.getLogger(__name__)

TICK_JOB = "auction:tick"
TICK_SECONDS = 5
BOARD_BUTTON_LOTS = 30  # sessions up to this size also show claim buttons on the board
BOARD_CLOSE_FOLLOW = 60.0  # seconds a closed board is still refreshed (a late in-flight edit)
SUMMARY_ORGS = 60  # per-organisation lines in the summary; the rest as "and N more"


async def hub_chat_id(services: Services) -> int | None:
    hub = await services.groups.hub()
    return hub.chat_id if hub is not None and hub.active else None


async def announce(application: Application, session: AuctionSession) -> bool:
    """The announcement in the hub after creation; False when there is no hub or it failed."""
    services = services_of(application)
    chat_id = await hub_chat_id(services)
    if chat_id is None:
        return False
    t = group_t(services)
    text = t(
        "auction.announcement",
        title=session.title,
        when=Raw(when_text(t, services, session)),
        count=session.lot_count,
        rules=Raw(rules_text(t, services, session)),
    )
    sent = await best_effort(
        application.bot.send_message(chat_id, text), "auction %s not announced in the hub %s", session.id, chat_id
    )
    return sent is not None


async def board_view(application: Application, session_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The board's text and buttons as they should look now (a closed board has no buttons)."""
    services = services_of(application)
    t = group_t(services)
    state = await services.auction.board(session_id, services.clock.now())
    session = state.session
    live = session.live
    latest = [t("auction.board_latest_line", code=code, org=org) for code, org in state.latest]
    leaders = [
        t("auction.board_leader_line", rank=rank, org=org, count=count)
        for rank, (org, count) in enumerate(state.leaders, start=1)
    ]
    if live:
        header = t.raw("auction.board_header_live")
        timing = t.raw("auction.board_time_left", minutes=math.ceil(max(0, state.seconds_left) / 60))
    else:
        header = t.raw("auction.board_header_closed")
        timing = t.raw("auction.board_time_over")
    waiting = state.released < session.lot_count and live
    text = t(
        "auction.board",
        header=header,
        title=session.title,
        rules=Raw(rules_text(t, services, session)),
        claimed=state.claimed,
        left=state.left,
        total=session.lot_count,
        waiting=t.raw("auction.board_waiting", count=session.lot_count - state.released) if waiting else Raw(""),
        timing=timing,
        latest=Raw("\n".join(latest) if latest else t("auction.board_none_yet")),
        leaders=Raw("\n".join(leaders) if leaders else t("auction.board_none_yet")),
        footer=t.raw("auction.board_footer") if live else Raw(""),
    )
    if not live:
        return text, None
    rows = [[InlineKeyboardButton(t("auction.button_browse"), url=deep_link(application, session_id))]]
    if session.lot_count <= BOARD_BUTTON_LOTS:
        page = await services.auction.browse(session_id, 0, LotFilter(), 1, BOARD_BUTTON_LOTS)
        rows.extend(
            [InlineKeyboardButton(lot_label(t, wish), callback_data=ClaimTap(session=session_id, wish=wish.id).pack())]
            for wish in page.items
        )
    return text, InlineKeyboardMarkup(rows)


async def refresh_board(application: Application, session_id: int) -> None:
    """Ask for the board to show the truth; bursts of claims become one edit (live_message.py)."""

    async def render() -> list[View]:
        services = services_of(application)
        where = await services.auction.board_message(session_id)
        if where is None:
            return []
        text, markup = await board_view(application, session_id)
        shown = auction_state(application).boards_shown  # a render equal to what it shows edits nothing
        print_ = fingerprint(text, markup)
        if shown.get(session_id) == print_:
            return []
        shown[session_id] = print_
        return [(where[0], where[1], text, markup)]

    await request_refresh(application, f"auction:{session_id}", render)


async def refresh_live_boards(application: Application) -> None:
    """After a release or reassignment (the wish no longer names its session): every live board."""
    for session in await services_of(application).auction.live_sessions():
        await refresh_board(application, session.id)


async def open_session(application: Application, session: AuctionSession) -> None:
    """The start: post the live board into the hub and pin it (where the bot may)."""
    services = services_of(application)
    session = await services.auction.open(session.id)
    background(application, services.auction.warm_up(session.id), None)  # the first taps then wait for nothing
    chat_id = await hub_chat_id(services)
    if chat_id is None:
        log.warning("auction %s opened without a hub: no board posted", session.id)
        await notify_user(application, session.created_by, "auction.opened_no_hub", title=session.title)
        return
    text, markup = await board_view(application, session.id)
    message = await best_effort(
        application.bot.send_message(chat_id, text, reply_markup=markup),
        "auction %s board not posted in the hub %s",
        session.id,
        chat_id,
    )
    if message is None:
        await notify_user(application, session.created_by, "auction.opened_no_hub", title=session.title)
        return
    await services.auction.set_board(session.id, chat_id, message.message_id)
    auction_state(application).boards_shown[session.id] = fingerprint(text, markup)
    # "Not enough rights": the board still works unpinned.
    await best_effort(
        application.bot.pin_chat_message(chat_id, message.message_id, disable_notification=True),
        "auction %s board not pinned in %s",
        session.id,
        chat_id,
    )


async def close_session(application: Application, session_id: int, actor_id: int | None = None) -> CloseSummary:
    """The end: the board loses its buttons, the hub gets the summary, the creator the XLSX."""
    services = services_of(application)
    summary = await services.auction.close(actor_id, session_id)
    session = summary.session
    auction_state(application).boards_closing[session_id] = services.clock.monotonic()
    await refresh_board(application, session_id)
    t = group_t(services)
    chat_id = await hub_chat_id(services)
    if chat_id is not None:
        lines = [
            t("auction.summary_org_line", rank=rank, org=org, count=count)
            for rank, (org, count) in enumerate(summary.per_org, start=1)
        ]
        text = t(
            "auction.summary",
            title=session.title,
            claimed=summary.claimed,
            total=summary.total,
            minutes=summary.minutes,
            orgs=Raw("\n".join(fit_lines(t, lines, SUMMARY_ORGS)) if lines else t("auction.summary_no_claims")),
            unclaimed=summary.total - summary.claimed,
            deadline=local_text(session.fulfilment_deadline, services.config.zone, DATE),
        )
        await best_effort(
            application.bot.send_message(chat_id, text),
            "auction %s summary not posted in the hub %s",
            session_id,
            chat_id,
        )
    await send_claims_file(application, session)
    return summary


async def send_claims_file(application: Application, session: AuctionSession) -> None:
    services = services_of(application)
    person = await services.people.get(session.created_by)
    t = reader_translator(services, person)
    content = await services.auction.claims_xlsx(session.id, t, services.config.zone)
    await best_effort(
        application.bot.send_document(
            session.created_by,
            content,
            filename=t("auction.xlsx_name", id=session.id),
            caption=t("auction.xlsx_caption", title=session.title),
        ),
        "auction %s: the claims file not sent to its creator %s",
        session.id,
        session.created_by,
    )


# ---- the repeating job --------------------------------------------------------------------------
async def auction_tick(application: Application) -> None:
    """Open due sessions, keep live boards true, close due sessions, take the 释放 button off the
    winners' messages whose window has ended. Safe to run at any moment."""
    services = services_of(application)
    now = services.clock.now()
    expire_release_buttons(application)
    for session in await services.auction.due_to_open(now):
        try:
            await open_session(application, session)
        except DomainError as error:  # opened meanwhile (another tick), or cancelled
            log.info("auction %s not opened: %s", session.id, error.key)
    for session in await services.auction.live_sessions():
        await refresh_board(application, session.id)  # waves, minutes left: an edit only on change
    for session in await services.auction.due_to_close(now):
        try:
            await close_session(application, session.id)
        except DomainError as error:
            log.info("auction %s not closed: %s", session.id, error.key)
    closing = auction_state(application).boards_closing
    for session_id, since in list(closing.items()):
        # A refresh already rendered before the close may land after it: show the end again.
        if services.clock.monotonic() - since > BOARD_CLOSE_FOLLOW:
            del closing[session_id]
        else:
            await refresh_board(application, session_id)


async def _tick_job(context: CallbackContext) -> None:
    await auction_tick(context.application)


def start_auction_jobs(application: Application) -> None:
    """The one repeating job of the auction; replaced, never doubled, when called again."""
    queue = application.job_queue
    if queue is None:
        return
    for job in queue.get_jobs_by_name(TICK_JOB):
        job.schedule_removal()
    queue.run_repeating(_tick_job, interval=TICK_SECONDS, first=1, name=TICK_JOB)
