"""body_limit middleware: declared Content-Length and streamed (chunked) overruns both answer 413."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from mw_harness import call, call_raw, envelope, http_scope

from plumego.contract import Message, Receive, Scope, Send
from plumego.log import LoggerConfig, new_logger
from plumego.middleware import Chain, RequestBodyTooLarge, body_limit, request_id

CHUNKED = [(b"transfer-encoding", b"chunked")]
TOO_LARGE = ("REQUEST_BODY_TOO_LARGE", "request body exceeds configured limit", "client_error", "payload_too_large")


def echo_app(calls: list[str]) -> object:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append("called")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})

    return app


async def test_content_length_over_limit_is_rejected_before_the_app() -> None:
    calls: list[str] = []
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf))
    app = Chain(request_id(), body_limit(10, logger=logger)).build(echo_app(calls))  # type: ignore[arg-type]
    scope = http_scope("POST", headers=[(b"content-length", b"11"), (b"x-request-id", b"rid-1")])
    res = await call(app, scope, [b"x" * 11])
    assert calls == []
    assert res.status == 413
    assert res.body == envelope(
        TOO_LARGE, request_id="rid-1", details='{"at":"content_length","max_bytes":10,"seen_bytes":11}'
    )
    assert res.header("connection") is None  # 11 bytes left: read and dropped, the connection stays usable
    record = json.loads(buf.getvalue())
    assert record["level"] == "WARN" and record["seen_bytes"] == 11 and record["request_id"] == "rid-1"


async def test_body_at_limit_passes() -> None:
    calls: list[str] = []
    app = body_limit(10)(echo_app(calls))  # type: ignore[arg-type]
    res = await call(app, http_scope("POST", headers=[(b"content-length", b"10")]), [b"x" * 10])
    assert res.status == 200 and res.body == b"x" * 10


async def test_chunked_body_over_limit_while_streaming() -> None:
    calls: list[str] = []
    app = body_limit(10)(echo_app(calls))  # type: ignore[arg-type]
    res = await call(app, http_scope("POST", headers=CHUNKED), [b"abcd", b"efgh", b"ijkl"])
    assert calls == ["called"]
    assert res.status == 413
    assert res.body == envelope(TOO_LARGE, details='{"at":"body","max_bytes":10,"seen_bytes":12}')


async def test_lying_content_length_is_caught_while_streaming() -> None:
    app = body_limit(5)(echo_app([]))  # type: ignore[arg-type]
    res = await call(app, http_scope("POST", headers=[(b"content-length", b"3")]), [b"abc", b"def"])
    assert res.status == 413


async def test_handler_that_catches_the_error_cannot_send_a_second_response() -> None:
    async def stubborn(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while (await receive()).get("more_body"):
                pass
        except RequestBodyTooLarge as exc:
            assert exc.status == 413 and exc.max_bytes == 4
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ignored"})

    sent = await call_raw(body_limit(4)(stubborn), http_scope("POST", headers=CHUNKED), [b"abc", b"def"])
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert statuses == [413]
    assert b"ignored" not in b"".join(m.get("body", b"") for m in sent)


async def test_overrun_after_response_started_propagates() -> None:
    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (await receive()).get("more_body"):
            pass

    with pytest.raises(RequestBodyTooLarge):
        await call_raw(body_limit(2)(streaming), http_scope("POST", headers=CHUNKED), [b"abc", b"d"])


async def test_disabled_and_non_http() -> None:
    inner = echo_app([])
    assert body_limit(0)(inner) is inner  # type: ignore[arg-type]
    seen: list[Message] = []

    async def ws(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        return None

    await body_limit(1)(ws)({"type": "websocket", "headers": []}, receive, send)
    assert seen == [{"type": "websocket.connect"}]


async def test_malformed_content_length_falls_back_to_counting() -> None:
    app = body_limit(3)(echo_app([]))  # type: ignore[arg-type]
    res = await call(app, http_scope("POST", headers=[(b"content-length", b"abc")]), [b"abcd"])
    assert res.status == 413


def recording_receive(chunks: list[bytes], log: list[str]) -> Receive:
    """A receive() that hands out ``chunks`` and notes each call in ``log`` (shared with the send log)."""
    pending = list(chunks)

    async def receive() -> Message:
        if pending:
            chunk = pending.pop(0)
            log.append(f"recv {len(chunk)}")
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
        log.append("recv disconnect")
        return {"type": "http.disconnect"}

    return receive


def recording_send(log: list[str], sent: list[Message]) -> Send:
    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.start":
            log.append(f"start {message['status']}")
        else:
            log.append(f"body more={bool(message.get('more_body'))}")

    return send


async def test_large_declared_body_closes_after_consuming_what_the_client_sends() -> None:
    log: list[str] = []
    sent: list[Message] = []
    app = body_limit(10, discard_bytes=100)(echo_app([]))  # type: ignore[arg-type]
    scope = http_scope("POST", headers=[(b"content-length", b"300")])
    await app(scope, recording_receive([b"x" * 100] * 3, log), recording_send(log, sent))
    # 300 bytes left > discard_bytes: 413 with Connection: close, its body sent, then the request body is
    # read to its end before the final (empty) body message lets the server close: no TCP reset.
    assert log == ["start 413", "body more=True", "recv 100", "recv 100", "recv 100", "body more=False"]
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["error"]["details"]["at"] == "content_length"


async def test_expect_100_continue_is_answered_without_asking_for_the_body() -> None:
    log: list[str] = []
    sent: list[Message] = []
    app = body_limit(10)(echo_app([]))  # type: ignore[arg-type]
    scope = http_scope("POST", headers=[(b"content-length", b"50"), (b"expect", b"100-continue")])
    await app(scope, recording_receive([b"x" * 50], log), recording_send(log, sent))
    assert log == ["start 413", "body more=False"]  # never called receive(), so no 100 Continue went out
    assert (b"connection", b"close") in sent[0]["headers"]


async def test_streamed_overrun_with_small_remainder_keeps_the_connection() -> None:
    log: list[str] = []
    sent: list[Message] = []
    app = body_limit(10, discard_bytes=8)(echo_app([]))  # type: ignore[arg-type]
    receive = recording_receive([b"abcdef", b"ghijkl", b"mnop"], log)
    await app(http_scope("POST", headers=CHUNKED), receive, recording_send(log, sent))
    assert log == ["recv 6", "recv 6", "recv 4", "start 413", "body more=False"]
    assert all(name != b"connection" for name, _ in sent[0]["headers"])


async def test_streamed_overrun_with_large_remainder_closes_gracefully() -> None:
    log: list[str] = []
    sent: list[Message] = []
    app = body_limit(10, discard_bytes=8)(echo_app([]))  # type: ignore[arg-type]
    chunks = [b"abcdef", b"ghijkl", b"x" * 6, b"y" * 6, b"z" * 6]
    await app(http_scope("POST", headers=CHUNKED), recording_receive(chunks, log), recording_send(log, sent))
    # 12 bytes discarded are past discard_bytes: close, but only after the rest was consumed.
    assert log == ["recv 6", "recv 6", "recv 6", "recv 6", "start 413", "body more=True", "recv 6",
                   "body more=False"]
    assert (b"connection", b"close") in sent[0]["headers"]


async def test_draining_is_bounded_in_time() -> None:
    sent: list[Message] = []
    log: list[str] = []

    async def stalled_receive() -> Message:
        await asyncio.sleep(3600)  # a client that never sends the rest
        raise AssertionError("unreachable")

    app = body_limit(10, drain_seconds=0.05)(echo_app([]))  # type: ignore[arg-type]
    scope = http_scope("POST", headers=[(b"content-length", b"20")])
    await asyncio.wait_for(app(scope, stalled_receive, recording_send(log, sent)), timeout=30)
    assert log == ["start 413", "body more=True", "body more=False"]
    assert (b"connection", b"close") in sent[0]["headers"]


def test_negative_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        body_limit(10, discard_bytes=-1)
    with pytest.raises(ValueError):
        body_limit(10, drain_seconds=-0.1)


async def test_request_without_body_framing_skips_the_counting() -> None:
    seen: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(receive)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    limited = body_limit(10)(app)  # type: ignore[arg-type]
    await limited(http_scope("GET"), receive, send)  # HTTP/1.1 without Content-Length/Transfer-Encoding
    await limited(http_scope("GET", http_version="2"), receive, send)  # HTTP/2 may stream a body anyway
    assert seen[0] is receive and seen[1] is not receive
