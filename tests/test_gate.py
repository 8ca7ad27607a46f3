"""The connection's lock (storage/gate.py): the first lane goes before those queued earlier."""

from __future__ import annotations

import asyncio

import pytest

from storage.gate import Gate


async def test_a_first_lane_waiter_goes_before_earlier_waiters_and_each_lane_keeps_its_order() -> None:
    gate = Gate()
    order: list[str] = []
    await gate.acquire()  # a transaction in progress

    async def waiter(name: str, first: bool) -> None:
        if first:
            with Gate.first_lane():
                await gate.acquire()
        else:
            await gate.acquire()
        order.append(name)
        await asyncio.sleep(0)
        gate.release()

    tasks = [
        asyncio.create_task(waiter(n, f)) for n, f in (("a", False), ("b", False), ("store1", True), ("store2", True))
    ]
    await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(*tasks)
    assert order == ["store1", "store2", "a", "b"]
    assert not gate.locked()


async def test_a_cancelled_waiter_neither_keeps_the_gate_nor_loses_it_for_the_others() -> None:
    gate = Gate()
    await gate.acquire()
    cancelled = asyncio.create_task(gate.acquire())
    later = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    gate.release()
    await asyncio.wait_for(later, 1)  # the next waiter got it
    assert gate.locked()
    # Cancelled just as the gate was handed to it: passed on, not kept.
    handed = asyncio.create_task(gate.acquire())
    after = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    gate.release()  # hands the gate to `handed`...
    handed.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await handed
    await asyncio.wait_for(after, 1)
    gate.release()
    assert not gate.locked()
    with pytest.raises(RuntimeError):
        gate.release()
