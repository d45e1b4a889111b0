"""coalesce: identical concurrent GETs run the handler once; credentials, bodies and failures never leak."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest
import uvicorn

from plumego.contract import ASGIApp, Message, Receive, Request, Response, Scope, Send
from plumego.core import App
from plumego.middleware import Chain, coalesce, request_id

from mw_harness import Result, call, call_raw, http_scope


class Gate:
    """A raw ASGI app that counts its runs and holds every response until the test opens the gate."""

    def __init__(self, body: bytes = b'{"n":1}', headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.runs = 0
        self.opened = asyncio.Event()
        self.body = body
        self.headers = headers or []
        self.fail_first = False
        self.chunks = 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.runs += 1
        run = self.runs
        await self.opened.wait()
        if self.fail_first and run == 1:
            raise RuntimeError("leader broke")
        headers = [(b"content-type", b"application/json"), (b"x-run", str(run).encode()), *self.headers]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        size = len(self.body) // self.chunks
        for index in range(self.chunks):
            last = index == self.chunks - 1
            part = self.body[index * size :] if last else self.body[index * size : (index + 1) * size]
            await send({"type": "http.response.body", "body": part, "more_body": not last})


class Arrivals:
    """Outer raw middleware counting requests that entered; coalesce registers them before yielding."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.entered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered += 1
        await self.app(scope, receive, send)


async def until(predicate: Any) -> None:
    for _ in range(10_000):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


async def run_concurrently(app: ASGIApp, scopes: list[dict[str, Any]], gate: Gate) -> list[Any]:
    front = Arrivals(app)
    tasks = [asyncio.ensure_future(call_raw(front, scope)) for scope in scopes]
    await until(lambda: front.entered == len(scopes))
    await until(lambda: gate.runs >= 1)
    gate.opened.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


def result(messages: Any) -> Result:
    assert isinstance(messages, list), messages
    return Result(messages)


async def test_concurrent_identical_gets_run_the_handler_once() -> None:
    gate = Gate()
    app = coalesce(mark_coalesced=True)(gate)
    scope: dict[str, Any] = {
        "path": "/items",
        "query_string": b"page=2",
        "headers": [(b"host", b"api"), (b"accept", b"*/*")],
    }
    outcomes = await run_concurrently(app, [http_scope(**scope) for _ in range(25)], gate)
    assert gate.runs == 1
    results = [result(o) for o in outcomes]
    assert all(r.status == 200 and r.body == b'{"n":1}' for r in results)
    assert all(r.header("x-run") == "1" and r.header("content-type") == "application/json" for r in results)
    assert sum(r.header("x-coalesced") == "true" for r in results) == 24  # every follower, not the leader
    assert [len(r.body_messages) for r in results].count(1) == 25


async def test_after_completion_a_new_request_runs_again() -> None:
    gate = Gate()
    gate.opened.set()
    app = coalesce()(gate)
    first = await call(app, http_scope(path="/x"))
    second = await call(app, http_scope(path="/x"))
    assert gate.runs == 2 and first.header("x-run") == "1" and second.header("x-run") == "2"


@pytest.mark.parametrize(
    "variant",
    [
        {"headers": [(b"authorization", b"Bearer B")]},
        {"headers": [(b"authorization", b"Bearer A"), (b"cookie", b"s=1")]},
        {"headers": [(b"authorization", b"Bearer A"), (b"accept", b"text/html")]},
        {"query_string": b"page=3"},
        {"path": "/other"},
        {"method": "HEAD"},
    ],
)
async def test_requests_that_differ_in_the_key_do_not_share(variant: dict[str, Any]) -> None:
    gate = Gate()
    app = coalesce()(gate)
    base: dict[str, Any] = {"path": "/items", "query_string": b"page=2", "headers": [(b"authorization", b"Bearer A")]}
    outcomes = await run_concurrently(app, [http_scope(**base), http_scope(**{**base, **variant})], gate)
    assert gate.runs == 2
    assert sorted(result(o).header("x-run") or "" for o in outcomes) == ["1", "2"]


