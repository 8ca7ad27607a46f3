"""The live wish auction (认领会) in Telegram: creating a session, the board in the hub, claiming.

- `/newauction` (county admins, private): a conversation that ends in `services.auction.create`
  and an announcement in the hub; the domain sets the reminders before the start.
- `auction_tick` (the repeating job `auction:tick`, every 5 s) opens due sessions (posts the
  live board into the hub and pins it where the bot may), keeps live boards true (waves,
  minutes left), and closes due sessions (final board without buttons, summary in the hub,
  the claims as an XLSX file to the creator).
- The board is only ever edited through handlers/live_message.py (coalesced, at most ~10 edits a
  minute in the hub, never an identical edit): a claim asks for a refresh, it never edits.
- Cadres browse the lots in private (`/start auc_<id>` from the board, or `/auction`): pages of
  8 lots with claim buttons and filters. Small sessions also show claim buttons on the board.
- A claim tap (`ac:<session>:<wish>`, from the board or a private page) is answered first, with
  the outcome; the winner's private message goes out in a background task, so a tap never waits
  for other network calls. A private page is refreshed for the person who tapped, never pushed
  to everyone.
- The winner may release within 2 minutes (`ar:<wish>`); county admins `/release` and
  `/reassign` with a reason. Every rule (who is a cadre, caps, waves, windows) is the domain's
  (bot/auction.py): callback data is only a request, re-checked there.

Privacy: the board, the announcement and the summary show only the wish code, "alias · grade",
the wish text and organisation names; the child's private details are reachable only through
`/wish W0012` (handlers/wishes.py), which checks who asks.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import html
import json
import logging
import math
import re
import time
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import Application, CallbackContext

from bot.domain.auction import BoardState, CloseSummary, LotSelection, SessionDraft
from bot.domain.errors import DomainError
from bot.domain.services import Services
from bot.model.auction import AuctionSession, LotFilter
from bot.model.wish import Wish, WishCategory, wish_code
from handlers.callback_data import CallbackData, CallbackDataError
from handlers.context import (
    BotContext,
    Ui,
    clean,
    group_t,
    is_not_modified,
    notify_user,
    reader_translator,
    services_of,
)
from handlers.flow import Flow, choice_id, flow_of, page_number
from handlers.gate import is_anonymous_admin
from handlers.i18n import Raw, Translator
from handlers.live_message import request_refresh
from handlers.scheduling import schedule_wake
from handlers.typed_time import parse_start

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimTap(CallbackData, prefix="ac"):
    session: int
    wish: int


@dataclass(frozen=True)
class ReleaseTap(CallbackData, prefix="ar"):
    """Private browsing: view l (the list) / r (the list again: the page's own 🔄 button, from which a"""

    wish: int


# claim tap also reads the page back) / c, o, g, v (the category, collector, grade, value
# pickers); the active filters as one token; the page (0-based).
@dataclass(frozen=True)
class BrowseTap(CallbackData, prefix="ab"):
    session: int
    view: str
    filters: str
    page: int


_VIEWS = ("l", "r", "c", "o", "g", "v")

TICK_JOB = "auction:tick"
TICK_SECONDS = 5
PAGE_SIZE = 8
PAGE_REFRESH_SECONDS = 10.0  # at most one refresh edit per private page in this time
PAGE_REFRESH_DELAY = 1.0  # a page is refreshed this long after the tap (see _PageRefresh)
PRIVATE_SENDS_AT_ONCE = 8  # the auction's private messages waiting at the rate limiter at once
LATER_POLL_SECONDS = 0.5
PICKER_PAGE_SIZE = 8
BOARD_BUTTON_LOTS = 30  # sessions up to this size also show claim buttons on the board
BOARD_CLOSE_FOLLOW = 60.0  # seconds a closed board is still refreshed (a late in-flight edit)
FACETS_SECONDS = 60.0  # how long the filter pickers' choices are reused
FACETS_PAGE = 50
SUMMARY_ORGS = 60  # per-organisation lines in the summary; the rest as "and N more"
LABEL_TEXT = 12  # characters of the wish text on a claim button
VALUE_BANDS: tuple[tuple[int | None, int | None], ...] = ((None, 50), (51, 100), (101, 200), (201, None))
DURATION_CHOICES = (15, 30, 45, 60)
DEFAULT_DURATION = 30
DEFAULT_DEADLINE_DAYS = 14
_RANGE = re.compile(r"(\d{1,6})?\s*(?:-|~|～|—|到|至)\s*(\d{1,6})?")


# ---- small helpers ---------------------------------------------------------------------------


def local_text(services: Services, moment: datetime, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(services.config.zone).strftime(pattern)


def category_label(t: Translator, category: WishCategory | str) -> str:
    return t(f"wishes.category.{WishCategory(category).value}")


def band_label(t: Translator, band: int) -> str:
    low, high = VALUE_BANDS[band]
    if low is None:
        return t("auction.band_upto", max=high)
    if high is None:
        return t("auction.band_over", min=low)
    return t("auction.band_between", min=low, max=high)


def fingerprint(text: str, markup: InlineKeyboardMarkup | None) -> str:
    return text + "\x00" + json.dumps(markup.to_dict() if markup else None, sort_keys=True)


_TAG = re.compile(r"<[^>]+>")


def shows(message: Message | None, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Whether a message already shows this HTML text and keyboard (an edit would be refused)."""
    if message is None or message.text is None:
        return False
    plain = html.unescape(_TAG.sub("", text))
    current = message.reply_markup.to_dict() if message.reply_markup else None
    wanted = markup.to_dict() if markup else None
    return plain.strip() == message.text.strip() and json.dumps(current, sort_keys=True) == json.dumps(
        wanted, sort_keys=True
    )


def fit_lines(t: Translator, lines: list[str], limit: int) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], t("auction.lines_more", count=len(lines) - limit)]


def rules_text(t: Translator, services: Services, session: AuctionSession) -> str:
    parts = [
        t("auction.rule_cap_org", count=session.cap_per_org) if session.cap_per_org else t("auction.rule_cap_org_none"),
        t("auction.rule_cap_person", count=session.cap_per_person)
        if session.cap_per_person
        else t("auction.rule_cap_person_none"),
        t("auction.rule_deadline", deadline=local_text(services, session.fulfilment_deadline, "%Y-%m-%d")),
    ]
    if session.wave_size and session.wave_every_minutes:
        parts.append(t("auction.rule_waves", size=session.wave_size, every=session.wave_every_minutes))
    return t("auction.rule_separator").join(parts)


def when_text(t: Translator, services: Services, session: AuctionSession) -> str:
    start = session.starts_at.astimezone(services.config.zone)
    end = session.ends_at.astimezone(services.config.zone)
    minutes = round((session.ends_at - session.starts_at).total_seconds() / 60)
    return t(
        "auction.when",
        date=f"{start:%Y-%m-%d}",
        weekday=t(f"schedule.weekday_{start.weekday()}"),
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
        minutes=minutes,
    )


def lot_label(t: Translator, wish: Wish) -> str:
    text = wish.text if len(wish.text) <= LABEL_TEXT else wish.text[: LABEL_TEXT - 1] + "…"
    return t("auction.button_claim", code=wish.code, text=text, value=wish.value_yuan)


def deep_link(application: Application, session_id: int) -> str:
    return f"https://t.me/{application.bot.username}?start=auc_{session_id}"


# ---- the hub: announcement, board, summary ----------------------------------------------------
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
    try:
        await application.bot.send_message(chat_id, text)
    except (BadRequest, ChatMigrated, Forbidden) as error:
        log.warning("auction %s not announced in the hub %s: %s", session.id, chat_id, error)
        return False
    return True


async def board_view(application: Application, session_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The board's text and buttons as they should look now (a closed board has no buttons)."""
    services = services_of(application)
    t = group_t(services)
    state: BoardState = await services.auction.board(session_id, services.clock.now())
    session = state.session
    live = session.state == "live"
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


def _boards_shown(application: Application) -> dict[int, str]:
    """What each board shows (or was last asked to show): a render equal to it edits nothing."""
    return application.bot_data.setdefault("auction_boards_shown", {})


def _boards_closing(application: Application) -> dict[int, float]:
    return application.bot_data.setdefault("auction_boards_closing", {})


async def refresh_board(application: Application, session_id: int) -> None:
    """Ask for the board to show the truth; bursts of claims become one edit (live_message.py)."""

    async def render() -> list[tuple[int, int, str, InlineKeyboardMarkup | None]]:
        services = services_of(application)
        where = await services.auction.board_message(session_id)
        if where is None:
            return []
        text, markup = await board_view(application, session_id)
        shown = _boards_shown(application)
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
    try:
        message = await application.bot.send_message(chat_id, text, reply_markup=markup)
    except (BadRequest, ChatMigrated, Forbidden) as error:
        log.warning("auction %s board not posted in the hub %s: %s", session.id, chat_id, error)
        await notify_user(application, session.created_by, "auction.opened_no_hub", title=session.title)
        return
    await services.auction.set_board(session.id, chat_id, message.message_id)
    _boards_shown(application)[session.id] = fingerprint(text, markup)
    try:
        await application.bot.pin_chat_message(chat_id, message.message_id, disable_notification=True)
    except (BadRequest, Forbidden) as error:  # "not enough rights": the board still works unpinned
        log.info("auction %s board not pinned in %s: %s", session.id, chat_id, error)


async def close_session(application: Application, session_id: int, actor_id: int | None = None) -> CloseSummary:
    """The end: the board loses its buttons, the hub gets the summary, the creator the XLSX."""
    services = services_of(application)
    summary = await services.auction.close(actor_id, session_id)
    session = summary.session
    _boards_closing(application)[session_id] = time.monotonic()
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
            deadline=local_text(services, session.fulfilment_deadline, "%Y-%m-%d"),
        )
        try:
            await application.bot.send_message(chat_id, text)
        except (BadRequest, ChatMigrated, Forbidden) as error:
            log.warning("auction %s summary not posted in the hub %s: %s", session_id, chat_id, error)
    await send_claims_file(application, session)
    return summary


async def send_claims_file(application: Application, session: AuctionSession) -> None:
    services = services_of(application)
    person = await services.people.get(session.created_by)
    t = reader_translator(services, person)
    content = await services.auction.claims_xlsx(session.id, t, services.config.zone)
    try:
        await application.bot.send_document(
            session.created_by,
            content,
            filename=t("auction.xlsx_name", id=session.id),
            caption=t("auction.xlsx_caption", title=session.title),
        )
    except (BadRequest, Forbidden) as error:
        log.warning("auction %s: the claims file not sent to its creator %s: %s", session.id, session.created_by, error)


# ---- the repeating job --------------------------------------------------------------------------
async def auction_tick(application: Application) -> None:
    """Open due sessions, keep live boards true, close due sessions. Safe to run at any moment."""
    services = services_of(application)
    now = services.clock.now()
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
    closing = _boards_closing(application)
    for session_id, since in list(closing.items()):
        # A refresh already rendered before the close may land after it: show the end again.
        if time.monotonic() - since > BOARD_CLOSE_FOLLOW:
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


# ---- claiming --------------------------------------------------------------------------------------
_OUTCOME_ALERT = {"cap_org", "cap_person", "not_cadre", "not_live", "closed", "not_released", "not_a_lot"}


async def claim_button(update: Update, context: BotContext) -> None:
    """The hot path: claim, answer at once, then everything else without making the tap wait."""
    ui = Ui(update, context)
    values = ClaimTap.unpack(update.callback_query.data)
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
    if kind == "won":
        started = ui.is_private or await has_started(ui.services, ui.user_id)
        if started:
            await ui.answer("auction.toast_won", code=code)
            background(
                application,
                private_lane(application).urgent(send_won(application, ui.user_id, outcome.wish, outcome.org_id)),
                update,
            )
        else:
            await ui.answer("auction.toast_won_start_first", alert=True, code=code)
        await refresh_board(application, session_id)
    elif kind == "taken":
        await ui.answer("auction.toast_taken", code=code, org=outcome.taken_by_org or "")
    elif kind in ("cap_org", "cap_person"):
        await ui.answer(f"auction.toast_{kind}", alert=True, count=outcome.cap or 0)
    else:
        await ui.answer(f"auction.toast_{kind}", alert=kind in _OUTCOME_ALERT, code=code)
    if ui.is_private and kind in ("won", "taken", "already_yours", "closed"):
        schedule_page_refresh(application, ui, session_id)


class PrivateLane:
    """The auction's private messages go out a few at a time, winners' messages first.

    The bot's ~30 messages a second are admitted first come, first served (bot/rate_limit.py).
    Queued all at once, a burst of 400 winners' messages would hold the board's next edit back
    for a quarter of a minute; a few at a time, the board waits behind at most `width` of them.
    Page refreshes wait while winners' messages are pending."""

    def __init__(self, width: int) -> None:
        self.slots = asyncio.Semaphore(width)
        self.pending_urgent = 0

    async def urgent(self, coroutine: Coroutine) -> None:
        self.pending_urgent += 1
        try:
            async with self.slots:
                await coroutine
        finally:
            self.pending_urgent -= 1

    async def quiet(self) -> None:
        """Wait until no winner's message is pending (then take a slot for something else)."""
        while self.pending_urgent:
            await asyncio.sleep(LATER_POLL_SECONDS)


def private_lane(application: Application) -> PrivateLane:
    return application.bot_data.setdefault("auction_private_lane", PrivateLane(PRIVATE_SENDS_AT_ONCE))


def background(application: Application, coroutine: Coroutine, update: Update | None) -> None:
    """Network work a tap must not wait for (the winner's message, a page refresh).

    PTB's create_task: errors reach the error handlers and `Application.stop` waits for it.
    Tests drive updates without starting the application; there the task is only tracked, and
    `settle` waits for it (and raises what it raised)."""
    tasks: set[asyncio.Task] = application.bot_data.setdefault("auction_tasks", set())
    if application.running:
        task = application.create_task(coroutine, update=update)
    else:
        task = asyncio.get_running_loop().create_task(coroutine)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def settle(application: Application) -> None:
    """Wait until the background work of taps is done."""
    tasks: set[asyncio.Task] = application.bot_data.setdefault("auction_tasks", set())
    while tasks:
        await asyncio.gather(*list(tasks))


async def answer_refusal(ui: Ui, error: DomainError) -> None:
    """A refusal as the tap's answer (an alert holds at most 200 characters)."""
    await ui.update.callback_query.answer(ui.t(error.key, **error.params)[:200], show_alert=True)


async def has_started(services: Services, user_id: int) -> bool:
    person = await services.people.get(user_id)
    return person is not None and person.started


def release_markup(wish_id: int):
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
    deadline = wish.deadline
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
        deadline=local_text(services, deadline, "%Y-%m-%d %H:%M") if deadline else "—",
    )


async def release_button(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    wish_id = ReleaseTap.unpack(update.callback_query.data).wish
    try:
        change = await ui.services.auction.release(ui.user_id, wish_id)
    except DomainError as error:
        await answer_refusal(ui, error)
        return
    await ui.answer("auction.toast_released", code=change.wish.code)
    await ui.edit("auction.released", code=change.wish.code)
    await refresh_live_boards(context.application)


# ---- private browsing -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    """The filters of one person's browsing page, packed into one callback token."""

    category: WishCategory | None = None
    collector: int | None = None
    grade: str | None = None
    band: int | None = None

    @property
    def empty(self) -> bool:
        return self == Filters()

    def token(self) -> str:
        parts = []
        if self.category is not None:
            parts.append("c" + self.category.value)
        if self.collector is not None:
            parts.append(f"o{self.collector}")
        if self.band is not None:
            parts.append(f"v{self.band}")
        if self.grade is not None:
            parts.append("g" + base64.urlsafe_b64encode(self.grade.encode()).decode().rstrip("="))
        return "-".join(parts) or "x"

    @classmethod
    def parse(cls, token: str) -> Filters:
        """From a callback token; anything unreadable is refused like an expired button."""
        filters = cls()
        if token == "x":
            return filters
        try:
            for part in token.split("-"):
                kind, value = part[:1], part[1:]
                if kind == "c":
                    filters = replace(filters, category=WishCategory(value))
                elif kind == "o" and value.isdigit():
                    filters = replace(filters, collector=int(value))
                elif kind == "v" and value.isdigit() and int(value) < len(VALUE_BANDS):
                    filters = replace(filters, band=int(value))
                elif kind == "g" and value:
                    grade = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
                    filters = replace(filters, grade=grade)
                else:
                    raise ValueError(part)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise DomainError("common.button_expired") from None
        return filters

    def lot_filter(self) -> LotFilter:
        low, high = VALUE_BANDS[self.band] if self.band is not None else (None, None)
        return LotFilter(
            category=self.category, collector_org_id=self.collector, grade=self.grade, min_value=low, max_value=high
        )


def browse_button(label: str, session_id: int, view: str, filters: Filters, page: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=BrowseTap(session=session_id, view=view, filters=filters.token(), page=page).pack()
    )


async def filter_note(t: Translator, services: Services, filters: Filters) -> str:
    parts = []
    if filters.category is not None:
        parts.append(category_label(t, filters.category))
    if filters.collector is not None:
        parts.append((await services.orgs.get(filters.collector)).name)
    if filters.grade is not None:
        parts.append(filters.grade)
    if filters.band is not None:
        parts.append(band_label(t, filters.band))
    return t("auction.browse_filtered", filters=t("auction.rule_separator").join(parts)) if parts else ""


async def page_view(
    services: Services, t: Translator, session_id: int, filters: Filters, page: int, user_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of released, still open lots with claim buttons, filters and ◀ ▶."""
    session = await services.auction.get(session_id)
    if session.state == "scheduled":
        return t("auction.browse_not_started", title=session.title, when=Raw(when_text(t, services, session))), None
    if session.state != "live":
        return t("auction.browse_closed", title=session.title), None
    lots = await services.auction.browse(session_id, user_id, filters.lot_filter(), page + 1, PAGE_SIZE)
    page = lots.page - 1
    collectors = {
        org_id: (await services.orgs.get(org_id)).name for org_id in {wish.collector_org_id for wish in lots.items}
    }
    lines = [
        t(
            "auction.browse_line",
            code=wish.code,
            child=wish.public_label,
            text=wish.text,
            category=category_label(t, wish.category),
            value=wish.value_yuan,
            collector=collectors[wish.collector_org_id],
        )
        for wish in lots.items
    ]
    note = await filter_note(t, services, filters)
    text = t(
        "auction.browse",
        title=session.title,
        total=lots.total,
        page=page + 1,
        pages=lots.pages,
        filtered=note,
        lines=Raw("\n".join(lines) if lines else t("auction.browse_empty")),
    )
    rows = [
        [InlineKeyboardButton(lot_label(t, wish), callback_data=ClaimTap(session=session_id, wish=wish.id).pack())]
        for wish in lots.items
    ]
    navigation = []
    if page > 0:
        navigation.append(browse_button(t("common.button_previous"), session_id, "l", filters, page - 1))
    navigation.append(browse_button(t("auction.button_refresh"), session_id, "r", filters, page))
    if page < lots.pages - 1:
        navigation.append(browse_button(t("common.button_next"), session_id, "l", filters, page + 1))
    rows.append(navigation)
    rows.append(
        [
            browse_button(t("auction.button_filter_category"), session_id, "c", filters, 0),
            browse_button(t("auction.button_filter_collector"), session_id, "o", filters, 0),
        ]
    )
    rows.append(
        [
            browse_button(t("auction.button_filter_grade"), session_id, "g", filters, 0),
            browse_button(t("auction.button_filter_value"), session_id, "v", filters, 0),
        ]
    )
    if not filters.empty:
        rows.append([browse_button(t("auction.button_filter_clear"), session_id, "l", Filters(), 0)])
    return text, InlineKeyboardMarkup(rows)


async def picker_view(
    application: Application, t: Translator, session_id: int, view: str, filters: Filters, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """Choose one filter value; every choice leads back to the first page of the list."""
    services = services_of(application)
    session = await services.auction.get(session_id)
    rows: list[list[InlineKeyboardButton]] = []
    if view == "c":
        choices = [(category_label(t, category), replace(filters, category=category)) for category in WishCategory]
        any_filter = replace(filters, category=None)
    elif view == "v":
        choices = [(band_label(t, band), replace(filters, band=band)) for band in range(len(VALUE_BANDS))]
        any_filter = replace(filters, band=None)
    else:
        collectors, grades = await facets(application, session_id)
        if view == "o":
            choices = [(name, replace(filters, collector=org_id)) for org_id, name in collectors]
            any_filter = replace(filters, collector=None)
        else:
            choices = [(grade, replace(filters, grade=grade)) for grade in grades]
            any_filter = replace(filters, grade=None)
    pages = max(1, math.ceil(len(choices) / PICKER_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    for label, chosen in choices[page * PICKER_PAGE_SIZE : (page + 1) * PICKER_PAGE_SIZE]:
        try:
            rows.append([browse_button(label, session_id, "l", chosen, 0)])
        except CallbackDataError:  # an unusually long grade: it cannot be a filter button
            continue
    navigation = []
    if page > 0:
        navigation.append(browse_button(t("common.button_previous"), session_id, view, filters, page - 1))
    if page < pages - 1:
        navigation.append(browse_button(t("common.button_next"), session_id, view, filters, page + 1))
    if navigation:
        rows.append(navigation)
    rows.append([browse_button(t("auction.button_filter_any"), session_id, "l", any_filter, 0)])
    return t(f"auction.pick_{view}", title=session.title), InlineKeyboardMarkup(rows)


Facets = tuple[tuple[tuple[int, str], ...], tuple[str, ...]]


async def facets(application: Application, session_id: int) -> Facets:
    """The collecting organisations and grades among the open released lots, for the filter
    pickers; read page by page, kept for FACETS_SECONDS (a value gone meanwhile just filters
    to an empty page)."""
    services = services_of(application)
    cache: dict[int, tuple[float, Facets]] = application.bot_data.setdefault("auction_facets", {})
    cached = cache.get(session_id)
    if cached is not None and time.monotonic() - cached[0] < FACETS_SECONDS:
        return cached[1]
    collector_ids: dict[int, None] = {}
    grades: dict[str, None] = {}
    page, pages = 1, 1
    while page <= pages:
        lots = await services.auction.browse(session_id, 0, LotFilter(), page, FACETS_PAGE)
        for wish in lots.items:
            collector_ids.setdefault(wish.collector_org_id)
            grades.setdefault(wish.grade)
        page, pages = page + 1, lots.pages
    names = [(org_id, (await services.orgs.get(org_id)).name) for org_id in collector_ids]
    found = (tuple(sorted(names, key=lambda item: item[1])), tuple(sorted(grades)))
    cache[session_id] = (time.monotonic(), found)
    return found


PAGES_REMEMBERED = 5000


def _pages_shown(application: Application) -> dict[tuple[int, int], str]:
    """What each private page shows, so a refresh never repeats it; the oldest are forgotten."""
    shown: dict[tuple[int, int], str] = application.bot_data.setdefault("auction_pages_shown", {})
    if len(shown) > PAGES_REMEMBERED:
        for key in list(shown)[: len(shown) - PAGES_REMEMBERED // 2]:
            del shown[key]
    return shown


async def start_browsing(ui: Ui, session_id: int) -> None:
    """`/start auc_<id>` (the board's button) and `/auction`: a new browsing page."""
    await ui.services.conversations.clear(ui.user_id)
    text, markup = await page_view(ui.services, ui.t, session_id, Filters(), 0, ui.user_id)
    message = await ui.send_text(text, markup)
    _pages_shown(ui.context.application)[(message.chat_id, message.message_id)] = fingerprint(text, markup)


async def auction_command(update: Update, context: BotContext) -> None:
    """/auction: the live session's lots; otherwise when the next one starts."""
    ui = Ui(update, context)
    live = await ui.services.auction.live_sessions()
    if len(live) == 1:
        await start_browsing(ui, live[0].id)
        return
    if live:
        rows = [[browse_button(session.title, session.id, "l", Filters(), 0)] for session in live]
        await ui.reply("auction.pick_session", InlineKeyboardMarkup(rows))
        return
    upcoming = await ui.services.auction.upcoming_sessions()
    if upcoming:
        session = upcoming[0]
        await ui.reply("auction.none_live_next", title=session.title, when=Raw(when_text(ui.t, ui.services, session)))
        return
    await ui.reply("auction.none_live")


async def browse_button_tapped(update: Update, context: BotContext) -> None:
    ui = Ui(update, context)
    values = BrowseTap.unpack(update.callback_query.data)
    view, session_id = values.view, values.session
    if view not in _VIEWS or values.page < 0:
        await ui.answer("common.button_expired", alert=True)
        return
    try:
        filters = Filters.parse(values.filters)
        if view in ("l", "r"):
            text, markup = await page_view(ui.services, ui.t, session_id, filters, values.page, ui.user_id)
        else:
            text, markup = await picker_view(context.application, ui.t, session_id, view, filters, values.page)
    except DomainError as error:
        await answer_refusal(ui, error)
        return
    message = update.callback_query.message
    if not ui.is_private or not isinstance(message, Message):
        # A page button is only ever on a private page; elsewhere, start a fresh page.
        await ui.answer()
        return
    shown = _pages_shown(context.application)
    key = (message.chat_id, message.message_id)
    print_ = fingerprint(text, markup)
    if shown.get(key) == print_ or (key not in shown and shows(message, text, markup)):
        await ui.answer("auction.toast_up_to_date")
        shown[key] = print_
        return
    await ui.answer()
    shown[key] = print_
    await ui.edit_text(text, markup)


def _page_state(message: Message | None) -> tuple[Filters, int]:
    """The filters and page of a browsing page, read back from its own ⟳ button."""
    if message is None or message.reply_markup is None:
        return Filters(), 0
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            data = button.callback_data
            if isinstance(data, str) and data.startswith("ab:"):
                try:
                    values = BrowseTap.unpack(data)
                    if values.view == "r":
                        return Filters.parse(values.filters), values.page
                except (CallbackDataError, DomainError):
                    continue
    return Filters(), 0


class _PageRefresh:
    """Pending refreshes of private pages after claims: one at a time per page, newest wins, and
    at most one edit per page every `interval` seconds. Edits count against the bot's overall
    ~30 messages a second, which the winners' messages and the board need more.

    A refresh waits `delay` seconds first: quick taps on one page become one edit, and in a rush
    the page's reads do not queue at the database ahead of the claims being committed."""

    def __init__(self, interval: float, delay: float) -> None:
        self.interval = interval
        self.delay = delay
        self.pending: dict[tuple[int, int], tuple] = {}
        self.running: set[tuple[int, int]] = set()
        self.last_edit: dict[tuple[int, int], float] = {}


def schedule_page_refresh(application: Application, ui: Ui, session_id: int) -> None:
    """Refresh the tapper's own page in the background (the lot they tapped is stale there)."""
    message = ui.update.callback_query.message
    if not isinstance(message, Message):
        return
    refresher: _PageRefresh | None = application.bot_data.get("auction_page_refresh")
    if refresher is None:
        refresher = application.bot_data["auction_page_refresh"] = _PageRefresh(
            PAGE_REFRESH_SECONDS, PAGE_REFRESH_DELAY
        )
    key = (message.chat_id, message.message_id)
    # The page's filters are read back from its buttons when it is refreshed, not on every tap.
    refresher.pending[key] = (session_id, ui.t, ui.user_id, message)
    if key in refresher.running:
        return
    refresher.running.add(key)
    background(application, _refresh_pages(application, refresher, key), ui.update)


async def _refresh_pages(application: Application, refresher: _PageRefresh, key: tuple[int, int]) -> None:
    lane = private_lane(application)
    try:
        while key in refresher.pending:
            now = time.monotonic()
            pause = max(refresher.delay, refresher.last_edit.get(key, float("-inf")) + refresher.interval - now)
            await asyncio.sleep(pause)  # taps meanwhile only replace what is pending
            await lane.quiet()
            async with lane.slots:
                await _refresh_page(application, refresher, key)
    finally:
        refresher.running.discard(key)
        if len(refresher.last_edit) > PAGES_REMEMBERED:
            refresher.last_edit.clear()


async def _refresh_page(application: Application, refresher: _PageRefresh, key: tuple[int, int]) -> None:
    session_id, t, user_id, message = refresher.pending.pop(key)
    filters, page = _page_state(message)
    text, markup = await page_view(services_of(application), t, session_id, filters, page, user_id)
    shown = _pages_shown(application)
    print_ = fingerprint(text, markup)
    if shown.get(key) == print_ or (key not in shown and shows(message, text, markup)):
        shown[key] = print_
        return
    shown[key] = print_
    refresher.last_edit[key] = time.monotonic()
    try:
        await application.bot.edit_message_text(text, chat_id=key[0], message_id=key[1], reply_markup=markup)
    except BadRequest as error:
        if not is_not_modified(error):
            log.info("browsing page %s not refreshed: %s", key, error)
    except Forbidden as error:
        log.info("browsing page %s not refreshed: %s", key, error)


# ---- county admins: /release and /reassign ---------------------------------------------------------
async def claiming_org(services: Services, user_id: int) -> int | None:
    """The organisation a person claims for: the domain's own rule (bot/auction.py), so a
    reassigned claim lands where that person's own tap would have put it."""
    return await services.auction.claiming_org(user_id)


async def release_command(update: Update, context: BotContext) -> None:
    """/release W0012 原因"""
    ui = Ui(update, context)
    if len(context.args) < 2:
        await ui.reply("auction.release_usage")
        return
    wish = await ui.services.wishes.by_code(context.args[0])
    change = await ui.services.auction.admin_release(ui.user_id, wish.id, " ".join(context.args[1:]))
    reason = " ".join(context.args[1:])
    await ui.reply("auction.admin_released", code=change.wish.code)
    await notify_user(
        context.application, change.previous_user, "auction.released_by_admin", code=change.wish.code, reason=reason
    )
    await refresh_live_boards(context.application)


async def reassign_command(update: Update, context: BotContext) -> None:
    """/reassign W0012 @user 原因"""
    ui = Ui(update, context)
    if len(context.args) < 3:
        await ui.reply("auction.reassign_usage")
        return
    wish = await ui.services.wishes.by_code(context.args[0])
    person = await ui.services.people.find(context.args[1])
    reason = " ".join(context.args[2:])
    org_id = await claiming_org(ui.services, person.user_id)
    if org_id is None:
        raise DomainError("auction.reassign_not_cadre", name=person.display_name)
    change = await ui.services.auction.reassign(ui.user_id, wish.id, person.user_id, org_id, reason)
    org = await ui.services.orgs.get(org_id)
    await ui.reply("auction.admin_reassigned", code=change.wish.code, name=person.display_name, org=org.name)
    await notify_user(
        context.application, change.previous_user, "auction.reassigned_from_you", code=change.wish.code, reason=reason
    )
    await notify_user(
        context.application,
        person.user_id,
        "auction.reassigned_to_you",
        code=change.wish.code,
        org=org.name,
        text=change.wish.text,
        child=change.wish.public_label,
        deadline=local_text(ui.services, change.wish.deadline, "%Y-%m-%d %H:%M") if change.wish.deadline else "—",
    )
    await refresh_live_boards(context.application)


# ---- /newauction -----------------------------------------------------------------------------------
_UNITS = ("分钟", "minutes", "minute", "mins", "min", "分", "个", "天", "days", "day", "人")
_NO_CAP_WORDS = ("不限", "无", "没有", "none", "no", "-")


def without_unit(text: str) -> str:
    """ "45分钟", "20个", "14天" → "45", "20", "14": the domain's checks then read the number."""
    typed = clean(text).lower()
    for unit in _UNITS:
        if typed.endswith(unit):
            return typed.removesuffix(unit).strip()
    return typed


class NewAuctionFlow(Flow):
    """Title → start → duration → lots → cap per org → cap per person → deadline → waves → confirm."""

    name = "au"

    def cancel_markup(self, ui: Ui) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([self.cancel_row(ui)])

    async def start(self, ui: Ui, **kwargs: object) -> None:
        await ui.services.permissions.require_county_admin(ui.user_id)
        if await hub_chat_id(ui.services) is None:
            await self.finish(ui)
            await ui.reply("auction.new_no_hub")
            return
        await self.go(ui, "title", {})
        await ui.reply("auction.ask_title", self.cancel_markup(ui))

    async def text_title(self, ui: Ui, data: dict, text: str) -> None:
        title = ui.services.auction.check_title(clean(text))
        await self.go(ui, "start", {"title": title})
        await ui.reply("auction.ask_start", self.cancel_markup(ui), title=title)

    async def text_start(self, ui: Ui, data: dict, text: str) -> None:
        starts_at = parse_start(ui, text, "auction")
        await self.go(ui, "duration", {**data, "starts_at": starts_at.isoformat()})
        buttons = [
            self.choice(
                ui,
                "duration",
                minutes,
                "auction.button_duration_default" if minutes == DEFAULT_DURATION else "auction.button_duration",
                minutes=minutes,
            )
            for minutes in DURATION_CHOICES
        ]
        await ui.reply(
            "auction.ask_duration",
            InlineKeyboardMarkup([buttons, self.cancel_row(ui)]),
            when=local_text(ui.services, starts_at),
            default=DEFAULT_DURATION,
        )

    async def choice_duration(self, ui: Ui, data: dict, value: str) -> None:
        await self._duration(ui, data, choice_id(value))

    async def text_duration(self, ui: Ui, data: dict, text: str) -> None:
        await self._duration(ui, data, without_unit(text))

    async def _duration(self, ui: Ui, data: dict, minutes: int | str) -> None:
        await self._ask_lots(ui, {**data, "duration": ui.services.auction.check_duration(minutes)})

    async def _ask_lots(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "lots", data)
        count = await ui.services.auction.preview(LotSelection())
        markup = InlineKeyboardMarkup(
            [
                [self.choice(ui, "lots", "all", "auction.button_lots_all", count=count)],
                [
                    self.choice(ui, "lots", "org", "auction.button_lots_org"),
                    self.choice(ui, "lots", "category", "auction.button_lots_category"),
                ],
                [
                    self.choice(ui, "lots", "value", "auction.button_lots_value"),
                    self.choice(ui, "lots", "codes", "auction.button_lots_codes"),
                ],
                self.cancel_row(ui),
            ]
        )
        await ui.reply("auction.ask_lots", markup, count=count)

    async def choice_lots(self, ui: Ui, data: dict, value: str) -> None:
        if value == "all":
            await self._selected(ui, data, LotSelection())
        elif value == "org":
            await self.go(ui, "lots_org", data)
            await ui.edit("auction.ask_lots_org", self.paged(ui, "lots_org", await self._orgs(ui), 0))
        elif value == "category":
            await self.go(ui, "lots_category", data)
            buttons = [
                self.button(ui, "lots_category", category.value, category_label(ui.t, category))
                for category in WishCategory
            ]
            rows = [buttons[index : index + 2] for index in range(0, len(buttons), 2)]
            await ui.edit("auction.ask_lots_category", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]))
        elif value == "value":
            await self.go(ui, "lots_value", data)
            rows = [[self.button(ui, "lots_value", band, band_label(ui.t, band))] for band in range(len(VALUE_BANDS))]
            await ui.edit("auction.ask_lots_value", InlineKeyboardMarkup([*rows, self.cancel_row(ui)]))
        elif value == "codes":
            await self.go(ui, "lots_codes", data)
            await ui.edit("auction.ask_lots_codes", self.cancel_markup(ui))
        else:
            raise DomainError("common.button_expired")

    async def text_lots(self, ui: Ui, data: dict, text: str) -> None:
        raise DomainError("auction.lots_tap")

    async def _orgs(self, ui: Ui, search: str | None = None) -> list[tuple[int, str]]:
        orgs = await (ui.services.orgs.search(search, limit=40) if search else ui.services.orgs.list())
        return [(org.id, org.name) for org in orgs]

    async def choice_lots_org(self, ui: Ui, data: dict, value: str) -> None:
        page = page_number(value)
        if page is not None:
            await ui.edit("auction.ask_lots_org", self.paged(ui, "lots_org", await self._orgs(ui), page))
            return
        org = await ui.services.orgs.get(choice_id(value))
        await self._selected(ui, data, LotSelection(all_open=False, collector_org_ids=(org.id,)), note=org.name)

    async def text_lots_org(self, ui: Ui, data: dict, text: str) -> None:
        search = clean(text)[:30]
        found = await self._orgs(ui, search)
        if not found:
            raise DomainError("auction.org_search_nothing", text=search)
        await ui.reply("auction.org_search_results", self.paged(ui, "lots_org", found, 0), count=len(found))

    async def choice_lots_category(self, ui: Ui, data: dict, value: str) -> None:
        try:
            category = WishCategory(value)
        except ValueError:
            raise DomainError("common.button_expired") from None
        await self._selected(
            ui, data, LotSelection(all_open=False, categories=(category,)), note=category_label(ui.t, category)
        )

    async def text_lots_category(self, ui: Ui, data: dict, text: str) -> None:
        typed = clean(text).lower()
        for category in WishCategory:
            if typed in (category.value, category_label(ui.t, category).lower()):
                await self._selected(
                    ui, data, LotSelection(all_open=False, categories=(category,)), note=category_label(ui.t, category)
                )
                return
        options = ui.t("auction.list_separator").join(category_label(ui.t, c) for c in WishCategory)
        raise DomainError("auction.category_unknown", text=text[:20], options=options)

    async def choice_lots_value(self, ui: Ui, data: dict, value: str) -> None:
        band = choice_id(value)
        if band >= len(VALUE_BANDS):
            raise DomainError("common.button_expired")
        low, high = VALUE_BANDS[band]
        await self._selected(
            ui, data, LotSelection(all_open=False, min_value=low, max_value=high), note=band_label(ui.t, band)
        )

    async def text_lots_value(self, ui: Ui, data: dict, text: str) -> None:
        typed = clean(text).replace("元", "").replace(" ", "")
        match = _RANGE.fullmatch(typed)
        if match is None or not (match.group(1) or match.group(2)):
            raise DomainError("auction.value_range_unreadable", text=text[:20])
        low = int(match.group(1)) if match.group(1) else None
        high = int(match.group(2)) if match.group(2) else None
        if low is not None and high is not None:
            note = ui.t("auction.range_between", low=low, high=high)
        elif low is not None:
            note = ui.t("auction.range_from", low=low, high="")
        else:
            note = ui.t("auction.range_upto", low="", high=high)
        await self._selected(ui, data, LotSelection(all_open=False, min_value=low, max_value=high), note=note)

    async def text_lots_codes(self, ui: Ui, data: dict, text: str) -> None:
        codes = tuple(code for code in re.split(r"[\s,，、;；]+", clean(text)) if code)
        if not codes:
            raise DomainError("auction.codes_empty")
        await self._selected(
            ui, data, LotSelection(all_open=False, codes=codes), note=ui.t("auction.codes_note", count=len(codes))
        )

    async def _selected(self, ui: Ui, data: dict, selection: LotSelection, note: str = "") -> None:
        count = await ui.services.auction.preview(selection)
        if count == 0:
            raise DomainError("auction.lots_none")
        data = {
            **data,
            "selection": selection_to_json(selection),
            "lots": count,
            "lots_note": note or ui.t("auction.lots_note_all"),
        }
        await self.go(ui, "cap_org", data)
        await ui.reply(
            "auction.ask_cap_org",
            self._skip(ui, "cap_org", "auction.button_no_cap"),
            count=count,
            selection=data["lots_note"],
        )

    def _skip(self, ui: Ui, step: str, key: str, **params: object) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[self.choice(ui, step, "none", key, **params)], self.cancel_row(ui)])

    def _cap(self, ui: Ui, text: str) -> int | None:
        if clean(text).lower() in _NO_CAP_WORDS:
            return None
        return ui.services.auction.check_caps(without_unit(text) or text)

    async def text_cap_org(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_cap_person(ui, {**data, "cap_org": self._cap(ui, text)})

    async def choice_cap_org(self, ui: Ui, data: dict, value: str) -> None:
        if value != "none":
            raise DomainError("common.button_expired")
        await self._ask_cap_person(ui, {**data, "cap_org": None})

    async def _ask_cap_person(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "cap_person", data)
        await ui.reply("auction.ask_cap_person", self._skip(ui, "cap_person", "auction.button_no_cap"))

    async def text_cap_person(self, ui: Ui, data: dict, text: str) -> None:
        await self._ask_deadline(ui, {**data, "cap_person": self._cap(ui, text)})

    async def choice_cap_person(self, ui: Ui, data: dict, value: str) -> None:
        if value != "none":
            raise DomainError("common.button_expired")
        await self._ask_deadline(ui, {**data, "cap_person": None})

    async def _ask_deadline(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "deadline", data)
        markup = InlineKeyboardMarkup(
            [
                [
                    self.choice(
                        ui,
                        "deadline",
                        DEFAULT_DEADLINE_DAYS,
                        "auction.button_deadline_default",
                        days=DEFAULT_DEADLINE_DAYS,
                    )
                ],
                self.cancel_row(ui),
            ]
        )
        await ui.reply("auction.ask_deadline", markup, days=DEFAULT_DEADLINE_DAYS)

    async def text_deadline(self, ui: Ui, data: dict, text: str) -> None:
        days = ui.services.auction.check_deadline_days(without_unit(text))
        await self._ask_waves(ui, {**data, "deadline_days": days})

    async def choice_deadline(self, ui: Ui, data: dict, value: str) -> None:
        days = ui.services.auction.check_deadline_days(choice_id(value))
        await self._ask_waves(ui, {**data, "deadline_days": days})

    async def _ask_waves(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "waves", data)
        await ui.reply("auction.ask_waves", self._skip(ui, "waves", "auction.button_no_waves"), lots=data["lots"])

    async def text_waves(self, ui: Ui, data: dict, text: str) -> None:
        if clean(text).lower() in _NO_CAP_WORDS:
            await self._confirm(ui, {**data, "wave_size": None, "wave_every": None})
            return
        size, every = ui.services.auction.check_waves(
            clean(text), duration_minutes=data["duration"], lot_count=data["lots"]
        )
        await self._confirm(ui, {**data, "wave_size": size, "wave_every": every})

    async def choice_waves(self, ui: Ui, data: dict, value: str) -> None:
        if value != "none":
            raise DomainError("common.button_expired")
        await self._confirm(ui, {**data, "wave_size": None, "wave_every": None})

    def _draft(self, data: dict) -> SessionDraft:
        return SessionDraft(
            title=data["title"],
            starts_at=datetime.fromisoformat(data["starts_at"]),
            duration_minutes=data["duration"],
            selection=selection_from_json(data["selection"]),
            cap_per_org=data["cap_org"],
            cap_per_person=data["cap_person"],
            deadline_days=data["deadline_days"],
            wave_size=data["wave_size"],
            wave_every_minutes=data["wave_every"],
        )

    async def _confirm(self, ui: Ui, data: dict) -> None:
        await self.go(ui, "confirm", data)
        t = ui.t
        starts_at = datetime.fromisoformat(data["starts_at"])
        caps = [
            t("auction.rule_cap_org", count=data["cap_org"]) if data["cap_org"] else t("auction.rule_cap_org_none"),
            t("auction.rule_cap_person", count=data["cap_person"])
            if data["cap_person"]
            else t("auction.rule_cap_person_none"),
        ]
        waves = (
            t("auction.rule_waves", size=data["wave_size"], every=data["wave_every"])
            if data["wave_size"]
            else t("auction.waves_none")
        )
        markup = InlineKeyboardMarkup(
            [[self.choice(ui, "confirm", "yes", "auction.button_create")], self.cancel_row(ui)]
        )
        await show(
            ui,
            t(
                "auction.confirm",
                title=data["title"],
                when=local_text(ui.services, starts_at),
                duration=data["duration"],
                lots=data["lots"],
                selection=data["lots_note"],
                caps=t("auction.rule_separator").join(caps),
                days=data["deadline_days"],
                waves=waves,
            ),
            markup,
        )

    async def choice_confirm(self, ui: Ui, data: dict, value: str) -> None:
        if value != "yes":
            raise DomainError("common.button_expired")
        try:
            session = await ui.services.auction.create(ui.user_id, self._draft(data))
        except DomainError as error:
            if error.key == "auction.err_start_in_past":
                # The start passed while they were deciding: ask for the time again.
                await self.go(ui, "start", {"title": data["title"]})
                raise DomainError("auction.start_passed") from None
            raise
        await self.finish(ui)
        application = ui.context.application
        announced = await announce(application, session)
        await schedule_wake(application)  # the reminders before the start
        await ui.edit(
            "auction.created",
            title=session.title,
            count=session.lot_count,
            when=Raw(when_text(ui.t, ui.services, session)),
            announced=ui.t.raw("auction.created_announced" if announced else "auction.created_not_announced"),
        )


async def show(ui: Ui, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """After a tap the tapped message becomes the next step; after typing, a new message."""
    if ui.update.callback_query is not None:
        await ui.edit_text(text, markup)
    else:
        await ui.send_text(text, markup)


def selection_to_json(selection: LotSelection) -> dict:
    return {
        "all_open": selection.all_open,
        "orgs": list(selection.collector_org_ids),
        "categories": [category.value for category in selection.categories],
        "min": selection.min_value,
        "max": selection.max_value,
        "codes": list(selection.codes),
    }


def selection_from_json(data: dict) -> LotSelection:
    return LotSelection(
        all_open=data["all_open"],
        collector_org_ids=tuple(data["orgs"]),
        categories=tuple(WishCategory(value) for value in data["categories"]),
        min_value=data["min"],
        max_value=data["max"],
        codes=tuple(data["codes"]),
    )


async def newauction_command(update: Update, context: BotContext) -> None:
    await flow_of(context, NewAuctionFlow).start(Ui(update, context))
