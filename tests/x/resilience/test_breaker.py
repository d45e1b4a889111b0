"""The circuit breaker's Go semantics on a fake clock, and its middleware's 503/429 envelopes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from plumego.contract import Receive, Scope, Send
from plumego.x.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    Counts,
    State,
    TooManyRequestsError,
    circuit_breaker,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock, **kw: Any) -> tuple[CircuitBreaker, list[tuple[str, State, State]]]:
    changes: list[tuple[str, State, State]] = []
    kw.setdefault("on_state_change", lambda *c: changes.append(c))
    return CircuitBreaker("svc", clock=clock, **kw), changes


def run(b: CircuitBreaker, ok: bool) -> None:
    b.record(b.acquire(), ok)


def test_failure_rate_trips_only_after_min_requests() -> None:
    clock = Clock()
    b, changes = make(clock, failure_threshold=0.5, min_requests=4, timeout=10)
    for _ in range(3):
        run(b, False)                      # 3 failures of 3 requests: below min_requests, still closed
    assert b.state is State.CLOSED and b.counts() == Counts(3, 0, 3, 0, 3)
    run(b, True)                           # 3/4 failed but a success never trips
    assert b.state is State.CLOSED
    run(b, False)                          # 4/5 >= 0.5
    assert b.state is State.OPEN and changes == [("svc", State.CLOSED, State.OPEN)]
    with pytest.raises(CircuitOpenError):
        b.acquire()


def test_rate_below_threshold_stays_closed() -> None:
    b, _ = make(Clock(), failure_threshold=0.5, min_requests=4)
    for ok in (True, True, True, False, True, False):
        run(b, ok)                          # 2 of 6 failed
    assert b.state is State.CLOSED


def test_half_open_probes_then_close() -> None:
    clock = Clock()
    b, changes = make(clock, min_requests=1, timeout=10, success_threshold=3, max_requests=1)
    run(b, False)
    clock.now += 9.9
    with pytest.raises(CircuitOpenError):
        b.acquire()
    clock.now += 0.1
    ticket = b.acquire()                   # the timeout passed: one probe admitted
    assert b.state is State.HALF_OPEN
    with pytest.raises(TooManyRequestsError):
        b.acquire()                        # max_requests=1 probe in flight
    b.record(ticket, True)
    run(b, True)                           # the limit counts probes in flight, so sequential probes go on
    assert b.state is State.HALF_OPEN
    run(b, True)
    assert b.state is State.CLOSED and b.counts() == Counts()
    assert [c[1:] for c in changes] == [(State.CLOSED, State.OPEN), (State.OPEN, State.HALF_OPEN),
                                        (State.HALF_OPEN, State.CLOSED)]


def test_half_open_failure_reopens_and_stale_outcomes_are_ignored() -> None:
    clock = Clock()
    b, _ = make(clock, min_requests=1, timeout=5)
    stale = b.acquire()
    run(b, False)
    b.record(stale, False)                 # from before the trip: ignored
    assert b.counts() == Counts()
    clock.now += 5
    run(b, False)
    assert b.state is State.OPEN


def test_should_trip_reset_trip_and_broken_callback() -> None:
    clock = Clock()

    def boom(*_: object) -> None:
        raise RuntimeError("observer bug")

    b, _ = make(clock, min_requests=1, should_trip=lambda c: c.consecutive_failures >= 2, on_state_change=boom)
    run(b, False)
    assert b.state is State.CLOSED
    run(b, False)
    assert b.state is State.OPEN          # the callback raised; the breaker did not
    b.reset()
    assert b.state is State.CLOSED
    b.trip()
    assert b.stats().state is State.OPEN and b.stats().name == "svc"


async def test_call_counts_exceptions_and_awaits() -> None:
    b, _ = make(Clock(), min_requests=3)

    async def ok(x: int) -> int:
        return x * 2

    def bad() -> None:
        raise ValueError("down")

    assert await b.call(ok, 21) == 42
    with pytest.raises(ValueError):
        await b.call(bad)
    with pytest.raises(ValueError):
        b.call_sync(bad)
    assert b.state is State.OPEN          # 2 of 3 failed
    with pytest.raises(CircuitOpenError):
        await b.call(ok, 1)


def test_bad_config() -> None:
    for kw in ({"failure_threshold": 5}, {"failure_threshold": 0}, {"min_requests": 0}, {"timeout": -1}):
        with pytest.raises(ValueError):
            CircuitBreaker(**kw)  # type: ignore[arg-type]


async def _get(app: Any) -> tuple[int, dict[str, str], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": "/", "headers": []}, receive, send)
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


async def test_middleware_503_then_429_then_closes() -> None:
    clock = Clock()
    b, _ = make(clock, min_requests=2, timeout=1, success_threshold=1)
    status = [500]

    async def backend(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status[0], "headers": []})
        await send({"type": "http.response.body", "body": b"x"})

    app = circuit_breaker(b)(backend)
    assert (await _get(app))[0] == 500
    assert (await _get(app))[0] == 500
    code, headers, body = await _get(app)
    assert code == 503 and headers["x-circuit-breaker-state"] == "open"
    error = json.loads(body)["error"]
    assert error["code"] == "CIRCUIT_OPEN" and error["details"] == {"circuit": "svc", "state": "open"}
    clock.now += 1
    ticket = b.acquire()                  # a probe in flight: the middleware's request overflows
    code, headers, body = await _get(app)
    assert code == 429 and json.loads(body)["error"]["code"] == "RATE_LIMITED"
    assert headers["x-circuit-breaker-state"] == "half-open"
    b.record(ticket, True)                # success_threshold=1: closed again
    status[0] = 200
    assert (await _get(app))[0] == 200 and b.state is State.CLOSED
