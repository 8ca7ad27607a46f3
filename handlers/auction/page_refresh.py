"""After a claim tap on a private page, that page is refreshed for the tapper (the lot they tapped
is stale there), in the background, never pushed to everyone.

One refresh at a time per page, the newest tap's wins, and at most one edit per page every
PAGE_REFRESH_SECONDS: edits count against the bot's overall ~30 messages a second, which the
winners' messages and the board need more. A refresh waits PAGE_REFRESH_DELAY first: quick taps
on one page become one edit, and in a rush the page's reads do not queue at the database ahead
of the claims being committed. Both are measured on the injected clock.
"""

from __future__ import annotations

from telegram import Message
from telegram.ext import Application

from bot.domain.errors import DomainError
from handlers.callback_data import CallbackDataError
from handlers.context import Ui, best_effort, services_of

from .browsing import Filters, page_view
from .buttons import BrowseTap
from .state import PAGES_REMEMBERED, PageKey, PendingPage, auction_state, background
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


def schedule_page_refresh(application: Application, ui: Ui, session_id: int) -> None:
    """Refresh the tapper's own page in the background."""
    message = ui.query.message
    if not isinstance(message, Message):
        return
    refresher = auction_state(application).page_refresh
    key = (message.chat_id, message.message_id)
    # The page's filters are read back from its buttons when it is refreshed, not on every tap.
    refresher.pending[key] = PendingPage(session_id, ui.t, ui.user_id, message)
    if key in refresher.running:
        return
    refresher.running.add(key)
    since = services_of(application).clock.monotonic()
    background(application, _refresh_pages(application, key, since), ui.update)


async def _refresh_pages(application: Application, key: PageKey, since: float) -> None:
    """Refresh the page while taps ask for it: PAGE_REFRESH_DELAY after `since` (the tap, then
    each refresh), and PAGE_REFRESH_SECONDS after its last edit."""
    state = auction_state(application)
    refresher = state.page_refresh
    clock = services_of(application).clock
    try:
        while key in refresher.pending:
            due = max(since + PAGE_REFRESH_DELAY, refresher.last_edit.get(key, float("-inf")) + PAGE_REFRESH_SECONDS)
            await state.alarms.until(clock, due)  # taps meanwhile only replace what is pending
            await state.lane.quiet()
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
    pending = state.page_refresh.pending.pop(key)
    filters, page = page_state(pending.message)
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
