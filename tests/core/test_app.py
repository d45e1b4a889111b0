from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from plumego.contract import (
    APIError,
    ASGIApp,
    EnvelopeResponse,
    ErrorType,
    JSONResponse,
    Message,
    PlainTextResponse,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    StreamingResponse,
    with_request_id,
)
from plumego.core import App, AppConfig, AppStateError, Component
from plumego.router import RouteError


def client(app: App) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


class ListLogger:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, BaseException | None]] = []

    def info(self, msg: str, *args: object) -> None:
        self.records.append(("info", msg % args, None))

    def warning(self, msg: str, *args: object) -> None:
        self.records.append(("warning", msg % args, None))

    def error(self, msg: str, *args: object, exc_info: BaseException | None = None) -> None:
        self.records.append(("error", msg % args, exc_info))


async def hello(request: Request) -> Response:
    return JSONResponse({"message": "Hello, World!"})


async def test_hello_and_verbs() -> None:
    app = App()
    app.get("/hello", hello)

    async def echo(request: Request) -> Response:
        return JSONResponse({"method": request.method, "id": request.param("id"), "body": await request.json()})

    for verb in (app.post, app.put, app.patch, app.delete):
        verb("/items/:id", echo)
    async with client(app) as c:
        r = await c.get("/hello")
        assert r.status_code == 200 and r.content == b'{"message":"Hello, World!"}'
        assert r.headers["content-type"] == "application/json"
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            r = await c.request(method, "/items/7", json={"a": 1})
            assert r.json() == {"method": method, "id": "7", "body": {"a": 1}}
        r = await c.post("/items/7", content=b"{bad")
        assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_JSON"


async def test_any_and_add_route() -> None:
    app = App()
    app.any("/any", hello)
    app.add_route("OPTIONS", "/opt", hello)
    async with client(app) as c:
        assert (await c.request("PURGE", "/any")).status_code == 200
        assert (await c.options("/opt")).status_code == 200


async def test_sync_handler_runs_in_a_worker_thread() -> None:
    app = App()
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def sync_handler(request: Request) -> Response:
        seen.append(threading.get_ident())
        return PlainTextResponse("sync")

    app.get("/sync", sync_handler)
    async with client(app) as c:
        assert (await c.get("/sync")).text == "sync"
    assert seen and seen[0] != loop_thread


async def test_unhandled_exception_is_a_500_envelope_without_traceback() -> None:
    logger = ListLogger()
    app = App(logger=logger)

    async def boom(request: Request) -> Response:
        raise RuntimeError("secret internal detail")

    app.get("/boom", boom)

    def request_id(next_app: ASGIApp) -> ASGIApp:
        async def mw(scope: Scope, receive: Receive, send: Send) -> None:
            with_request_id(scope, "rid-7")
            await next_app(scope, receive, send)

        return mw

    app.use(request_id)
    async with client(app) as c:
        r = await c.get("/boom")
    assert r.status_code == 500
    assert r.content == (
        b'{"error":{"code":"INTERNAL_ERROR","message":"internal server error","category":"server_error",'
        b'"type":"internal_error"},"request_id":"rid-7"}\n'
    )
    assert b"secret" not in r.content and b"Traceback" not in r.content
    level, message, exc = logger.records[-1]
    assert level == "error" and "GET /boom" in message and isinstance(exc, RuntimeError)


