"""The auction's live state in the running bot: one typed object (`AuctionState`), created once by
`handlers.register` and read through `auction_state`. Throttles and caches measure time on the
injected clock (`services.clock.monotonic()`), so tests move it instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from telegram import Message, Update
from telegram.ext import Application

from bot.domain.clock import Clock
from bot.model.auction import LotFacets
from handlers.i18n import Translator

AUCTION_STATE = "auction"  # its key in bot_data
PRIVATE_SENDS_AT_ONCE = 8  # the auction's private messages waiting at the rate limiter at once
PAGES_REMEMBERED = 5000

PageKey = tuple[int, int]  # (chat id, message id) of a private browsing page


class PrivateLane:
    """The auction's private edits (page refreshes, release buttons taken off) go out a few at a time.

    The bot's ~30 messages a second are admitted first come, first served (bot/runtime/rate_limit.py).
    Queued all at once, a burst of 400 page refreshes would hold the board's next edit back for a
    quarter of a minute; a few at a time, the board waits behind at most `width` of them. (The
    winners' messages go through the outbox's sender, one at a time: handlers/outbox.py.)"""

    def __init__(self, width: int) -> None:
        self.slots = asyncio.Semaphore(width)


class Alarms:
    """Waits measured on the injected clock. With the system clock a wait ends when its time
    comes; a test's clock moves only by hand, and `settle` then has every wait read it again."""

    def __init__(self) -> None:
        self.sleeping: set[asyncio.Task[Any]] = set()
        self._moved = asyncio.Event()
        self.dozed = asyncio.Event()  # set whenever a task starts waiting

    async def until(self, clock: Clock, due: float, unless: Callable[[], bool] | None = None) -> None:
        """Return once `clock.monotonic()` reaches `due`, or earlier once `unless()` holds (it is
        read whenever `look_again` wakes the waits)."""
        task = asyncio.current_task()
        if task is not None:
            self.sleeping.add(task)
            self.dozed.set()
        try:
            while (left := due - clock.monotonic()) > 0 and not (unless is not None and unless()):
                moved = self._moved
                try:
                    async with asyncio.timeout(left):
                        await moved.wait()
                except TimeoutError:
                    continue  # the time has come, by the system clock: read the injected one
        finally:
            if task is not None:
                self.sleeping.discard(task)

    def look_again(self) -> None:
        """Every wait reads the clock again (a test moved it)."""
        self._moved.set()
        self._moved = asyncio.Event()


@dataclass(frozen=True)
class PendingPage:
    """A private page to refresh: the newest request's view of it."""

    session_id: int
    t: Translator
    user_id: int
    message: Message  # the page as last seen: its filters and page are read back from its buttons
    view: tuple[str, int] | None = None  # or its filters' token and page, when known (a page turned since)
    prompt: bool = False  # a lost claim or a release: not held back by the limit of one edit in a while

    @property
    def key(self) -> PageKey:
        return (self.message.chat_id, self.message.message_id)


@dataclass
class PageRefresh:
    """Pending refreshes of private pages: one at a time per page, newest wins (see
    handlers/auction/page_refresh.py); and each person's newest page of each session, which
    releases and the person's own claims from the board refresh."""

    pending: dict[PageKey, PendingPage] = field(default_factory=dict)
    running: set[PageKey] = field(default_factory=set)
    last_edit: dict[PageKey, float] = field(default_factory=dict)  # clock.monotonic() of each page's last edit
    open_pages: dict[tuple[int, int], PendingPage] = field(default_factory=dict)  # (person, session) → page


@dataclass(frozen=True)
class ReleaseButton:
    """A winner's message with the 释放 button, until its release window ends."""

    until: datetime  # the end of the window, on the bot's clock
    text: str  # the message without the release hint: what it shows once the button is gone