async def test_same_authorization_shares_even_with_unkeyed_headers_different() -> None:
    gate = Gate()
    app = coalesce()(gate)
    scopes = [
        http_scope(path="/me", headers=[(b"authorization", b"Bearer A"), (b"user-agent", agent)])
        for agent in (b"curl", b"firefox", b"chrome")
    ]
    outcomes = await run_concurrently(app, scopes, gate)
    assert gate.runs == 1 and {result(o).header("x-run") for o in outcomes} == {"1"}


async def test_unsafe_methods_and_bodies_are_never_coalesced() -> None:
    gate = Gate()
    app = coalesce()(gate)
    scopes = [
        http_scope(method="POST", path="/p"),
        http_scope(method="POST", path="/p"),
        http_scope(path="/g", headers=[(b"content-length", b"3")]),
        http_scope(path="/g", headers=[(b"content-length", b"3")]),
        http_scope(path="/s", headers=[(b"accept", b"text/event-stream")]),
        http_scope(path="/s", headers=[(b"accept", b"text/event-stream")]),
    ]
    outcomes = await run_concurrently(app, scopes, gate)
    assert gate.runs == 6 and all(result(o).status == 200 for o in outcomes)


async def test_leader_failure_makes_followers_run_themselves() -> None:
    gate = Gate()
    gate.fail_first = True
    app = coalesce()(gate)
    outcomes = await run_concurrently(app, [http_scope(path="/f") for _ in range(4)], gate)
    assert isinstance(outcomes[0], RuntimeError)  # the leader's own error reaches its own recovery layer
    followers = [result(o) for o in outcomes[1:]]
    assert gate.runs == 4
    assert sorted(r.header("x-run") or "" for r in followers) == ["2", "3", "4"]


async def test_leader_failing_mid_body_never_hands_out_a_partial_response() -> None:
    runs = 0
    opened = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal runs
        runs += 1
        run = runs
        await opened.wait()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-run", str(run).encode())]})
        await send({"type": "http.response.body", "body": b"half", "more_body": True})
        if run == 1:
            raise RuntimeError("stream broke")
        await send({"type": "http.response.body", "body": b"-whole"})

    front = Arrivals(coalesce()(app))
    tasks = [asyncio.ensure_future(call_raw(front, http_scope(path="/m"))) for _ in range(3)]
    await until(lambda: front.entered == 3 and runs == 1)
    opened.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(outcomes[0], RuntimeError) and runs == 3
    assert sorted(result(o).body for o in outcomes[1:]) == [b"half-whole", b"half-whole"]


async def test_cancelled_leader_releases_followers() -> None:
    gate = Gate()
    app = Arrivals(coalesce()(gate))
    leader = asyncio.ensure_future(call_raw(app, http_scope(path="/c")))
    await until(lambda: gate.runs == 1)
    follower = asyncio.ensure_future(call_raw(app, http_scope(path="/c")))
    await until(lambda: app.entered == 2)
    leader.cancel()
    await until(lambda: gate.runs == 2)  # the follower runs the handler itself
    gate.opened.set()
    assert result(await follower).header("x-run") == "2"
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_oversized_body_is_not_buffered_and_followers_run_themselves() -> None:
    gate = Gate(body=b"x" * 100)
    gate.chunks = 4
    app = coalesce(max_body_bytes=60)(gate)
    outcomes = await run_concurrently(app, [http_scope(path="/big") for _ in range(3)], gate)
    results = [result(o) for o in outcomes]
    assert gate.runs == 3
    assert all(r.body == b"x" * 100 for r in results)
    assert len(results[0].body_messages) == 4  # the leader still streamed chunk by chunk


async def test_body_at_the_limit_is_shared() -> None:
    gate = Gate(body=b"y" * 60)
    gate.chunks = 3
    app = coalesce(max_body_bytes=60)(gate)
    outcomes = await run_concurrently(app, [http_scope(path="/edge") for _ in range(3)], gate)
    assert gate.runs == 1 and all(result(o).body == b"y" * 60 for o in outcomes)


