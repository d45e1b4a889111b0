"""The middleware stack in front of a real plumego.core.App: routing info flows out, errors are envelopes."""

from __future__ import annotations

import asyncio
import gzip
import io
import json

import httpx

from plumego.contract import JSONResponse, Request, Response
from plumego.core import App
from plumego.log import LoggerConfig, new_logger
from plumego.metrics import CollectorObserver, MetricsCollector
from plumego.middleware import (
    Chain,
    access_log,
    body_limit,
    compression,
    concurrency_limit,
    cors,
    http_metrics,
    recovery,
    request_id,
    timeout,
    tracing,
)


def build(log: io.StringIO, collector: MetricsCollector) -> App:
    logger = new_logger(LoggerConfig(format="json", output=log))
    app = App()
    app.use(
        request_id(),
        cors(allowed_origins=["https://ui.example"]),
        recovery(logger),
        tracing(),
        access_log(logger),
        body_limit(64, logger=logger),
        http_metrics(CollectorObserver(collector)),
        compression(),
        concurrency_limit(8),
        timeout(0.2),
    )

    async def user(request: Request) -> Response:
        return JSONResponse({"id": request.param("id"), "bio": "x" * 400})

    async def echo(request: Request) -> Response:
        return JSONResponse({"len": len(await request.body())})

    async def crash(request: Request) -> Response:
        raise RuntimeError("secret internals")

    async def slow(request: Request) -> Response:
        await asyncio.sleep(5)
        return JSONResponse({})

    app.get("/users/:id", user, name="user.show")
    app.post("/echo", echo)
    app.get("/crash", crash)
    app.get("/slow", slow)
    return app


def client(app: App) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_routed_request_through_full_stack() -> None:
    log, collector = io.StringIO(), MetricsCollector()
    async with client(build(log, collector)) as c:
        res = await c.get(
            "/users/42",
            headers={"Accept-Encoding": "gzip", "Origin": "https://ui.example", "X-Request-ID": "abc-1"},
        )
    assert res.status_code == 200
    assert res.json()["id"] == "42"  # httpx decodes gzip transparently
    assert res.headers["content-encoding"] == "gzip"
    assert res.headers["x-request-id"] == "abc-1"
    assert res.headers["access-control-allow-origin"] == "https://ui.example"
    assert len(res.headers["x-span-id"]) == 16
    record = json.loads(log.getvalue().splitlines()[-1])
    assert record["route"] == "/users/:id" and record["route_name"] == "user.show"
    assert record["request_id"] == "abc-1" and record["status"] == 200
    labels = {"method": "GET", "route": "/users/:id", "status": "200"}
    assert collector.counter("http_requests_total", label_names=("method", "route", "status")).value(labels) == 1


async def test_router_404_still_gets_request_id_and_metrics() -> None:
    log, collector = io.StringIO(), MetricsCollector()
    async with client(build(log, collector)) as c:
        res = await c.get("/nope")
    assert res.status_code == 404 and "x-request-id" in res.headers
    family = collector.snapshot().family("http_requests_total")
    assert family is not None and family.samples[0].labels["status"] == "404"


async def test_handler_exception_is_a_500_envelope() -> None:
    log = io.StringIO()
    async with client(build(log, MetricsCollector())) as c:
        res = await c.get("/crash", headers={"X-Request-ID": "r-500"})
    assert res.status_code == 500
    assert res.content == (
        b'{"error":{"code":"INTERNAL_ERROR","message":"internal server error","category":"server_error",'
        b'"type":"internal_error"},"request_id":"r-500"}\n'
    )
    assert "panic recovered" in log.getvalue() and "secret internals" in log.getvalue()


async def test_body_limit_and_timeout_through_app() -> None:
    async with client(build(io.StringIO(), MetricsCollector())) as c:
        small = await c.post("/echo", content=b"x" * 10)
        big = await c.post("/echo", content=b"x" * 65, headers={"X-Request-ID": "r-413"})
        slow = await c.get("/slow", headers={"X-Request-ID": "r-504"})
    assert small.json() == {"len": 10}
    assert big.status_code == 413
    assert big.json() == {
        "error": {
            "code": "REQUEST_BODY_TOO_LARGE",
            "message": "request body exceeds configured limit",
            "category": "client_error",
            "type": "payload_too_large",
            "details": {"at": "content_length", "max_bytes": 64, "seen_bytes": 65},
        },
        "request_id": "r-413",
    }
    assert slow.status_code == 504
    assert slow.json()["error"] == {
        "code": "TIMEOUT",
        "message": "request timed out",
        "category": "timeout_error",
        "type": "gateway_timeout",
    }
    assert slow.json()["request_id"] == "r-504"


async def test_preflight_is_answered_before_routing() -> None:
    async with client(build(io.StringIO(), MetricsCollector())) as c:
        res = await c.options(
            "/users/1", headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "GET"}
        )
    assert res.status_code == 204
    assert res.headers["access-control-allow-origin"] == "https://ui.example"


def test_chain_order_first_is_outermost() -> None:
    calls: list[str] = []

    def tag(name: str):  # type: ignore[no-untyped-def]
        def mw(app):  # type: ignore[no-untyped-def]
            async def inner(scope, receive, send):  # type: ignore[no-untyped-def]
                calls.append(name)
                await app(scope, receive, send)

            return inner

        return mw

    async def endpoint(scope, receive, send):  # type: ignore[no-untyped-def]
        calls.append("handler")

    chain = Chain(tag("a"), tag("b")).use(tag("c"))
    assert len(chain) == 3 and len(chain.snapshot()) == 3
    asyncio.run(chain.build(endpoint)({"type": "http"}, None, None))
    assert calls == ["a", "b", "c", "handler"]
    try:
        Chain(None)  # type: ignore[arg-type]
    except TypeError:
        pass
    else:
        raise AssertionError("Chain accepted None")


async def test_gzip_body_decodes() -> None:
    async with client(build(io.StringIO(), MetricsCollector())) as c:
        async with c.stream("GET", "/users/7", headers={"Accept-Encoding": "gzip"}) as res:
            raw = b"".join([chunk async for chunk in res.aiter_raw()])
    assert json.loads(gzip.decompress(raw))["id"] == "7"
