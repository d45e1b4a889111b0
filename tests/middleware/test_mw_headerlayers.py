"""Header layers (request_id, security_headers) run fused — by the App itself when they come first, as one
layer when consecutive — and must answer exactly what the same middleware nested one layer each answers
(issue 12.6: the per-layer send wrappers were the cost, the behaviour must not change)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest

from plumego.contract import (
    ASGIApp,
    JSONResponse,
    Message,
    Middleware,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    request_id_from_scope,
)
from plumego.core import App, AppConfig
from plumego.log import LoggerConfig, new_logger
from plumego.middleware import Chain, HeaderLayer, cors, fuse_middleware, recovery, request_id, security_headers
from tests.middleware.mw_harness import call_raw, http_scope


def _as_nested_layer(layer: HeaderLayer) -> Middleware:
    """The plain ASGI layer a header layer stands for: its own prepare and its own send wrapper."""
    ((prepare, apply),) = layer.hooks

    def wrap(app: ASGIApp) -> ASGIApp:
        async def layer_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] not in ("http", "websocket"):
                await app(scope, receive, send)
                return
            data = prepare(scope)
            if scope["type"] != "http" or data is None:
                await app(scope, receive, send)
                return

            async def layer_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": apply(list(message.get("headers") or ()), data)}
                await send(message)

            await app(scope, receive, layer_send)

        return layer_app

    return wrap


def _counter_ids() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"id-{next(numbers):04d}"


async def _plain(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _own_headers(request: Request) -> Response:
    return JSONResponse({"own": True}, headers={"X-Request-ID": "handler-id",
                                                 "Content-Security-Policy": "default-src 'none'"})


async def _seen(request: Request) -> Response:
    return JSONResponse({"rid": request_id_from_scope(request.scope), "header": request.headers.get("x-request-id")})


async def _boom(request: Request) -> Response:
    raise RuntimeError("boom")


STACKS: dict[str, Callable[[], list[Middleware]]] = {
    "rid+sec": lambda: [request_id(generator=_counter_ids()), security_headers()],
    "rid(default)+sec": lambda: [request_id(), security_headers()],
    "reference order": lambda: [request_id(generator=_counter_ids()), security_headers(), cors(),
                                recovery(new_logger(LoggerConfig(format="discard")))],
    "run inside cors": lambda: [cors(), request_id(generator=_counter_ids()), security_headers()],
    "split runs": lambda: [security_headers(), recovery(new_logger(LoggerConfig(format="discard"))),
                           request_id(generator=_counter_ids(), set_request_header=False)],
}

REQUESTS: list[tuple[str, list[tuple[bytes, bytes]], str]] = [
    ("/plain", [], "http"),
    ("/plain", [(b"x-request-id", b"  client-id-1 ")], "https"),
    ("/plain", [(b"x-request-id", b"bad\x01id"), (b"origin", b"https://a.example")], "http"),
    ("/own", [(b"origin", b"https://a.example")], "https"),
    ("/seen", [(b"x-request-id", b"client-id-2")], "http"),
    ("/seen", [], "http"),
    ("/boom", [], "https"),
    ("/missing", [], "http"),
]


def _app(middleware: list[Middleware], config: AppConfig | None = None) -> App:
    app = App(config)
    app.get("/plain", _plain)
    app.get("/own", _own_headers)
    app.get("/seen", _seen)
    app.get("/boom", _boom)
    app.use(*middleware)
    return app


async def _transcript(app: ASGIApp) -> list[list[Message]]:
    out = []
    for path, headers, scheme in REQUESTS:
        out.append(await call_raw(app, http_scope(path=path, headers=list(headers), scheme=scheme)))
    return out


def _normalized(transcripts: list[list[Message]], default_ids: bool) -> list[list[Message]]:
    if not default_ids:
        return transcripts
    # The default generator's ids differ run to run: compare them by position instead of value.
    seen: dict[bytes, bytes] = {}

    def norm(value: Any) -> Any:
        if isinstance(value, bytes) and len(value) == 12 and value.isalnum():
            return seen.setdefault(value, f"<id {len(seen)}>".encode())
        return value

    result = []
    for messages in transcripts:
        fixed = []
        for message in messages:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [(k, norm(v)) for k, v in message["headers"]]}
            else:
                body = re.sub(rb'"([0-9A-Za-z]{12})"', lambda m: b'"' + norm(m.group(1)) + b'"',
                              message.get("body", b""))
                message = {**message, "body": body}
            fixed.append(message)
        result.append(fixed)
    return result


@pytest.mark.parametrize("stack", list(STACKS))
async def test_fused_header_layers_answer_like_nested_layers(stack: str) -> None:
    nested = [_as_nested_layer(mw) if isinstance(mw, HeaderLayer) else mw for mw in STACKS[stack]()]
    expected = await _transcript(_app(nested))
    default_ids = "default" in stack
    variants = {
        # head run absorbed by the App (no proxy trust configured)
        "app": _app(STACKS[stack]()),
        # proxy trust configured: the run stays a layer of its own, fused
        "app behind proxy layer": _app(STACKS[stack](), AppConfig(trusted_proxies=("192.0.2.1",))),
    }
    for name, app in variants.items():
        got = await _transcript(app)
        assert _normalized(got, default_ids) == _normalized(expected, default_ids), name
    statuses = [messages[0]["status"] for messages in expected]
    assert statuses == [200, 200, 200, 200, 200, 200, 500, 404]


async def test_chain_build_fuses_consecutive_header_layers_with_the_same_result() -> None:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain"), (b"X-Frame-Options", b"SAMEORIGIN")]})
        await send({"type": "http.response.body", "body": request_id_from_scope(scope).encode()})

    def stack() -> list[Middleware]:
        return [request_id(generator=_counter_ids()), security_headers(), cors()]

    fused = fuse_middleware(stack())
    assert len(fused) == 2 and isinstance(fused[0], HeaderLayer)
    nested = Chain(*[_as_nested_layer(mw) if isinstance(mw, HeaderLayer) else mw for mw in stack()]).build(inner)
    expected = await _transcript(nested)
    assert await _transcript(Chain(*stack()).build(inner)) == expected
    start = expected[0][0]
    names = [name.lower() for name, _ in start["headers"]]
    assert names.count(b"x-frame-options") == 1  # the app's value (any case) wins, not sent twice
    assert names[-1] == b"x-request-id"  # the outer layer's line comes last, as with nesting


async def test_websocket_scope_gets_its_id_from_an_absorbed_request_id() -> None:
    seen: dict[str, Any] = {}

    async def ws(scope: Scope, receive: Receive, send: Send) -> None:
        seen["rid"] = request_id_from_scope(scope)
        seen["headers"] = list(scope["headers"])
        await send({"type": "websocket.close", "code": 1000})

    app = App()
    app.websocket("/ws", ws)
    app.use(request_id(generator=lambda: "ws-id-1"), security_headers())
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = http_scope(path="/ws", type="websocket", scheme="ws")
    await app(scope, receive, send)
    assert seen == {"rid": "ws-id-1", "headers": [(b"x-request-id", b"ws-id-1")]}
    assert sent == [{"type": "websocket.close", "code": 1000}]


async def test_generator_failure_in_an_absorbed_layer_is_the_apps_500() -> None:
    # A custom generator that raises fails the request the way it did as a layer: the App answers 500.
    def broken() -> str:
        raise RuntimeError("no ids today")

    messages = await call_raw(_app([request_id(generator=broken)]), http_scope(path="/plain"))
    assert messages[0]["status"] == 500
    assert all(name != b"x-request-id" for name, _ in messages[0]["headers"])
