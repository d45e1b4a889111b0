"""recovery middleware: 500 envelope, traceback logged server-side only, abort after the response started."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from mw_harness import call, call_raw, envelope, http_scope, text_app

from plumego.contract import Receive, Scope, Send
from plumego.log import LoggerConfig, new_logger
from plumego.middleware import Chain, recovery, request_id

INTERNAL = ("INTERNAL_ERROR", "internal server error", "server_error", "internal_error")


# Built at run time, so that a traceback's source lines (which show code) cannot contain the value.
SECRET = "".join(["hunter", "2"])
TOKEN = "".join(["a", "bc"])


async def exploding(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("db password is " + SECRET)


async def test_exception_becomes_500_envelope_without_leaking() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf))
    res = await call(recovery(logger)(exploding), http_scope("POST", "/items"))
    assert res.status == 500
    assert res.body == envelope(INTERNAL)
    assert res.header("content-type") == "application/json"
    assert res.header("content-length") == str(len(res.body))
    assert b"hunter2" not in res.body and b"Traceback" not in res.body
    record = json.loads(buf.getvalue())
    assert record["level"] == "ERROR" and record["msg"] == "panic recovered"
    assert record["method"] == "POST" and record["path"] == "/items" and record["status"] == 500
    assert record["panic_type"] == "RuntimeError"
    # Go logs the panic type, never its value: the frames and the type, not the message.
    assert "Traceback" in record["traceback"] and "in exploding" in record["traceback"]
    assert record["traceback"].rstrip().endswith("RuntimeError")
    assert "hunter2" not in buf.getvalue() and "panic_message" not in record


async def test_chained_exception_messages_stay_out_of_the_log() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="text", output=buf))

    async def chained(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            raise KeyError(f"token={TOKEN}")
        except KeyError as exc:
            raise ValueError(f"password={SECRET} token={TOKEN}") from exc

    res = await call(recovery(logger)(chained), http_scope())
    assert res.status == 500
    text = buf.getvalue()
    assert "hunter2" not in text and "token=abc" not in text
    assert "KeyError" in text and "ValueError" in text and "direct cause" in text


async def test_development_option_logs_the_message() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf))
    res = await call(recovery(logger, include_message=True)(exploding), http_scope())
    assert res.status == 500 and b"hunter2" not in res.body
    record = json.loads(buf.getvalue())
    assert record["panic_message"] == "db password is hunter2"
    assert "RuntimeError: db password is hunter2" in record["traceback"]


async def test_envelope_carries_request_id_when_requestid_is_outer() -> None:
    logger = new_logger(LoggerConfig(format="discard"))
    app = Chain(request_id(), recovery(logger)).build(exploding)
    res = await call(app, http_scope(headers=[(b"x-request-id", b"req-9")]))
    assert res.body == envelope(INTERNAL, request_id="req-9")
    assert res.header("x-request-id") == "req-9"


async def test_after_response_started_the_exception_propagates() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf))

    async def half(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("mid-stream")

    sent = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    with pytest.raises(ValueError):
        await recovery(logger)(half)(http_scope(), receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert json.loads(buf.getvalue())["response_started"] is True


async def test_cancellation_is_not_swallowed() -> None:
    async def cancelled(scope: Scope, receive: Receive, send: Send) -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await call_raw(recovery(new_logger(LoggerConfig(format="discard")))(cancelled), http_scope())


async def test_head_request_gets_status_without_body() -> None:
    res = await call(recovery(new_logger(LoggerConfig(format="discard")))(exploding), http_scope("HEAD"))
    assert res.status == 500 and res.body == b""


async def test_passes_normal_responses_and_requires_logger() -> None:
    res = await call(recovery(new_logger(LoggerConfig(format="discard")))(text_app()), http_scope())
    assert res.status == 200 and res.body == b"hello"
    with pytest.raises(ValueError):
        recovery(None)  # type: ignore[arg-type]


async def test_api_error_from_raw_asgi_code_answers_its_own_envelope_unlogged() -> None:
    from plumego.contract import APIError, ErrorType

    async def forbidden(scope: Scope, receive: Receive, send: Send) -> None:
        raise APIError(ErrorType.FORBIDDEN, "no entry", details={"role": "guest"})

    buf = io.StringIO()
    res = await call(recovery(new_logger(LoggerConfig(format="json", output=buf)))(forbidden), http_scope())
    assert res.status == 403
    assert res.body == envelope(
        ("FORBIDDEN", "no entry", "auth_error", "forbidden_request"), details='{"role":"guest"}'
    )
    assert buf.getvalue() == ""