@dataclass
class AuctionState:
    boards_shown: dict[int, str] = field(default_factory=dict)  # what each board shows (or was asked to)
    boards_closing: dict[int, float] = field(default_factory=dict)  # session → clock.monotonic() at its close
    lane: PrivateLane = field(default_factory=lambda: PrivateLane(PRIVATE_SENDS_AT_ONCE))
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)  # the background work of taps
    alarms: Alarms = field(default_factory=Alarms)
    facets: dict[int, tuple[float, LotFacets]] = field(default_factory=dict)  # session → (read at, facets)
    pages_shown: dict[PageKey, str] = field(default_factory=dict)  # what each private page shows
    page_refresh: PageRefresh = field(default_factory=PageRefresh)
    release_buttons: dict[PageKey, ReleaseButton] = field(default_factory=dict)  # winners' messages

    def shown_pages(self) -> dict[PageKey, str]:
        """What each private page shows, so a refresh never repeats it; the oldest are forgotten."""
        shown = self.pages_shown
        if len(shown) > PAGES_REMEMBERED:
            for key in list(shown)[: len(shown) - PAGES_REMEMBERED // 2]:
                del shown[key]
        return shown


def auction_state(application: Application) -> AuctionState:
    state: AuctionState = application.bot_data[AUCTION_STATE]
    return state


def remember_page(
    application: Application,
    t: Translator,
    user_id: int,
    session_id: int,
    message: Message,
    view: tuple[str, int] | None = None,
) -> None:
    """A person's newest page of a session (the one a release or their claim on the board
    refreshes); `view` (filters' token, page) when the page was just turned to it. A refresh
    already waiting for the page follows the turn."""
    refresher = auction_state(application).page_refresh
    page = PendingPage(session_id, t, user_id, message, view)
    refresher.open_pages.pop((user_id, session_id), None)  # the newest last: the oldest are forgotten first
    refresher.open_pages[(user_id, session_id)] = page
    if len(refresher.open_pages) > PAGES_REMEMBERED:
        for person_session in list(refresher.open_pages)[: len(refresher.open_pages) - PAGES_REMEMBERED // 2]:
            del refresher.open_pages[person_session]
    waiting = refresher.pending.get(page.key)
    if waiting is not None and view is not None:
        refresher.pending[page.key] = replace(waiting, view=view)


def forget_page(application: Application, user_id: int, session_id: int, key: PageKey) -> None:
    """The page shows something else now (a filter picker): nothing may refresh it into a list."""
    refresher = auction_state(application).page_refresh
    page = refresher.open_pages.get((user_id, session_id))
    if page is not None and page.key == key:
        del refresher.open_pages[(user_id, session_id)]
    refresher.pending.pop(key, None)


def background(application: Application, coroutine: Coroutine[Any, Any, None], update: Update | None) -> None:
    """Network work a tap must not wait for (the winner's message, a page refresh).

    PTB's create_task: errors reach the error handlers and `Application.stop` waits for it.
    Tests drive updates without starting the application; there the task is only tracked, and
    `settle` waits for it (and raises what it raised)."""
    tasks = auction_state(application).tasks
    task: asyncio.Task[None]
    if application.running:
        task = application.create_task(coroutine, update=update)
    else:
        task = asyncio.get_running_loop().create_task(coroutine)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def settle(application: Application) -> None:
    """Wait until the background work of taps is done, but for what waits on the clock: the
    waits the clock has reached (a test moved it) run, the others are left waiting."""
    state = auction_state(application)
    while True:
        state.alarms.look_again()
        await asyncio.sleep(0)  # the woken waits read the clock: due ones leave `sleeping`
        state.alarms.dozed.clear()
        busy = state.tasks - state.alarms.sleeping
        if not busy:
            return
        dozing = asyncio.ensure_future(state.alarms.dozed.wait())
        try:
            done, _ = await asyncio.wait({*busy, dozing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            dozing.cancel()
        for task in done - {dozing}:
            task.result()  # what it raised