async def test_api_error_from_handler_and_middleware() -> None:
    app = App(logger=ListLogger())

    async def gone(request: Request) -> Response:
        raise APIError(ErrorType.GONE, "moved away", code="item.gone")

    def deny(next_app: ASGIApp) -> ASGIApp:
        async def mw(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["path"] == "/denied":
                raise APIError(ErrorType.FORBIDDEN, "no")
            await next_app(scope, receive, send)

        return mw

    app.use(deny)
    app.get("/gone", gone)
    async with client(app) as c:
        r = await c.get("/gone")
        assert r.status_code == 410 and r.json()["error"]["code"] == "item.gone"
        r = await c.get("/denied")
        assert r.status_code == 403 and r.json()["error"]["type"] == "forbidden_request"


async def test_error_after_response_started_is_not_answered_twice() -> None:
    logger = ListLogger()
    app = App(logger=logger)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"partial"
        raise RuntimeError("mid-stream")

    async def streaming(request: Request) -> Response:
        return StreamingResponse(chunks())  # type: ignore[return-value]

    app.get("/stream", streaming)
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/stream", "root_path": "", "headers": [], "query_string": b""}
    with pytest.raises(RuntimeError, match="mid-stream"):
        await app(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert logger.records[-1][0] == "error"


async def test_middleware_order_first_registered_is_outermost_and_built_once() -> None:
    app = App()
    trail: list[str] = []
    builds: list[str] = []

    def layer(tag: str) -> Any:
        def factory(next_app: ASGIApp) -> ASGIApp:
            builds.append(tag)

            async def mw(scope: Scope, receive: Receive, send: Send) -> None:
                trail.append(tag)
                await next_app(scope, receive, send)

            return mw

        return factory

    app.use(layer("a"), layer("b"))
    app.use(layer("c"))
    app.get("/", hello)
    async with client(app) as c:
        await c.get("/")
        await c.get("/missing")  # app middleware also wraps 404s
    assert trail == ["a", "b", "c", "a", "b", "c"]
    assert builds == ["c", "b", "a"]


async def test_group_middleware_and_not_found_envelope() -> None:
    app = App()
    api = app.group("/api", lambda nxt: nxt)
    api.get("/items/:id", hello)
    async with client(app) as c:
        assert (await c.get("/api/items/1")).status_code == 200
        r = await c.get("/nope")
        assert r.status_code == 404 and r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
        r = await c.post("/api/items/1")
        assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"


async def test_use_rejects_non_callables_atomically_and_registration_after_prepare() -> None:
    app = App()
    with pytest.raises(TypeError, match="index=1"):
        app.use(lambda nxt: nxt, None)  # type: ignore[arg-type]
    assert app.middleware == ()
    app.get("/", hello)
    assert app.preparation_state == "mutable"
    app.prepare()
    assert app.preparation_state == "prepared"
    with pytest.raises(AppStateError, match="core add_route method=GET path=/x"):
        app.get("/x", hello)
    with pytest.raises(AppStateError, match="core use_middleware"):
        app.use(lambda nxt: nxt)
    with pytest.raises(RouteError, match="router is frozen"):
        app.router.get("/y", hello)


async def test_mount_any_asgi_app_and_nested_plumego_app() -> None:
    seen: list[tuple[str, str]] = []

    async def raw(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope["root_path"], scope["path"]))
        await PlainTextResponse("raw")(scope, receive, send)

    sub = App()

    async def sub_item(request: Request) -> Response:
        return JSONResponse({"id": request.param("id"), "root": request.root_path})

    sub.get("/items/:id", sub_item)
    app = App()
    app.mount("/raw", raw)
    app.mount("/sub", sub)
    async with client(app) as c:
        assert (await c.get("/raw/x/y")).text == "raw"
        assert (await c.get("/sub/items/3")).json() == {"id": "3", "root": "/sub"}
        assert (await c.get("/sub/nope")).status_code == 404
    assert seen == [("/raw", "/raw/x/y")]


async def test_url_and_routes() -> None:
    app = App()
    app.get("/users/:id", hello, name="user")
    assert app.url("user", id="a b") == "/users/a%20b"
    assert [(r.method, r.path) for r in app.routes()] == [("GET", "/users/:id")]


async def test_envelope_response_gets_request_id_from_scope() -> None:
    app = App()

    async def listing(request: Request) -> Response:
        return EnvelopeResponse([1], {"total": 1})  # type: ignore[return-value]

    def rid(next_app: ASGIApp) -> ASGIApp:
        async def mw(scope: Scope, receive: Receive, send: Send) -> None:
            with_request_id(scope, "abc")
            await next_app(scope, receive, send)

        return mw

    app.use(rid)
    app.get("/items", listing)
    async with client(app) as c:
        r = await c.get("/items")
    assert r.content == b'{"data":[1],"meta":{"total":1},"request_id":"abc"}\n'


def test_config_defaults_and_validation() -> None:
    cfg = AppConfig()
    assert (cfg.host, cfg.port, cfg.idle_timeout, cfg.max_header_bytes, cfg.drain_interval) == (
        "127.0.0.1", 8080, 60.0, 1 << 20, 0.5,
    )
    cfg.validate()
    opts = cfg.uvicorn_options()
    assert opts["timeout_keep_alive"] == 60 and opts["h11_max_incomplete_event_size"] == 1 << 20
    # Go's websocket defaults: 16 MiB read limit, ping every 20 s, pong wait 30 s; 0 turns the heartbeat off
    assert (opts["ws_max_size"], opts["ws_ping_interval"], opts["ws_ping_timeout"]) == (16 << 20, 20.0, 30.0)
    assert AppConfig(ws_ping_interval=0).uvicorn_options()["ws_ping_interval"] is None
    from plumego.core import ConfigError, TLSConfig

    for bad in (AppConfig(port=70000), AppConfig(idle_timeout=-1), AppConfig(host=""),
                AppConfig(tls=TLSConfig(enabled=True)), AppConfig(root_path="x"),
                AppConfig(ws_max_message_bytes=(64 << 20) + 1), AppConfig(ws_ping_timeout=-1)):
        with pytest.raises(ConfigError, match="core prepare_server"):
            bad.validate()
    app = App(AppConfig(method_not_allowed=False))
    assert app.router.method_not_allowed is False


def test_std_logger_is_accepted() -> None:
    App(logger=logging.getLogger("test"))


async def test_components_and_component_dataclass_are_wired() -> None:
    app = App()
    calls: list[str] = []
    app.add_component("c", Component(on_start=lambda: calls.append("start")))
    await app.lifecycle.start()
    await app.ready()
    assert calls == ["start"]


async def test_client_disconnect_mid_body_is_an_info_line_not_a_500() -> None:
    logger = ListLogger()
    app = App(logger=logger)

    async def upload(request: Request) -> Response:
        await request.body()
        return PlainTextResponse("unreachable")

    app.post("/upload", upload)
    app.prepare()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/upload", "raw_path": b"/upload", "query_string": b"",
             "headers": [(b"content-length", b"100")], "root_path": ""}
    await app(scope, receive, send)
    assert sent == []  # nobody to answer: no 500 goes out
    assert logger.records == [("info", "client disconnected: POST /upload", None)]
