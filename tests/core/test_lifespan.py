from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from plumego.contract import JSONResponse, Message, Request, Response
from plumego.core import App, AppConfig, Component, LifecycleError, LifecycleGroup


class LifespanDriver:
    """Drives the ASGI lifespan protocol against an app, like a server does."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task: asyncio.Task[None] | None = None

    async def startup(self) -> Message:
        self.task = asyncio.create_task(self.app(self.scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        return await self.outbox.get()

    async def shutdown(self) -> Message:
        await self.inbox.put({"type": "lifespan.shutdown"})
        message = await self.outbox.get()
        assert self.task is not None
        await self.task
        return message


class Recorder:
    def __init__(self, name: str, calls: list[str], fail_start: bool = False, fail_stop: bool = False) -> None:
        self.name, self.calls, self.fail_start, self.fail_stop = name, calls, fail_start, fail_stop

    async def start(self) -> None:
        self.calls.append(f"start:{self.name}")
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot start")

    def stop(self) -> None:  # sync hooks are accepted too
        self.calls.append(f"stop:{self.name}")
        if self.fail_stop:
            raise RuntimeError(f"{self.name} cannot stop")


async def test_components_start_in_order_stop_in_reverse_and_state_flows() -> None:
    calls: list[str] = []

    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        calls.append("lifespan:enter")
        yield {"db": "conn"}
        calls.append("lifespan:exit")

    app = App(lifespan=lifespan)
    app.add_component("a", Recorder("a", calls))
    app.add_component("b", Recorder("b", calls))
    app.get("/", lambda r: JSONResponse({}))
    driver = LifespanDriver(app)
    assert await driver.startup() == {"type": "lifespan.startup.complete"}
    assert driver.scope["state"] == {"db": "conn"}
    assert app.preparation_state == "prepared"
    assert await driver.shutdown() == {"type": "lifespan.shutdown.complete"}
    assert calls == ["start:a", "start:b", "lifespan:enter", "lifespan:exit", "stop:b", "stop:a"]


async def test_startup_failure_reports_failed_and_rolls_back() -> None:
    calls: list[str] = []
    app = App(logger=_Quiet())
    app.add_component("a", Recorder("a", calls))
    app.add_component("b", Recorder("b", calls, fail_start=True))
    app.add_component("c", Recorder("c", calls))
    driver = LifespanDriver(app)
    message = await driver.startup()
    assert message["type"] == "lifespan.startup.failed"
    assert 'core: start "b": b cannot start' in message["message"]
    assert calls == ["start:a", "start:b", "stop:a"]


async def test_shutdown_failure_is_reported_after_stopping_everything() -> None:
    calls: list[str] = []
    app = App(logger=_Quiet())
    app.add_component("a", Recorder("a", calls, fail_stop=True))
    app.add_component("b", Recorder("b", calls))
    driver = LifespanDriver(app)
    await driver.startup()
    message = await driver.shutdown()
    assert message["type"] == "lifespan.shutdown.failed" and 'stop "a"' in message["message"]
    assert calls == ["start:a", "start:b", "stop:b", "stop:a"]


async def test_shutdown_drains_inflight_requests() -> None:
    app = App(AppConfig(drain_interval=0.01, shutdown_timeout=5), logger=_Quiet())
    release = asyncio.Event()
    order: list[str] = []

    async def slow(request: Request) -> Response:
        await release.wait()
        order.append("request done")
        return JSONResponse({"ok": True})

    app.add_component("db", Component(on_stop=lambda: order.append("component stopped")))
    app.get("/slow", slow)
    driver = LifespanDriver(app)
    await driver.startup()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        request = asyncio.create_task(c.get("/slow"))
        while app.inflight == 0:
            await asyncio.sleep(0.001)
        shutdown = asyncio.create_task(driver.shutdown())
        await asyncio.sleep(0.05)
        assert not shutdown.done()
        release.set()
        assert (await request).status_code == 200
        assert (await shutdown)["type"] == "lifespan.shutdown.complete"
    assert order == ["request done", "component stopped"]


async def test_lifecycle_group_rules() -> None:
    calls: list[str] = []
    group = LifecycleGroup()
    group.add("a", Recorder("a", calls))
    with pytest.raises(ValueError, match="duplicate"):
        group.add("a", Recorder("a", calls))
    with pytest.raises(TypeError):
        group.add("x", object())

    def not_ready() -> None:
        raise RuntimeError("warming up")

    group.add("r", Component(on_ready=not_ready))
    with pytest.raises(LifecycleError, match='core: "r" not ready: warming up'):
        await group.ready()
    await group.start()
    with pytest.raises(LifecycleError, match="already started"):
        await group.start()
    await group.stop()
    assert calls == ["start:a", "stop:a"]


class _Quiet:
    def info(self, msg: str, *args: object) -> None: ...
    def warning(self, msg: str, *args: object) -> None: ...
    def error(self, msg: str, *args: object, exc_info: BaseException | None = None) -> None: ...


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_under_real_uvicorn_with_lifespan() -> None:
    calls: list[str] = []
    app = App()
    app.add_component("svc", Recorder("svc", calls))

    async def hello(request: Request) -> Response:
        return JSONResponse({"message": "Hello, World!"})

    app.get("/hello", hello)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
        r = await c.get("/hello")
        assert r.status_code == 200 and r.json() == {"message": "Hello, World!"}
        head = await c.head("/hello")
        assert head.status_code == 200 and head.content == b""
        missing = await c.get("/missing")
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "resource_not_found"
    server.should_exit = True
    await task
    assert calls == ["start:svc", "stop:svc"]
