"""Private pages are refreshed in the background, for whom they are stale, never all at every claim:

- after a claim tap, the tapper's page (the page tapped, or their newest page of the session when
  they tapped on the board): the lot they tapped is stale there;
- after a release, every person's newest page of the live sessions: a lot is back, and the count
  they read ("可认领 303 个") would be wrong.
Pages are not pushed to everyone at every claim: in a rush that would spend the bot's ~30
messages a second on pages nobody is reading, and move buttons under the fingers about to tap.

One refresh at a time per page, the newest request's wins, and at most one edit per page every
PAGE_REFRESH_SECONDS: edits count against the bot's overall ~30 messages a second, which the
winners' messages and the board need more. A lost claim and a release are not held back by that
limit: the person has just been told the lot is gone, or a lot is back, and the page must agree.
Every refresh waits PAGE_REFRESH_DELAY first: quick taps on one page become one edit, and in a
rush the page's reads do not queue at the database ahead of the claims being committed. Both are
measured on the injected clock.
"""

from __future__ import annotations

from dataclasses import replace

from telegram import Message, Update
from telegram.ext import Application

from bot.domain.errors import DomainError
from handlers.callback_data import CallbackDataError
from handlers.context import best_effort, services_of
from handlers.i18n import Translator

from .browsing import Filters, page_view
from .buttons import BrowseTap
from .state import PAGES_REMEMBERED, PageKey, PendingPage, auction_state, background, remember_page
from .texts import fingerprint, shows

PAGE_REFRESH_SECONDS = 10.0  # at most one refresh edit per private page in this time
PAGE_REFRESH_DELAY = 1.0  # a page is refreshed this long after the tap


def page_state(message: Message | None) -> tuple[Filters, int]:
    """The filters and page of a browsing page, read back from its own 🔄 button."""
    if message is None or message.reply_markup is None:
        return Filters(), 0
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            data = button.callback_data
            if isinstance(data, str) and data.startswith(f"{BrowseTap.prefix}:"):
                try:
                    values = BrowseTap.unpack(data)
                    if values.view == "r":
                        return Filters.parse(values.filters), values.page
                except (CallbackDataError, DomainError):
                    continue
    return Filters(), 0


def pending_state(pending: PendingPage) -> tuple[Filters, int]:
    """The filters and page the page shows: as recorded when it was turned, else from its buttons."""
    if pending.view is not None:
        token, page = pending.view
        try:
            return Filters.parse(token), page
        except DomainError:
            return Filters(), 0
    return page_state(pending.message)


def refresh_tappers_page(
    application: Application,
    update: Update,
    t: Translator,
    user_id: int,
    session_id: int,
    *,
    private: bool,
    prompt: bool,
) -> None:
    """After a claim tap: the page tapped (a private tap), else the person's newest page of the
    session (a tap on the board), if they have one."""
    message = update.callback_query.message if update.callback_query is not None else None
    if private and isinstance(message, Message):
        remember_page(application, t, user_id, session_id, message)
        page = PendingPage(session_id, t, user_id, message, prompt=prompt)
    else:
        known = auction_state(application).page_refresh.open_pages.get((user_id, session_id))
        if known is None:
            return
        page = replace(known, prompt=prompt)
    request_refresh(application, page, update)


async def refresh_open_pages(application: Application) -> None:
    """After a release: every person's newest page of a live session, at once (the count changed)."""
    live = {session.id for session in await services_of(application).auction.live_sessions()}
    for page in list(auction_state(application).page_refresh.open_pages.values()):
        if page.session_id in live:
            request_refresh(application, replace(page, prompt=True), None)


def request_refresh(application: Application, page: PendingPage, update: Update | None) -> None:
    """Refresh `page` in the background (one refresh at a time per page, the newest wins)."""
    state = auction_state(application)
    refresher = state.page_refresh
    key = page.key
    earlier = refresher.pending.get(key)
    if earlier is not None and earlier.prompt and not page.prompt:
        page = replace(page, prompt=True)  # a prompt request already waiting stays prompt
    refresher.pending[key] = page
    if key in refresher.running:
        if page.prompt:
            state.alarms.look_again()  # a wait for the ten seconds' limit ends now
        return
    refresher.running.add(key)
    since = services_of(application).clock.monotonic()
    background(application, _refresh_pages(application, key, since), update)


async def _refresh_pages(application: Application, key: PageKey, since: float) -> None:
    """Refresh the page while requests ask for it: PAGE_REFRESH_DELAY after `since` (the first
    request, then each refresh), and PAGE_REFRESH_SECONDS after its last edit unless prompt."""
    state = auction_state(application)
    refresher = state.page_refresh
    clock = services_of(application).clock

    def prompt() -> bool:
        waiting = refresher.pending.get(key)
        return waiting is not None and waiting.prompt

    try:
        while key in refresher.pending:
            due = since + PAGE_REFRESH_DELAY
            if not prompt():
                held = max(due, refresher.last_edit.get(key, float("-inf")) + PAGE_REFRESH_SECONDS)
                await state.alarms.until(clock, held, unless=prompt)  # requests meanwhile replace what is pending
            await state.alarms.until(clock, due)
            async with state.lane.slots:
                await _refresh_page(application, key)
            since = clock.monotonic()
    finally:
        refresher.running.discard(key)
        if len(refresher.last_edit) > PAGES_REMEMBERED:
            refresher.last_edit.clear()


async def _refresh_page(application: Application, key: PageKey) -> None:
    state = auction_state(application)
    services = services_of(application)
    pending = state.page_refresh.pending.pop(key, None)
    if pending is None:  # the page became a filter picker meanwhile
        return
    filters, page = pending_state(pending)
    text, markup = await page_view(services, pending.t, pending.session_id, filters, page, pending.user_id)
    shown = state.shown_pages()
    print_ = fingerprint(text, markup)
    if shown.get(key) == print_ or (key not in shown and shows(pending.message, text, markup)):
        shown[key] = print_
        return
    shown[key] = print_
    state.page_refresh.last_edit[key] = services.clock.monotonic()
    await best_effort(
        application.bot.edit_message_text(text, chat_id=key[0], message_id=key[1], reply_markup=markup),
        "browsing page %s not refreshed",
        key,
    )
