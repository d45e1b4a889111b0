"""TestClient: requests through the ASGI interface, the lifespan around a ``with`` block, any ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from plumego.contract import APIError, ErrorType, Receive, Request, Scope, Send, StreamingResponse
from plumego.core import App, Component, TestClient


def build(events: list[str]) -> App:
    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"greeting": "hello"}
        events.append("shutdown")

    app = App(lifespan=lifespan)
    app.add_component("db", Component(on_start=lambda: events.append("db start"),
                                      on_stop=lambda: events.append("db stop")))

    async def echo(request: Request) -> dict[str, Any]:
        body = await request.json() if request.method == "POST" else None
        return {
            "method": request.method,
            "path": request.path,
            "id": request.param("id"),
            "tags": request.query_params.getlist("tag"),
            "header": request.headers.get("x-test"),
            "host": request.headers.get("host"),
            "body": body,
            "state": request.state.get("greeting"),
        }

    async def missing(request: Request) -> None:
        raise APIError(ErrorType.NOT_FOUND, "no such thing")

    async def stream(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks(), media_type="text/plain")

    app.get("/things/:id", echo)
    app.post("/things/:id", echo)
    app.get("/missing", missing)
    app.get("/stream", stream)
    return app


def test_requests_without_lifespan() -> None:
    events: list[str] = []
    client = TestClient(build(events), headers={"X-Test": "default"})
    res = client.get("/things/7?tag=a", params={"tag": ["b", "c"]})
    assert res.status_code == 200 and res.headers["content-type"] == "application/json"
    assert res.json() == {"method": "GET", "path": "/things/7", "id": "7", "tags": ["a", "b", "c"],
                          "header": "default", "host": "testserver", "body": None, "state": None}
    res = client.post("/things/8", json={"name": "x"}, headers={"X-Test": "call"})
    assert res.json()["body"] == {"name": "x"} and res.json()["header"] == "call"
    assert events == []  # no lifespan outside a with block


def test_with_block_runs_the_lifespan_and_shares_its_state() -> None:
    events: list[str] = []
    with TestClient(build(events)) as client:
        assert events == ["db start", "startup"]
        assert client.get("/things/1").json()["state"] == "hello"
    assert events == ["db start", "startup", "shutdown", "db stop"]


def test_errors_head_streaming_and_404() -> None:
    client = TestClient(build([]))
    res = client.get("/missing")
    assert res.status_code == 404 and res.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert client.get("/nowhere").status_code == 404
    assert client.head("/things/1").content == b""
    assert client.get("/stream").text == "ab"
    res = client.delete("/things/1")
    assert res.status_code == 405 and "GET" in res.headers["allow"]


def test_any_asgi_app_even_one_without_lifespan() -> None:
    async def raw(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # ignores lifespan entirely
        message = await receive()
        await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"got " + message["body"]})

    with TestClient(raw, base_url="https://api.example:8443") as client:
        res = client.put("/x", content="payload")
    assert (res.status_code, res.text) == (201, "got payload")


def test_failed_startup_raises() -> None:
    def boom() -> None:
        raise RuntimeError("no database")

    app = App()
    app.add_component("db", Component(on_start=boom))
    with pytest.raises(RuntimeError, match="lifespan startup failed.*no database"):
        with TestClient(app):
            pass


async def test_calling_it_from_async_code_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="ASGITransport"):
        TestClient(build([])).get("/things/1")


def test_non_ascii_paths_and_queries_are_percent_encoded_like_a_real_client() -> None:
    app = App()

    async def echo(request: Request) -> dict[str, Any]:
        raw = request.scope["raw_path"].decode()
        return {"name": request.param("name"), "q": request.query_params.get("q"), "raw": raw}

    app.get("/hello/:name", echo)
    res = TestClient(app).get("/hello/zoë?q=café")
    assert res.json() == {"name": "zoë", "q": "café", "raw": "/hello/zo%C3%AB"}
