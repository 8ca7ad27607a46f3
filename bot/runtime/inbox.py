"""The durable intake: an update Telegram delivered is never lost (bot/domain/inbox.py keeps it).

Long polling: PTB's Updater confirms a batch to Telegram with its next getUpdates (offset = last
id + 1), right after handing the updates to the Application's queue and long before they are
handled, so a crash used to lose them. Here the getUpdates request itself is wrapped
(`ConfirmAfterStoring`): each batch Telegram returns is stored in the inbox, in one statement,
before PTB even reads it, so the next getUpdates, and the confirmation with it, always comes
after the batch is stored. PTB's own polling loop is kept (bootstrap, back-off on network
errors, the last confirming call on stop).

The Updater then hands each update to the `StoringQueue` (its door to the Application's queue,
put in place by `start_intake`): an update stored by the getUpdates wrapper goes on at once, one
delivered before (a repeat) is dropped, and one that came another way is stored first.

Webhook: PTB's webhook handler awaits the same door's `put` before it returns, and its 200 goes
out only when it returns; an update that cannot be stored gets a 500, and Telegram delivers it
again. Telegram pushes over up to 100 connections at once: the updates that arrive while one
store is under way are stored together in the next statement (`put` waits for it), instead of
one statement each, each waiting its turn at the database behind the handlers (in a rush, the
200s then came so late that Telegram's 100 connections were the ceiling: bench rush).

Done: `DoneMarking` wraps the update processor. While a handler runs, its task carries the
update's done mark, which the handler's first database transaction commits with its own writes
(storage.db's commit mark). An update that committed nothing is marked done once processed (a
handler's error was reported by then: handling it again would fail again), together with the
others finished meanwhile, in one statement; so is one the processor drops unprocessed (too old
to answer). A crash before the mark leaves the update to be handled again after the restart.

Start-up (`start_intake`, in post_init, before polling starts and before the Application takes
updates from its queue): the updates stored but not done are put in the queue first, oldest
first, so they are handled before anything new (each sender's still in order).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.ext import Application, BaseUpdateProcessor
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.domain.inbox import Inbox
from bot.domain.services import Services
from storage.db import Database, carry_commit_mark, drop_commit_mark
from storage.inbox import DoneMark

log = logging.getLogger(__name__)

# Done marks not carried by a transaction wait this long to be written together: in a rush one
# statement then marks hundreds (written one by one, they took the database from the claims).
MARKS_GATHER_SECONDS = 0.05


class Intake:
    """The intake's parts: made before the Application (its processor and getUpdates request),
    connected to the inbox by `start_intake` once the database is open."""

    def __init__(self) -> None:
        self.inbox: Inbox | None = None
        self.application: Application | None = None
        self.door: StoringQueue | None = None
        self._marks: list[DoneMark] = []
        self._writer: asyncio.Task[None] | None = None

    def processor(self, inner: BaseUpdateProcessor) -> DoneMarking:
        return DoneMarking(inner, self)

    def confirming(self, request: BaseRequest, behind: Callable[[], bool] | None = None) -> ConfirmAfterStoring:
        return ConfirmAfterStoring(request, self, behind)

    # ---- done marks -------------------------------------------------------------------------
    def mark_done(self, mark: DoneMark) -> None:
        """Write the mark soon, with the others finished meanwhile (unless a transaction did)."""
        if mark.committed or self.inbox is None:
            return
        self._marks.append(mark)
        if self._writer is None:
            writing = self._write_marks(self.inbox)
            application = self.application
            if application is not None and application.running:
                # PTB's create_task: Application.stop waits for it before the database closes.
                self._writer = application.create_task(writing)
            else:
                self._writer = asyncio.create_task(writing)

    async def _write_marks(self, inbox: Inbox) -> None:
        try:
            while self._marks:  # marks arriving meanwhile go in the next statement
                await asyncio.sleep(MARKS_GATHER_SECONDS)
                marks, self._marks = self._marks, []
                await inbox.finish(marks)
        finally:
            self._writer = None

    async def settled(self) -> None:
        """Wait until every done mark handed over so far is written."""
        while (writer := self._writer) is not None:
            await asyncio.shield(writer)


class ConfirmAfterStoring(BaseRequest):
    """The getUpdates request: each batch Telegram returns is stored before PTB reads it.

    Read-ahead: while the bot is behind (`behind()`: polls come back full, updates wait at
    Telegram), the next batch is asked for as soon as this one is stored, while PTB still parses
    this one and hands it over; PTB's next getUpdates (with the offset that follows this batch)
    then gets that answer. Fetching is the ceiling of what a long-polling bot can answer (one
    poll at a time, 100 updates each: measured at 3-4 polls a second under a rush, a quarter of
    each cycle PTB's parsing), so it overlaps the parsing instead of waiting for it. The order
    stays what makes the inbox durable: a batch is stored before the request that confirms it
    leaves. A read-ahead nobody asks for (the bot stopping) leaves its batch stored and not
    confirmed: handled at the next start, or delivered again by Telegram."""

    def __init__(self, inner: BaseRequest, intake: Intake, behind: Callable[[], bool] | None = None) -> None:
        self.inner = inner
        self.intake = intake
        self.behind = behind
        self.read_ahead = 0  # batches fetched ahead and used
        self._ahead: tuple[int, asyncio.Task[tuple[int, bytes, int | None]]] | None = None

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead[1].cancel()
            await asyncio.gather(ahead[1], return_exceptions=True)
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        timeouts = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        if self.intake.door is None or url.rsplit("/", 1)[-1].lower() != "getupdates":
            return await self.inner.do_request(url, method, request_data, *timeouts)
        offset = request_data.parameters.get("offset") if request_data is not None else None
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == offset:
            code, payload, last_id = await ahead[1]
            self.read_ahead += 1
        else:
            if ahead is not None:  # asked for something else: let it end (stored, not confirmed)
                await asyncio.gather(ahead[1], return_exceptions=True)
            code, payload, last_id = await self._fetch(url, method, request_data, timeouts)
        if last_id is not None and request_data is not None and self.behind is not None and self.behind():
            params = {**request_data.parameters, "offset": last_id + 1}
            following = RequestData([RequestParameter.from_input(name, value) for name, value in params.items()])
            task = asyncio.get_running_loop().create_task(self._fetch(url, method, following, timeouts))
            self._ahead = (last_id + 1, task)
        return code, payload

    async def _fetch(
        self, url: str, method: str, request_data: RequestData | None, timeouts: tuple[ODVInput[float], ...]
    ) -> tuple[int, bytes, int | None]:
        """One getUpdates, its batch stored; with the batch's last update id (None if empty)."""
        code, payload = await self.inner.do_request(url, method, request_data, *timeouts)
        door = self.intake.door
        if code != 200 or door is None:
            return code, payload, None
        # An error here (the database) is PTB's "data was not processed": nothing is
        # confirmed, and Telegram delivers the batch again.
        updates = json.loads(payload).get("result") or []
        await door.delivered(updates)
        last = updates[-1].get("update_id") if updates and isinstance(updates[-1], dict) else None
        return code, payload, last if isinstance(last, int) else None


class StoringQueue(asyncio.Queue[object]):
    """The Updater's (and the webhook's) door to the Application's queue.

    Only `put` is a door (the Updater and the webhook handler await it); nothing is ever taken
    from this queue itself."""

    def __init__(self, inbox: Inbox, target: asyncio.Queue[object]) -> None:
        super().__init__()
        self.inbox = inbox
        self.target = target
        self.repeated = 0  # deliveries of updates stored already (dropped)
        self._fresh: set[int] = set()  # stored from a getUpdates batch, to pass on
        self._repeats: set[int] = set()  # found stored already in a getUpdates batch, to drop
        # Webhook deliveries waiting for the next statement: (update id, JSON, its caller's answer).
        self._waiting: list[tuple[int, str, asyncio.Future[bool]]] = []
        self._storing: asyncio.Task[None] | None = None
        self.statements = 0  # store statements for webhook deliveries (they gather)

    async def delivered(self, raw_updates: list[Any]) -> None:
        """A getUpdates batch, stored before PTB reads it."""
        batch = [
            (item["update_id"], json.dumps(item, ensure_ascii=False)) for item in raw_updates if "update_id" in item
        ]
        # Ahead of the handlers' queued statements (storage/gate.py): the next long poll, which
        # confirms this batch, waits for this store. Not for webhook deliveries: their slow 200
        # holds Telegram's pushes back (answered sooner, the pushes came faster than the bot could
        # handle them, and the taps waited here until they were too old instead).
        with Database.first_lane():
            new = await self.inbox.store_many(batch)
        for update_id, _ in batch:
            (self._fresh if update_id in new else self._repeats).add(update_id)

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            update_id = item.update_id
            if update_id in self._fresh:
                self._fresh.discard(update_id)
            elif update_id in self._repeats or not await self._store(update_id, item.to_json()):
                self._repeats.discard(update_id)
                self.repeated += 1
                log.debug("update %s delivered again: dropped", update_id)
                return
        await self.target.put(item)

    async def _store(self, update_id: int, payload: str) -> bool:
        """Store one delivered update with the others arriving meanwhile; False if known already."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()
        self._waiting.append((update_id, payload, answer))
        if self._storing is None:
            self._storing = loop.create_task(self._store_waiting())
        return await answer

    async def _store_waiting(self) -> None:
        batch: list[tuple[int, str, asyncio.Future[bool]]] = []
        try:
            while self._waiting:  # what arrived during a statement goes in the next
                batch, self._waiting = self._waiting, []
                self.statements += 1
                try:
                    new = await self.inbox.store_many([(update_id, payload) for update_id, payload, _ in batch])
                except Exception as error:  # each waiting delivery raises it: its call gets a 500
                    for *_, answer in batch:
                        if not answer.done():
                            answer.set_exception(error)
                    continue
                for update_id, _, answer in batch:
                    # The same update twice in one batch (delivered again meanwhile): passed on once.
                    first = update_id in new
                    new.discard(update_id)
                    if not answer.done():
                        answer.set_result(first)
        finally:
            self._storing = None
            # Stopped mid-statement (the bot shutting down): nobody is left waiting forever.
            for *_, answer in batch + self._waiting:
                if not answer.done():
                    answer.cancel()
            self._waiting = []

    async def put_batch(self, updates: list[Update]) -> None:
        """Several updates at once (as one getUpdates batch): stored in one statement."""
        new = await self.inbox.store_many([(update.update_id, update.to_json()) for update in updates])
        for update in updates:
            if update.update_id in new:
                await self.target.put(update)
            else:
                self.repeated += 1

    def put_nowait(self, item: object) -> None:
        raise RuntimeError("the inbox stores an update before passing it on: await put() instead")


class DoneMarking(BaseUpdateProcessor):
    """Marks each update done once processed (see the module's docstring); `inner` decides when
    and alongside what an update runs."""

    def __init__(self, inner: BaseUpdateProcessor, intake: Intake) -> None:
        super().__init__(inner.max_concurrent_updates)
        self.inner = inner
        self.intake = intake

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        inbox = self.intake.inbox
        if inbox is None or not isinstance(update, Update):
            await self.inner.do_process_update(update, coroutine)
            return
        mark = inbox.done_mark(update.update_id)
        started = False

        async def handled() -> None:
            nonlocal started
            started = True
            token = carry_commit_mark(mark)
            try:
                await coroutine
            finally:
                drop_commit_mark(token)

        wrapped = handled()
        try:
            await self.inner.do_process_update(update, wrapped)
        finally:
            if not started:  # dropped by the inner processor, or cancelled while waiting
                wrapped.close()
                if isinstance(coroutine, Coroutine) and inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
                    coroutine.close()
        # Not reached when cancelled (the bot is being killed): the update stays to be handled again.
        self.intake.mark_done(mark)

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()


async def start_intake(application: Application) -> int:
    """Connect the inbox (after the database is open, before updates are taken): batches are
    stored before they are confirmed, the Updater's door stores, processing marks done, and what
    was stored but not done goes first. Returns how many updates were put back in the queue."""
    services: Services = application.bot_data["services"]
    processor = application.update_processor
    if not isinstance(processor, DoneMarking):
        raise RuntimeError("the Application must process updates through DoneMarking (bot/runtime/inbox.py)")
    intake = processor.intake
    intake.inbox = services.inbox
    intake.application = application
    intake.door = StoringQueue(services.inbox, application.update_queue)
    if application.updater is not None:
        application.updater.update_queue = intake.door
    # With several instances (PostgreSQL) only what gone instances left: another's updates in
    # hand are its own (storage/inbox.py, `adopt`).
    unfinished = await services.inbox.left_behind()
    for _, payload in unfinished:
        application.update_queue.put_nowait(Update.de_json(json.loads(payload), application.bot))
    if unfinished:
        log.info("%d updates received before a stop were not handled yet: handling them first", len(unfinished))
    return len(unfinished)


def intake_of(application: Application) -> Intake:
    processor = application.update_processor
    if not isinstance(processor, DoneMarking):
        raise RuntimeError("the Application must process updates through DoneMarking (bot/runtime/inbox.py)")
    return processor.intake


def door_of(application: Application) -> StoringQueue:
    """Where an update comes in as from Telegram (stored first): for tools that feed updates."""
    door = intake_of(application).door
    if door is None:
        raise RuntimeError("the intake is not started yet (start_intake, in post_init)")
    return door