async def test_set_cookie_responses_are_never_shared() -> None:
    gate = Gate(headers=[(b"set-cookie", b"session=leader")])
    app = coalesce()(gate)
    outcomes = await run_concurrently(app, [http_scope(path="/login") for _ in range(3)], gate)
    assert gate.runs == 3
    assert sorted(result(o).header("x-run") or "" for o in outcomes) == ["1", "2", "3"]


async def test_follower_wait_timeout_is_a_504_envelope() -> None:
    gate = Gate()
    app = Arrivals(coalesce(wait_timeout=0.01)(gate))
    leader = asyncio.ensure_future(call_raw(app, http_scope(path="/slow")))
    await until(lambda: gate.runs == 1)
    follower = await call(app, http_scope(path="/slow"))
    assert follower.status == 504
    assert follower.json() == {
        "error": {
            "code": "TIMEOUT",
            "message": "upstream request timeout",
            "category": "timeout_error",
            "type": "gateway_timeout",
        }
    }
    gate.opened.set()
    assert result(await leader).status == 200 and gate.runs == 1


async def test_with_app_each_follower_keeps_its_own_request_id() -> None:
    runs = 0
    release = asyncio.Event()
    arrivals: list[Arrivals] = []

    async def report(request: Request) -> Response:
        nonlocal runs
        runs += 1
        await release.wait()
        return Response(b"report", headers={"X-Request-ID": "from-handler"})

    def count_arrivals(inner: ASGIApp) -> ASGIApp:
        arrivals.append(Arrivals(inner))
        return arrivals[0]

    app = App()
    app.use(request_id(), count_arrivals, coalesce(mark_coalesced=True))
    app.get("/report", report)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        tasks = [
            asyncio.ensure_future(c.get("/report", headers={"X-Request-ID": f"req-{index}"})) for index in range(8)
        ]
        await until(lambda: bool(arrivals) and arrivals[0].entered == 8 and runs == 1)
        release.set()
        responses = await asyncio.gather(*tasks)
    assert runs == 1
    assert all(r.status_code == 200 and r.text == "report" for r in responses)
    leaders = [r for r in responses if "x-coalesced" not in r.headers]
    assert len(leaders) == 1 and leaders[0].headers["x-request-id"] == "from-handler"
    for index, res in enumerate(responses):
        if res is not leaders[0]:
            assert res.headers["x-coalesced"] == "true"
            assert res.headers.get_list("x-request-id") == [f"req-{index}"]  # the leader's id is never replayed


async def test_websocket_and_lifespan_pass_through() -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        pass

    wrapped = coalesce()(inner)
    await wrapped({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    await wrapped({"type": "lifespan"}, receive, send)
    assert seen == ["websocket", "lifespan"]


def test_negative_limit_rejected() -> None:
    with pytest.raises(ValueError):
        coalesce(max_body_bytes=-1)


async def test_under_uvicorn_concurrent_clients_share_one_run() -> None:
    runs = 0
    release = asyncio.Event()

    async def slow_report(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal runs
        if scope["type"] != "http":
            return
        runs += 1
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"r" * 5000})

    front = Arrivals(coalesce()(slow_report))
    app = Chain(request_id()).build(front)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        await until_async(lambda: server.started)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            tasks = [asyncio.ensure_future(c.get("/report?x=1")) for _ in range(6)]
            await until_async(lambda: front.entered == 6)
            release.set()
            responses = await asyncio.gather(*tasks)
        assert runs == 1
        assert all(r.status_code == 200 and r.content == b"r" * 5000 for r in responses)
        assert len({r.headers["x-request-id"] for r in responses}) == 6
    finally:
        release.set()
        server.should_exit = True
        await task


async def until_async(predicate: Any) -> None:
    """Like until(), but yields to real I/O (sockets) between checks."""
    for _ in range(2_000):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never became true")
