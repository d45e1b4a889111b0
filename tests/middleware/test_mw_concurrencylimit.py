"""concurrency_limit middleware: busy and queue-timeout 503 envelopes, queued admission, slot release."""

from __future__ import annotations

import asyncio

import pytest
from mw_harness import call, envelope, http_scope, text_app

from plumego.contract import Receive, Scope, Send
from plumego.middleware import concurrency_limit


class Gate:
    """An app whose requests block until released, so tests control exactly how many are in flight."""

    def __init__(self) -> None:
        self.entered = 0
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered += 1
        await self.release.wait()
        await text_app(b"done")(scope, receive, send)


async def _wait_for(predicate: object) -> None:
    for _ in range(200):
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition not reached")


async def test_busy_when_slots_and_queue_are_full() -> None:
    gate = Gate()
    app = concurrency_limit(1)(gate)
    first = asyncio.create_task(call(app, http_scope()))
    await _wait_for(lambda: gate.entered == 1)
    res = await call(app, http_scope())
    assert res.status == 503
    assert res.body == envelope(("server_busy", "server busy", "server_error", "service_unavailable"))
    assert res.header("retry-after") == "1"
    gate.release.set()
    assert (await first).status == 200


async def test_queued_request_runs_when_a_slot_frees() -> None:
    gate = Gate()
    app = concurrency_limit(1, queue_depth=1, queue_timeout=5)(gate)
    first = asyncio.create_task(call(app, http_scope()))
    await _wait_for(lambda: gate.entered == 1)
    second = asyncio.create_task(call(app, http_scope()))
    await asyncio.sleep(0.01)
    assert gate.entered == 1
    third = await call(app, http_scope())  # 1 running + 1 waiting = capacity 2
    assert third.status == 503 and third.json()["error"]["code"] == "server_busy"
    gate.release.set()
    assert (await first).status == 200 and (await second).status == 200


async def test_queue_timeout() -> None:
    gate = Gate()
    app = concurrency_limit(1, queue_depth=2, queue_timeout=0.02)(gate)
    first = asyncio.create_task(call(app, http_scope()))
    await _wait_for(lambda: gate.entered == 1)
    res = await call(app, http_scope())
    assert res.status == 503
    assert res.body == envelope(
        ("server_queue_timeout", "timed out waiting for a free request slot", "server_error", "service_unavailable"),
        details='{"queue_capacity":3,"queue_occupancy":1}',
    )
    gate.release.set()
    await first
    # The slot is free again afterwards.
    assert (await call(app, http_scope())).status == 200


async def test_cancelled_waiter_leaves_queue_and_slots_are_not_leaked() -> None:
    gate = Gate()
    app = concurrency_limit(1, queue_depth=1, queue_timeout=5)(gate)
    first = asyncio.create_task(call(app, http_scope()))
    await _wait_for(lambda: gate.entered == 1)
    waiter = asyncio.create_task(call(app, http_scope()))
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gate.release.set()
    await first
    results = await asyncio.gather(call(app, http_scope()), call(app, http_scope()))
    assert [r.status for r in results] == [200, 200]


async def test_exception_releases_the_slot() -> None:
    async def boom(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError

    app = concurrency_limit(1)(boom)
    for _ in range(3):
        with pytest.raises(RuntimeError):
            await call(app, http_scope())


def test_disabled_and_validation() -> None:
    inner = text_app()
    assert concurrency_limit(0)(inner) is inner
    with pytest.raises(ValueError):
        concurrency_limit(1, queue_depth=-1)
