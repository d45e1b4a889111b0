from __future__ import annotations

from typing import Any

import pytest

from plumego.contract import APIError, ClientDisconnect, Message, Request, with_request_id

from .asgi_driver import http_scope


def make(body_chunks: list[bytes] | None = None, **kw: Any) -> Request:
    chunks = list(body_chunks if body_chunks is not None else [b""])

    async def receive() -> Message:
        if chunks:
            c = chunks.pop(0)
            return {"type": "http.request", "body": c, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    return Request(http_scope(**kw), receive)


def test_headers_case_insensitive_multi() -> None:
    req = make(headers=[(b"X-Thing", b"1"), (b"x-thing", b"2"), (b"Content-Type", b"application/json")])
    assert req.headers["x-THING"] == "1"
    assert req.headers.getlist("X-Thing") == ["1", "2"]
    assert "content-type" in req.headers and req.content_type == "application/json"
    assert req.headers.get("missing") is None


def test_query_params_and_cookies() -> None:
    req = make(query_string=b"a=1&a=2&b=&c=%20x", headers=[(b"cookie", b"sid=abc; theme=dark")])
    assert req.query_params["a"] == "1"
    assert req.query_params.getlist("a") == ["1", "2"]
    assert req.query_params["b"] == "" and req.query_params["c"] == " x"
    assert req.cookies == {"sid": "abc", "theme": "dark"}


def test_path_params_and_carriers() -> None:
    req = make(path_params={"id": "9"})
    assert req.param("id") == "9" and req.param("nope", "d") == "d"
    assert req.path_params == {"id": "9"}
    with_request_id(req.scope, "rid")
    assert req.request_id == "rid"
    assert make().param("id") == ""


async def test_body_chunks_json_and_caching() -> None:
    req = make([b'{"a":', b" [1, 2]}"], method="POST")
    assert await req.body() == b'{"a": [1, 2]}'
    assert await req.json() == {"a": [1, 2]}
    assert await req.json() == {"a": [1, 2]}
    assert [c async for c in req.stream()] == [b'{"a": [1, 2]}']


async def test_bad_json_is_clear_api_error() -> None:
    with pytest.raises(APIError) as info:
        await make([b'{"a": ']).json()
    err = info.value
    assert (err.status, err.code, err.type) == (400, "INVALID_JSON", "bad_request")
    assert err.message == "request body is not valid JSON"
    assert set(err.details) == {"reason", "line", "column"}


async def test_empty_and_non_utf8_json() -> None:
    with pytest.raises(APIError, match="empty"):
        await make([b"  "]).json()
    with pytest.raises(APIError) as info:
        await make([b"\xff\xfe"]).json()
    assert info.value.code == "INVALID_JSON"


async def test_disconnect_while_reading() -> None:
    req = make([])
    with pytest.raises(ClientDisconnect):
        await req.body()


async def test_stream_twice_is_an_error() -> None:
    req = make([b"a", b"b"])
    assert [c async for c in req.stream()] == [b"a", b"b"]
    with pytest.raises(RuntimeError):
        [c async for c in req.stream()]
