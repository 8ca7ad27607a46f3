"""Webhook deliveries arriving together are stored together (bot/runtime/inbox.py): one statement
for the calls waiting, each call's 200 only once its update is stored, a repeat passed on once."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Update

from bot.runtime.inbox import door_of
from tests.harness import COUNTY_ADMIN_ID


async def test_concurrent_webhook_calls_share_one_statement_and_each_waits_for_its_store(harness):
    harness.admin()
    raws = [harness.fake.user_sends(COUNTY_ADMIN_ID, COUNTY_ADMIN_ID, f"/help {n}") for n in range(30)]
    for raw in raws:
        harness.fake.discard_update(raw["update_id"])
    door = door_of(harness.app)
    before = door.statements
    updates = [Update.de_json(raw, harness.app.bot) for raw in raws]
    await asyncio.gather(*(door.put(update) for update in updates))  # 30 webhook calls at once
    assert door.statements - before <= 2  # the first alone, the others gathered behind it
    rows = await harness.services.db.fetch_all(
        "SELECT update_id FROM inbox WHERE update_id BETWEEN ? AND ?", (raws[0]["update_id"], raws[-1]["update_id"])
    )
    assert len(rows) == 30  # every put returned after its update was stored
    assert harness.app.update_queue.qsize() == 30
    queued = [harness.app.update_queue.get_nowait().update_id for _ in range(30)]
    assert queued == [raw["update_id"] for raw in raws]  # passed on in the order they came


async def test_an_update_delivered_twice_at_once_is_passed_on_once(harness):
    harness.admin()
    raw = harness.fake.user_sends(COUNTY_ADMIN_ID, COUNTY_ADMIN_ID, "/help")
    harness.fake.discard_update(raw["update_id"])
    door = door_of(harness.app)
    update = Update.de_json(raw, harness.app.bot)
    repeated = door.repeated
    await asyncio.gather(door.put(update), door.put(Update.de_json(raw, harness.app.bot)))
    assert harness.app.update_queue.qsize() == 1 and door.repeated == repeated + 1


async def test_a_store_that_fails_fails_every_call_waiting_for_it(harness, monkeypatch):
    harness.admin()
    raws = [harness.fake.user_sends(COUNTY_ADMIN_ID, COUNTY_ADMIN_ID, f"/help {n}") for n in range(3)]
    door = door_of(harness.app)

    async def broken(updates):
        raise OSError("disk I/O error")

    monkeypatch.setattr(door.inbox, "store_many", broken)
    results = await asyncio.gather(
        *(door.put(Update.de_json(raw, harness.app.bot)) for raw in raws), return_exceptions=True
    )
    assert [type(result) for result in results] == [OSError] * 3  # PTB's webhook answers 500: sent again
    assert harness.app.update_queue.empty()
    with pytest.raises(OSError):
        await door.put(Update.de_json(raws[0], harness.app.bot))
