"""The reverse proxy end to end: a client -> uvicorn(gateway) -> uvicorn(backends) on loopback, with backends
that stream, hang, reset or break off; headers, streaming both ways, retries, 502/503/504, health, breakers.
Every end-to-end test runs on both upstream clients (aiohttp, the default, and httpx)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from plumego.core import App
from plumego.x.gateway import (
    Gateway,
    GatewayConfig,
    HealthCheck,
    PoolLimits,
    UpstreamKind,
    add_header,
    delete_header,
    register_proxy,
    set_header,
    strip_prefix,
)
from plumego.x.resilience import CircuitBreaker

from .conftest import free_port_url, resetting_server, serve_asgi


_UPSTREAM: UpstreamKind = "aiohttp"


@pytest.fixture(autouse=True, params=["aiohttp", "httpx"])
def upstream(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(sys.modules[__name__], "_UPSTREAM", request.param)
    return str(request.param)


def make_config(**kwargs: Any) -> GatewayConfig:
    return GatewayConfig(upstream=_UPSTREAM, **kwargs)


@contextlib.asynccontextmanager
async def through(config: GatewayConfig) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    gateway = Gateway(config)
    await gateway.start()
    try:
        async with serve_asgi(gateway) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield client, gateway
    finally:
        await gateway.stop()


async def test_forwarding_headers_rewrite_and_hop_by_hop(backends: Any) -> None:
    url, _ = await backends("a")
    config = make_config(targets=[url], path_rewrite=strip_prefix("/api"),
                           request_modifiers=[add_header("X-Added", "1"), delete_header("X-Secret")],
                           response_modifiers=[set_header("X-Served-By", "gw")])
    async with through(config) as (client, _):
        r = await client.get("/api/users/a%2Fb?x=1&y=%20", headers={
            "X-Forwarded-For": "203.0.113.9", "Connection": "keep-alive, X-Drop", "X-Drop": "1",
            "X-Secret": "s", "Keep-Alive": "timeout=5", "TE": "trailers, deflate", "Host": "public.example"})
    assert r.status_code == 200
    echo = r.json()
    headers = dict(echo["headers"])
    assert echo["raw_path"] == "/users/a%2Fb" and echo["query"] == "x=1&y=%20"     # encoding kept
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert headers["x-real-ip"] == "127.0.0.1" and headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == "public.example"
    assert headers["host"] == url.removeprefix("http://")                          # not preserved by default
    assert headers["x-added"] == "1" and "x-secret" not in headers
    assert "x-drop" not in headers and "keep-alive" not in headers and headers["te"] == "trailers"
    assert "user-agent" not in headers or headers["user-agent"].startswith("python-httpx")  # the client's own
    assert r.headers["x-served-by"] == "gw" and r.headers["x-backend"] == "a"
    assert "x-private" not in r.headers                                             # listed in Connection


async def test_preserve_host_redirects_and_cookies(backends: Any) -> None:
    url, _ = await backends("a")
    async with through(make_config(targets=[url], preserve_host=True)) as (client, gateway):
        r = await client.get("/x", headers={"Host": "public.example"})
        assert dict(r.json()["headers"])["host"] == "public.example"
        r = await client.get("/redirect")
        assert r.status_code == 302 and r.headers["location"] == "/elsewhere"     # passed on, not followed
        r = await client.get("/cookie")
        assert r.headers["set-cookie"] == "sid=secret; Path=/"
        client.cookies.clear()                                                      # the test client's jar
        r = await client.get("/next")
        assert "cookie" not in dict(r.json()["headers"])


async def test_response_streams_without_buffering(backends: Any) -> None:
    url, app = await backends("a")
    async with through(make_config(targets=[url])) as (client, _):
        async with client.stream("GET", "/stream") as r:
            lines = r.aiter_lines()
            assert await asyncio.wait_for(anext(lines), 5) == "first"   # before the backend finished
            app.release.set()
            assert await anext(lines) == "second"


async def test_request_streams_without_buffering(backends: Any) -> None:
    url, app = await backends("a")
    chunk = b"z" * 65536

    async def upload() -> AsyncIterator[bytes]:
        yield chunk
        for _ in range(500):                     # the backend has the first chunk while the client still sends
            if app.received >= len(chunk):
                break
            await asyncio.sleep(0.01)
        assert app.received >= len(chunk), "the gateway held the request body back"
        for _ in range(40):
            yield chunk

    async with through(make_config(targets=[url])) as (client, _):
        r = await client.post("/upload", content=upload())
    assert r.status_code == 200 and r.json()["size"] == 41 * len(chunk)


async def test_body_without_framing_headers_is_streamed(backends: Any) -> None:
    url, _ = await backends("a")
    gateway = Gateway(make_config(targets=[url]))
    chunks = [{"type": "http.request", "body": b"abc", "more_body": True},
              {"type": "http.request", "body": b"def", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return chunks.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "http_version": "2", "method": "POST", "path": "/h2", "raw_path": b"/h2",
             "query_string": b"", "headers": [(b"host", b"x")], "client": ("192.0.2.1", 1), "scheme": "https"}
    await gateway(scope, receive, send)                        # as an HTTP/2 server hands it: no length header
    await gateway.stop()
    echo = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert echo["size"] == 6 and dict(echo["headers"])["x-forwarded-proto"] == "https"


async def test_client_leaving_mid_upload_is_not_a_backend_failure(backends: Any) -> None:
    url, _ = await backends("a")
    gateway = Gateway(make_config(targets=[url], retry_backoff=0.001))
    messages = [{"type": "http.request", "body": b"abc", "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(30)                                 # pragma: no cover - never asked again
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "http_version": "1.1", "method": "POST", "path": "/up", "raw_path": b"/up",
             "query_string": b"", "headers": [(b"host", b"x"), (b"content-length", b"100")],
             "client": ("192.0.2.1", 1), "scheme": "http"}
    await asyncio.wait_for(gateway(scope, receive, send), 10)
    stats = gateway.stats()[0]
    await gateway.stop()
    assert sent == []                                           # no 502 to a client that is gone
    assert stats.requests == 1 and stats.failures == 0 and stats.healthy


async def test_retry_moves_to_the_next_backend_before_the_response(backends: Any) -> None:
    url, app = await backends("good")
    dead = free_port_url()
    async with through(make_config(targets=[dead, url], retry_backoff=0.001)) as (client, gateway):
        for _ in range(4):
            r = await client.post("/echo", content=b"payload")     # a refused connection sent no body: retried
            assert r.status_code == 200 and r.json()["backend"] == "good" and r.json()["size"] == 7
        assert gateway.backends[0].failures >= 1


async def test_single_backend_retry_takes_a_fresh_connection() -> None:
    """A connection that dies as it is reused (a backend closing an idle keep-alive connection) is retried on
    the same backend when it is the only one, as Go's transport does, instead of answering 502."""
    connections = 0

    async def flaky(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        if connections == 1:
            writer.transport.abort()                 # reset with the request unanswered
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(flaky, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with through(make_config(targets=[url], retry_backoff=0.001)) as (client, _):
            r = await client.get("/x")
            assert (r.status_code, r.text, connections) == (200, "ok", 2)
    finally:
        server.close()


async def test_502_503_504(backends: Any) -> None:
    url, app = await backends("slow")
    async with through(make_config(targets=[free_port_url()], retry_count=1, retry_backoff=0.001)) as (c, _):
        r = await c.get("/x")
        assert r.status_code == 502 and r.json()["error"]["code"] == "BAD_GATEWAY"
    async with resetting_server() as reset_url:
        async with through(make_config(targets=[reset_url], retry_count=0)) as (c, _):
            r = await c.get("/x")
            assert r.status_code == 502 and r.json()["error"]["code"] == "BAD_GATEWAY"
    async with through(make_config(targets=[url], timeout=0.3, retry_count=0)) as (c, _):
        r = await c.get("/hang")
        assert r.status_code == 504 and r.json()["error"]["code"] == "GATEWAY_TIMEOUT"
    async with through(make_config(targets=[free_port_url()], retry_count=0, failure_threshold=1)) as (c, _):
        assert (await c.get("/x")).status_code == 502             # marks the only backend unhealthy
        r = await c.get("/x")
        assert r.status_code == 503 and r.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


async def test_backend_breaking_off_mid_body_cuts_the_client_response(backends: Any) -> None:
    url, _ = await backends("a")
    async with through(make_config(targets=[url])) as (client, _):
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/cut")
        assert (await client.get("/fine")).status_code == 200      # the gateway carries on


async def test_passive_then_active_health(backends: Any) -> None:
    url, app = await backends("a")
    changes: list[tuple[str, bool]] = []
    check = HealthCheck(interval=0.05, timeout=1, on_change=lambda u, h: changes.append((u, h)))
    async with through(make_config(targets=[url], health_check=check)) as (client, gateway):
        app.health_status = 503
        for _ in range(200):
            if changes:
                break
            await asyncio.sleep(0.02)
        assert changes == [(url, False)] and not gateway.stats()[0].healthy
        assert (await client.get("/x")).status_code == 503
        app.health_status = 200
        for _ in range(200):
            if len(changes) == 2:
                break
            await asyncio.sleep(0.02)
        assert changes[-1] == (url, True)
        assert (await client.get("/x")).status_code == 200


async def test_circuit_breaker_per_backend(backends: Any) -> None:
    url_a, _ = await backends("a")
    url_b, _ = await backends("b")
    config = make_config(targets=[url_a, url_b], circuit_breaker=True,
                           breaker_factory=lambda u: CircuitBreaker(u, min_requests=2, timeout=60))
    async with through(config) as (client, gateway):
        statuses = [(await client.get("/status/500")).status_code for _ in range(4)]
        assert statuses == [500, 500, 500, 500]                    # each backend answered 500 twice
        assert [s.breaker for s in gateway.stats()] == ["open", "open"]
        r = await client.get("/status/200")
        assert r.status_code == 503                                # both circuits open: no backend


async def test_register_proxy_on_an_app(backends: Any) -> None:
    url, _ = await backends("a")
    gateway = Gateway(make_config(targets=[url], path_rewrite=strip_prefix("/proxy")))
    app = App()
    register_proxy(app, "/proxy", gateway)
    app.get("/healthz", lambda request: {"status": "ok"})
    with pytest.raises(ValueError):
        register_proxy(app, "proxy", gateway)
    async with serve_asgi(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            r = await client.request(method, "/proxy/items/7?q=1", content=b"{}")
            assert r.status_code == 200 and r.json()["method"] == method and r.json()["path"] == "/items/7"
            sent = dict(r.json()["headers"])        # the upstream client adds no headers of its own
            assert "content-type" not in sent and sent["user-agent"].startswith("python-httpx")
        assert (await client.get("/proxy")).json()["path"] == "/"
    await gateway.stop()


def test_bad_config() -> None:
    with pytest.raises(ValueError):
        Gateway(GatewayConfig())
    with pytest.raises(ValueError):
        Gateway(GatewayConfig(targets=["ftp://x"]))
    with pytest.raises(ValueError):
        Gateway(GatewayConfig(targets=["http://x"], retry_count=-1))


def test_upstream_choice_is_checked() -> None:
    with pytest.raises(ValueError, match="upstream must be"):
        Gateway(GatewayConfig(targets=["http://x"], upstream="curl"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="HTTP/2"):
        Gateway(GatewayConfig(targets=["http://x"], limits=PoolLimits(http2=True)))
