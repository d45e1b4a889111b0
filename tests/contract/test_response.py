from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from plumego.contract import (
    APIError,
    EnvelopeResponse,
    ErrorResponse,
    ErrorType,
    HandlerApp,
    InvalidResponseStatus,
    JSONResponse,
    PlainTextResponse,
    Request,
    Response,
    StreamingResponse,
    with_request_id,
)

from .asgi_driver import call, http_scope


async def test_bytes_and_text_responses() -> None:
    res = await call(Response(b"raw", 201, {"X-A": "1"}, media_type="application/octet-stream"), http_scope())
    assert res.status == 201 and res.body == b"raw"
    assert res.header("x-a") == "1" and res.header("content-length") == "3"
    assert res.header("content-type") == "application/octet-stream"
    txt = await call(PlainTextResponse("h\u00e9"), http_scope())
    assert txt.body == "h\u00e9".encode() and txt.header("content-type") == "text/plain; charset=utf-8"


async def test_json_response_compact_and_escaped() -> None:
    res = await call(JSONResponse({"message": "Hello, World!", "h": "<"}), http_scope())
    assert res.body == b'{"message":"Hello, World!","h":"\\u003c"}'
    assert res.header("content-type") == "application/json"


async def test_head_drops_body_keeps_length() -> None:
    res = await call(JSONResponse({"a": 1}), http_scope("HEAD"))
    assert res.body == b"" and res.header("content-length") == "7"


async def test_no_body_statuses() -> None:
    res = await call(Response(b"ignored", 204), http_scope())
    assert res.body == b"" and res.header("content-length") is None


async def test_set_and_add_header() -> None:
    r = Response(b"", headers=[("Set-Cookie", "a=1")])
    r.add_header("Set-Cookie", "b=2")
    r.set_header("X-Y", "1")
    r.set_header("x-y", "2")
    res = await call(r, http_scope())
    assert [v for k, v in res.raw_headers if k == b"set-cookie"] == [b"a=1", b"b=2"]
    assert [v for k, v in res.raw_headers if k == b"x-y"] == [b"2"]


async def test_error_response_uses_scope_request_id() -> None:
    scope = http_scope()
    with_request_id(scope, "req-123")
    res = await call(ErrorResponse(APIError(ErrorType.NOT_FOUND, "user not found")), scope)
    assert res.status == 404
    assert res.body == (
        b'{"error":{"code":"RESOURCE_NOT_FOUND","message":"user not found","category":"client_error",'
        b'"type":"resource_not_found"},"request_id":"req-123"}\n'
    )
    assert res.header("content-type") == "application/json"
    assert res.header("content-length") == str(len(res.body))


async def test_envelope_response() -> None:
    scope = http_scope()
    with_request_id(scope, "r9")
    res = await call(EnvelopeResponse({"id": 1}, {"total": 1}, status=201), scope)
    assert res.status == 201
    assert res.body == b'{"data":{"id":1},"meta":{"total":1},"request_id":"r9"}\n'
    empty = await call(EnvelopeResponse(status=204), http_scope())
    assert empty.body == b"" and empty.header("content-type") is None
    with pytest.raises(InvalidResponseStatus):
        EnvelopeResponse(status=400)


async def test_streaming_async_and_sync() -> None:
    async def agen() -> AsyncIterator[bytes | str]:
        yield b"a"
        await asyncio.sleep(0)
        yield "b"

    res = await call(StreamingResponse(agen(), media_type="text/plain"), http_scope())
    assert res.body == b"ab" and res.header("content-type") == "text/plain"
    assert res.messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}

    closed: list[bool] = []

    def gen() -> Iterator[bytes]:
        try:
            yield b"x"
            yield b"y"
        finally:
            closed.append(True)

    res = await call(StreamingResponse(gen()), http_scope())
    assert res.body == b"xy" and closed == [True]


async def test_handler_app_async_sync_and_api_error() -> None:
    async def ahandler(req: Request) -> Response:
        return JSONResponse({"id": req.param("id")})

    def shandler(req: Request) -> Response:
        return PlainTextResponse("sync")

    async def failing(req: Request) -> Response:
        raise APIError(ErrorType.FORBIDDEN, "nope")

    assert (await call(HandlerApp(ahandler), http_scope(path_params={"id": "5"}))).body == b'{"id":"5"}'
    assert (await call(HandlerApp(shandler), http_scope())).body == b"sync"
    res = await call(HandlerApp(failing), http_scope())
    assert res.status == 403 and b'"code":"FORBIDDEN"' in res.body


async def test_handler_returning_non_response_raises() -> None:
    async def bad(req: Request) -> Response:
        return None  # type: ignore[return-value]

    with pytest.raises(TypeError, match="expected a Response"):
        await call(HandlerApp(bad), http_scope())
