"""request_id middleware and the Go-compatible id generator."""

from __future__ import annotations

import random
import re
import threading
import time

import pytest
from mw_harness import call, http_scope, text_app

from plumego.contract import ASGIApp, Receive, Scope, Send, request_id_from_scope
from plumego.middleware import RequestIDGenerator, decode_request_id, request_id

_ID_RE = re.compile(r"[0-9A-Za-z]{12}")


def capturing_app(seen: dict[str, object]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["rid"] = request_id_from_scope(scope)
        seen["headers"] = [(k, v) for k, v in scope["headers"] if k == b"x-request-id"]
        await text_app()(scope, receive, send)

    return app


def test_generator_format_is_decodable_and_time_ordered() -> None:
    gen = RequestIDGenerator()
    before = time.time_ns() // 1_000_000
    ids = [gen() for _ in range(3000)]
    after = time.time_ns() // 1_000_000
    assert all(_ID_RE.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)
    decoded = [decode_request_id(i) for i in ids]
    assert before <= decoded[0].unix_ms <= after + 3  # sequence exhaustion may borrow a millisecond
    keys = [(d.unix_ms, d.sequence) for d in decoded]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(0 <= d.random < 2**14 and 0 <= d.sequence < 1024 for d in decoded)


def test_generator_digits_are_exact_across_milliseconds_and_carries(monkeypatch: pytest.MonkeyPatch) -> None:
    # The generator computes the 8 leading digits once per millisecond and adds the low 24 bits with a
    # carry; across many milliseconds (every carry case) each id must decode to its own time and sequence.
    gen = RequestIDGenerator()
    clock = [1_700_000_000_000]
    monkeypatch.setattr(time, "time_ns", lambda: clock[0] * 1_000_000)
    rng = random.Random(7)
    for _ in range(3000):
        clock[0] += rng.randrange(1, 10**6)
        for sequence in range(3):
            decoded = decode_request_id(gen())
            assert (decoded.unix_ms, decoded.sequence) == (clock[0], sequence)


def test_generator_is_thread_safe() -> None:
    gen = RequestIDGenerator()
    out: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        local = [gen() for _ in range(1000)]
        with lock:
            out.extend(local)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 4000


def test_generator_borrows_the_next_millisecond_and_never_goes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    gen = RequestIDGenerator()
    clock = [1_700_000_000_000]
    monkeypatch.setattr(time, "time_ns", lambda: clock[0] * 1_000_000)
    keys = [(d.unix_ms, d.sequence) for d in (decode_request_id(gen()) for _ in range(1030))]
    assert keys[:1024] == [(clock[0], n) for n in range(1024)]
    assert keys[1024:] == [(clock[0] + 1, n) for n in range(6)]  # 1024 ids exhausted the millisecond
    clock[0] += 1  # the clock reaches the borrowed millisecond: its sequence goes on
    assert (decode_request_id(gen()).unix_ms, decode_request_id(gen()).sequence) == (clock[0], 7)
    clock[0] -= 500  # a clock stepping back keeps the last millisecond
    decoded = decode_request_id(gen())
    assert (decoded.unix_ms, decoded.sequence) == (clock[0] + 500, 8)


def test_generator_is_unique_across_threads_while_milliseconds_change(monkeypatch: pytest.MonkeyPatch) -> None:
    # No lock per id: threads switching every few bytecodes while the (fake) clock moves on every 37 calls
    # must still never share a (millisecond, sequence) pair, through new milliseconds and exhausted ones.
    import itertools
    import sys

    calls = itertools.count()
    monkeypatch.setattr(time, "time_ns", lambda: (1_700_000_000_000 + next(calls) // 37) * 1_000_000)
    gen = RequestIDGenerator()
    out: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        local = [gen() for _ in range(3000)]
        with lock:
            out.extend(local)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    keys = {(d.unix_ms, d.sequence) for d in map(decode_request_id, out)}
    assert len(keys) == len(out) == 12000


@pytest.mark.parametrize("bad", ["short", "0123456789AB!", "0123456789A!", "zzzzzzzzzzzz"])
def test_decode_rejects_invalid(bad: str) -> None:
    with pytest.raises(ValueError):
        decode_request_id(bad)


def test_decode_known_value() -> None:
    # 2020-01-01 + 1000 ms, random 5, sequence 7
    value = (1000 << 24) | (5 << 10) | 7
    digits = ""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    for _ in range(12):
        value, d = divmod(value, 62)
        digits = alphabet[d] + digits
    decoded = decode_request_id(digits)
    assert (decoded.unix_ms, decoded.random, decoded.sequence) == (1_577_836_801_000, 5, 7)


async def test_generates_id_stores_it_and_echoes_it() -> None:
    seen: dict[str, object] = {}
    res = await call(request_id()(capturing_app(seen)), http_scope())
    rid = res.header("X-Request-ID")
    assert rid is not None and _ID_RE.fullmatch(rid)
    assert seen["rid"] == rid
    assert seen["headers"] == [(b"x-request-id", rid.encode())]


async def test_accepts_valid_incoming_id_trimmed() -> None:
    seen: dict[str, object] = {}
    scope = http_scope(headers=[(b"x-request-id", b"  req-123  ")])
    res = await call(request_id()(capturing_app(seen)), scope)
    assert res.header("x-request-id") == "req-123"
    assert seen["rid"] == "req-123"
    assert seen["headers"] == [(b"x-request-id", b"req-123")]


@pytest.mark.parametrize(
    "bad",
    [b"", b"   ", b"a" * 129, b"bad\x01id", b"bad\x7fid", b"\xff\xfe",
     # issue 13.3: non-ASCII control, separator and bidi characters are refused like ASCII controls
     "id\u0085".encode(), "\u009b31m".encode(), "a\u2028b".encode(), "\u202eid".encode()],
)
async def test_rejects_invalid_incoming_id_and_generates(bad: bytes) -> None:
    seen: dict[str, object] = {}
    res = await call(request_id()(capturing_app(seen)), http_scope(headers=[(b"x-request-id", bad)]))
    rid = res.header("x-request-id")
    assert rid is not None and _ID_RE.fullmatch(rid)
    assert seen["headers"] == [(b"x-request-id", rid.encode())]


async def test_accepts_128_byte_id() -> None:
    rid = "r" * 128
    res = await call(request_id()(text_app()), http_scope(headers=[(b"x-request-id", rid.encode())]))
    assert res.header("x-request-id") == rid


async def test_custom_generator_and_no_request_header() -> None:
    seen: dict[str, object] = {}
    app = request_id(generator=lambda: "fixed-id", set_request_header=False)(capturing_app(seen))
    res = await call(app, http_scope())
    assert res.header("x-request-id") == "fixed-id"
    assert seen["rid"] == "fixed-id" and seen["headers"] == []


async def test_unusable_custom_generator_falls_back() -> None:
    res = await call(request_id(generator=lambda: "  ")(text_app()), http_scope())
    rid = res.header("x-request-id")
    assert rid is not None and _ID_RE.fullmatch(rid)


async def test_existing_scope_id_wins_and_handler_header_is_kept() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"X-Request-ID", b"own")]})
        await send({"type": "http.response.body", "body": b""})

    scope = http_scope(headers=[(b"x-request-id", b"incoming")])
    scope["plumego.request_id"] = "from-scope"
    res = await call(request_id()(app), scope)
    assert res.headers("x-request-id") == ["own"]
    assert request_id_from_scope(scope) == "from-scope"


async def test_lifespan_passes_through() -> None:
    called: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope["type"])

    scope = {"type": "lifespan"}
    await request_id()(app)(scope, None, None)  # type: ignore[arg-type]
    assert called == ["lifespan"] and "plumego.request_id" not in scope


async def test_utf8_incoming_id_is_echoed_byte_for_byte() -> None:
    raw = "req-é-1".encode()
    seen: dict[str, object] = {}
    res = await call(request_id()(capturing_app(seen)), http_scope(headers=[(b"x-request-id", raw)]))
    assert [v for k, v in res.raw_headers if k == b"x-request-id"] == [raw]
    assert seen["rid"] == "req-é-1"
