"""The durable inbox: an update is stored before Telegram is told it arrived, a repeated delivery
is dropped, the "done" mark commits with the handler's first transaction, and after a restart
the updates not done are handled first, in order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.runtime.inbox import DoneMarking, intake_of
from storage.db import carry_commit_mark, drop_commit_mark
from tests.harness import COUNTY_ADMIN_ID, FakeClock, Harness
from tests.harness import test_config as make_config
from tests.test_activities import GROUP, arranged, sign_up, township, volunteer


class Killed(BaseException):
    """The process dies here: nothing after it runs (not an error any handler catches)."""


async def through_the_door(harness, raw: dict) -> Update:
    """What the Updater (or the webhook) does with a delivered update."""
    harness.fake.discard_update(raw["update_id"])
    update = Update.de_json(raw, harness.app.bot)
    await harness.app.updater.update_queue.put(update)
    return update


async def process_queued(harness) -> list[int]:
    """What the running Application does with its queue: each update through the processor."""
    handled = []
    while not harness.app.update_queue.empty():
        update = harness.app.update_queue.get_nowait()
        handled.append(update.update_id)
        await harness.app.update_processor.process_update(update, harness.app.process_update(update))
    await intake_of(harness.app).settled()  # the done marks written (together, soon after)
    await harness.send_queued()
    return handled


async def stored(harness, update_id: int):
    return await harness.services.db.fetch_one("SELECT payload, done_at FROM inbox WHERE update_id = ?", (update_id,))


def help_answers(harness) -> list[str]:
    return [m.text for m in harness.fake.bot_messages(COUNTY_ADMIN_ID) if "命令说明" in (m.text or "")]


async def test_an_update_is_stored_before_it_is_passed_on_and_a_repeat_is_dropped(harness):
    harness.admin()
    raw = harness.fake.user_sends(COUNTY_ADMIN_ID, COUNTY_ADMIN_ID, "/start")
    update = await through_the_door(harness, raw)
    row = await stored(harness, update.update_id)
    assert row["payload"] is not None and row["done_at"] is None
    assert harness.app.update_queue.qsize() == 1
    await through_the_door(harness, raw)  # Telegram delivers it again (e.g. after a crash)
    assert harness.app.update_queue.qsize() == 1 and harness.app.updater.update_queue.repeated == 1

    assert await process_queued(harness) == [update.update_id]
    answered = len(harness.fake.bot_messages(COUNTY_ADMIN_ID))
    assert answered > 0
    row = await stored(harness, update.update_id)
    assert row["payload"] is None and row["done_at"] is not None  # what was typed is not kept
    await through_the_door(harness, raw)  # even long after it was handled
    assert harness.app.update_queue.empty()
    assert await process_queued(harness) == []
    assert len(harness.fake.bot_messages(COUNTY_ADMIN_ID)) == answered


async def test_the_door_stores_nothing_but_updates(harness):
    marker = object()
    await harness.app.updater.update_queue.put(marker)
    assert harness.app.update_queue.get_nowait() is marker
    with pytest.raises(RuntimeError, match="await put"):
        harness.app.updater.update_queue.put_nowait(marker)


async def test_a_check_in_and_its_done_mark_commit_together(harness, monkeypatch):
    """The process dies after the check-in's transaction, before the 👍: the check-in counts, and
    the update is done (handling it again after the restart would change nothing anyway)."""
    org, _li = await township(harness)
    activity = await arranged(harness, org, starts_in=timedelta(minutes=20))
    wang = volunteer(harness, 400001, "小王")
    await sign_up(wang, harness, activity)

    def dies(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(harness.fake, "_api_setmessagereaction", dies)
    update = await through_the_door(harness, harness.fake.user_sends(400001, GROUP, "签到"))
    with pytest.raises(Killed):
        await process_queued(harness)
    record = await harness.services.attendance.repo.attendance(activity.id, 400001)
    assert record is not None and record.present
    assert (await stored(harness, update.update_id))["done_at"] is not None


async def test_an_update_that_died_before_writing_is_handled_again_after_the_restart(tmp_path, fake, monkeypatch):
    clock = FakeClock()
    first = Harness(make_config(tmp_path), fake, clock)
    await first.start()
    first.admin()
    original = fake._api_sendmessage

    def dies(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(fake, "_api_sendmessage", dies)
    update = await through_the_door(first, fake.user_sends(COUNTY_ADMIN_ID, COUNTY_ADMIN_ID, "/help"))
    with pytest.raises(Killed):
        await process_queued(first)
    assert (await stored(first, update.update_id))["done_at"] is None
    await first.stop()
    monkeypatch.setattr(fake, "_api_sendmessage", original)

    second = Harness(make_config(tmp_path), fake, clock)
    await second.start()
    assert await process_queued(second) == [update.update_id]
    assert len(help_answers(second)) == 1
    assert (await stored(second, update.update_id))["done_at"] is not None
    await second.stop()
    assert second.errors == []


async def test_updates_not_done_go_first_after_a_restart_oldest_first(tmp_path, fake):
    clock = FakeClock()
    first = Harness(make_config(tmp_path), fake, clock)
    await first.start()
    first.admin()
    ids = []
    for text in ("/help", "/start", "/help"):
        ids.append((await through_the_door(first, fake.user_sends(COUNTY_ADMIN_ID, COUNTY_ADMIN_ID, text))).update_id)
    await first.stop()  # stored, never handled: the process was stopped before

    second = Harness(make_config(tmp_path), fake, clock)
    await second.start()
    assert await process_queued(second) == ids
    assert len(help_answers(second)) == 2
    for update_id in ids:
        assert (await stored(second, update_id))["done_at"] is not None
    await second.stop()
    third = Harness(make_config(tmp_path), fake, clock)
    await third.start()
    assert third.app.update_queue.empty()  # nothing is handled twice
    await third.stop()


class Dropping(BaseUpdateProcessor):
    """An update processor that drops every update unprocessed (as one that sheds old taps)."""

    async def do_process_update(self, update, coroutine) -> None:
        return

    async def initialize(self) -> None:
        return

    async def shutdown(self) -> None:
        return


async def test_an_update_dropped_unprocessed_is_done_too(harness, recwarn):
    harness.admin()
    update = await through_the_door(harness, harness.fake.user_sends(COUNTY_ADMIN_ID, COUNTY_ADMIN_ID, "/help"))
    harness.app.update_queue.get_nowait()
    intake = intake_of(harness.app)
    processor = DoneMarking(Dropping(1), intake)
    await processor.process_update(update, harness.app.process_update(update))
    await intake.settled()
    assert (await stored(harness, update.update_id))["done_at"] is not None
    assert help_answers(harness) == []
    assert not [w for w in recwarn if "never awaited" in str(w.message)]


async def test_a_rolled_back_transaction_does_not_take_the_mark(harness):
    inbox, db = harness.services.inbox, harness.services.db
    assert await inbox.store(77, "{}")
    mark = inbox.done_mark(77)
    token = carry_commit_mark(mark)
    try:
        with pytest.raises(ValueError):
            async with db.transaction():
                await db.execute("INSERT INTO audit_log (at, action, subject) VALUES ('x', 'test', 'a')")
                raise ValueError
        assert await inbox.is_done(77) is False and not mark.committed
        async with db.transaction():
            await db.execute("INSERT INTO audit_log (at, action, subject) VALUES ('x', 'test', 'b')")
        assert await inbox.is_done(77) is True and mark.committed
    finally:
        drop_commit_mark(token)


async def test_only_the_carrying_task_commits_the_mark(harness):
    inbox, db = harness.services.inbox, harness.services.db
    assert await inbox.store(78, "{}")
    token = carry_commit_mark(inbox.done_mark(78))
    try:

        async def elsewhere() -> None:  # a task the handler started: it copies the context
            async with db.transaction():
                await db.execute("INSERT INTO audit_log (at, action, subject) VALUES ('x', 'test', 'c')")

        await asyncio.create_task(elsewhere())
        assert await inbox.is_done(78) is False
    finally:
        drop_commit_mark(token)


async def test_handled_updates_are_forgotten_after_the_keeping_period(harness):
    inbox = harness.services.inbox
    for update_id in (1, 2):
        assert await inbox.store(update_id, "{}")
    await inbox.finish([inbox.done_mark(1)])
    harness.clock.advance(days=6)
    assert await inbox.purge() == 0
    harness.clock.advance(days=2)
    assert await inbox.purge() == 1
    assert await inbox.is_done(1) is None  # forgotten
    assert await inbox.is_done(2) is False  # not handled: kept whatever its age


async def test_a_get_updates_batch_is_stored_before_the_bot_reads_it(harness):
    """The getUpdates request stores the batch in one statement; the Updater's next call (which
    confirms it to Telegram) can only come after. A batch delivered again is dropped at the door."""
    harness.admin()
    ids = [harness.fake.user_sends(COUNTY_ADMIN_ID, COUNTY_ADMIN_ID, text)["update_id"] for text in ("/help", "/start")]
    updates = await harness.app.bot.get_updates()
    assert [update.update_id for update in updates] == ids
    for update_id in ids:
        assert (await stored(harness, update_id))["done_at"] is None  # stored as it was read
    door = harness.app.updater.update_queue
    for update in updates:
        await door.put(update)
    again = await harness.app.bot.get_updates()  # not confirmed (no offset): delivered again
    for update in again:
        await door.put(update)
    assert door.repeated == 2
    assert await process_queued(harness) == ids
    assert len(help_answers(harness)) == 1
