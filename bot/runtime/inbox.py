"""The durable intake: an update Telegram delivered is never lost (bot/domain/inbox.py keeps it).

Long polling: PTB's Updater puts each fetched update in the Application's queue and confirms the
batch to Telegram with its next getUpdates (offset = last id + 1), right after the hand-over and
long before the updates are handled, so a crash used to lose them. Here the Updater hands them to
a `StoringQueue` instead, whose `put` stores the update in the inbox before passing it on: the
Updater's next getUpdates, and so the confirmation, comes only once the whole batch is stored.
(PTB's own loop is kept: bootstrap, back-off on network errors, the final confirming call on
stop; only its door to the queue is replaced, by `start_intake`, before polling starts.)

Webhook: PTB's webhook handler awaits the same `put` before it returns, and its 200 goes out only
when it returns; an update that cannot be stored gets a 500, and Telegram delivers it again.

Repeated deliveries (an update id stored already) are dropped at that door.

Done: `DoneMarking` wraps the update processor. While a handler runs, its task carries the
update's done mark, which the handler's first database transaction commits with its own writes
(storage.db's commit mark); an update that wrote nothing, or whose later work failed, is marked
done when processing ends (a handler's error was reported by then: replaying it would only fail
again). An update the processor drops unprocessed (too old to answer) is marked done as well.
A crash before the mark leaves the update to be handled again after the restart.

Start-up (`start_intake`, in post_init, before polling starts and before the Application takes
updates from its queue): the updates stored but not done are put in the queue first, oldest
first, so they are handled before anything new (each sender's still in order).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor

from bot.domain.inbox import Inbox
from bot.domain.services import Services
from storage.db import carry_commit_mark, drop_commit_mark

log = logging.getLogger(__name__)


class StoringQueue(asyncio.Queue[object]):
    """The Updater's (and webhook's) door to the Application's queue: stores, then passes on.

    Only `put` is a door: the Updater and the webhook handler await it. Nothing is ever taken
    from this queue itself."""

    def __init__(self, inbox: Inbox, target: asyncio.Queue[object]) -> None:
        super().__init__()
        self.inbox = inbox
        self.target = target
        self.repeated = 0  # deliveries of updates stored already (dropped)

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            if not await self.inbox.store(item.update_id, item.to_json()):
                self.repeated += 1
                log.debug("update %s delivered again: dropped", item.update_id)
                return
        await self.target.put(item)

    def put_nowait(self, item: object) -> None:
        raise RuntimeError("the inbox stores an update before passing it on: await put() instead")


class DoneMarking(BaseUpdateProcessor):
    """Marks each update done once processed (see the module's docstring); `inner` decides
    when and alongside what an update runs."""

    def __init__(self, inner: BaseUpdateProcessor) -> None:
        super().__init__(inner.max_concurrent_updates)
        self.inner = inner
        self.inbox: Inbox | None = None  # set by start_intake

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        inbox = self.inbox
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
        await inbox.finish(mark)

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()


async def start_intake(application: Application) -> int:
    """Connect the inbox (after the database is open, before updates are taken): the Updater's
    door stores, processing marks done, and what was stored but not done goes first. Returns
    how many updates were put back in the queue."""
    services: Services = application.bot_data["services"]
    processor = application.update_processor
    if not isinstance(processor, DoneMarking):
        raise RuntimeError("the Application must process updates through DoneMarking (bot/runtime/inbox.py)")
    processor.inbox = services.inbox
    if application.updater is not None:
        application.updater.update_queue = StoringQueue(services.inbox, application.update_queue)
    unfinished = await services.inbox.unfinished()
    for _, payload in unfinished:
        application.update_queue.put_nowait(Update.de_json(json.loads(payload), application.bot))
    if unfinished:
        log.info("%d updates received before a stop were not handled yet: handling them first", len(unfinished))
    return len(unfinished)
