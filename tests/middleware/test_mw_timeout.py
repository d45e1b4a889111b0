"""timeout middleware: 504 envelope, the handler is cancelled, late sends are dropped."""

from __future__ import annotations

import asyncio

import pytest
from mw_harness import call, call_raw, envelope, http_scope, text_app

from plumego.contract import Receive, Scope, Send
from plumego.middleware import Chain, ResponseTimeout, request_id, timeout

GATEWAY_TIMEOUT = ("TIMEOUT", "request timed out", "timeout_error", "gateway_timeout")


async def test_slow_handler_is_cancelled_and_gets_504() -> None:
    state: dict[str, bool] = {"cancelled": False, "finished": False}

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(10)
            state["finished"] = True
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise

    app = Chain(request_id(), timeout(0.05)).build(slow)
    res = await call(app, http_scope(headers=[(b"x-request-id", b"t-1")]))
    assert res.status == 504
    assert res.body == envelope(GATEWAY_TIMEOUT, request_id="t-1")
    assert state == {"cancelled": True, "finished": False}


async def test_fast_handler_is_untouched() -> None:
    res = await call(timeout(5)(text_app(b"quick")), http_scope())
    assert res.status == 200 and res.body == b"quick"


async def test_deadline_after_response_started_aborts() -> None:
    async def stream(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await asyncio.sleep(10)

    sent = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    with pytest.raises(ResponseTimeout):
        await timeout(0.05)(stream)(http_scope(), receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


async def test_handler_timeout_error_is_not_mistaken_for_the_deadline() -> None:
    async def raises(scope: Scope, receive: Receive, send: Send) -> None:
        raise TimeoutError("upstream")

    with pytest.raises(TimeoutError, match="upstream"):
        await call_raw(timeout(5)(raises), http_scope())


async def test_background_send_after_deadline_is_dropped() -> None:
    leaked: list[asyncio.Task[None]] = []

    async def sneaky(scope: Scope, receive: Receive, send: Send) -> None:
        async def later() -> None:
            await asyncio.sleep(0.1)
            await send({"type": "http.response.start", "status": 200, "headers": []})

        leaked.append(asyncio.create_task(later()))
        await asyncio.sleep(10)

    sent = await call_raw(timeout(0.02)(sneaky), http_scope())
    await leaked[0]
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [504]


def test_disabled() -> None:
    inner = text_app()
    assert timeout(0)(inner) is inner


async def test_handler_swallowing_cancellation_still_gets_504_and_task_is_clean() -> None:
    async def stubborn(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})

    res = await call(timeout(0.02)(stubborn), http_scope())
    assert res.status == 504
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0)  # no stray cancellation is pending on the caller


async def test_outer_cancellation_is_not_turned_into_504() -> None:
    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(10)

    task = asyncio.create_task(call_raw(timeout(5)(slow), http_scope()))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_many_requests_share_one_timer_and_each_expires() -> None:
    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(scope["delay"])
        await text_app(b"ok")(scope, receive, send)

    app = timeout(0.05)(slow)
    results = await asyncio.gather(
        *(call(app, http_scope(delay=d)) for d in (0.0, 10, 0.0, 10, 0.001))
    )
    assert [r.status for r in results] == [200, 504, 200, 504, 200]


async def test_handler_turning_cancellation_into_another_error_leaves_task_clean() -> None:
    async def converts(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise RuntimeError("cleanup failed") from None

    with pytest.raises(RuntimeError, match="cleanup failed"):
        await call_raw(timeout(0.02)(converts), http_scope())
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
