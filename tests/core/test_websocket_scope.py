"""The App's websocket scope over a real uvicorn and a real client: unmatched paths and failing endpoints refuse the
handshake with the error envelope and its status (never a traceback), a failure after accept closes with 1011, and
AppConfig's websocket settings reach the server (a message over ``ws_max_message_bytes`` is closed with 1009)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from plumego.contract import APIError, ErrorType, Receive, Scope, Send
from plumego.core import App, AppConfig


@asynccontextmanager
async def serving(app: App) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options = app.config.uvicorn_options()
    for key in ("host", "port"):
        options.pop(key)
    options["lifespan"] = "off"
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", **options))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def _app(records: list[logging.LogRecord]) -> App:
    logger = logging.getLogger("test.ws.core")

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger.addHandler(Keep())
    app = App(AppConfig(ws_max_message_bytes=1024), logger=logger)

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": message.get("text") or ""})

    async def broken_before(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("secret internals")

    async def refused(scope: Scope, receive: Receive, send: Send) -> None:
        raise APIError(ErrorType.FORBIDDEN, "no entry")

    async def broken_after(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise RuntimeError("boom after accept")

    app.websocket("/echo", echo)
    app.websocket("/before", broken_before)
    app.websocket("/refused", refused)
    app.websocket("/after", broken_after)
    return app


async def test_refusals_carry_the_envelope_and_failures_never_leak() -> None:
    records: list[logging.LogRecord] = []
    async with serving(_app(records)) as base:
        for path, status, code in (("/nope", 404, "RESOURCE_NOT_FOUND"), ("/before", 500, "INTERNAL_ERROR"),
                                   ("/refused", 403, "FORBIDDEN")):
            with pytest.raises(InvalidStatus) as info:
                async with connect(base + path):
                    pass
            response = info.value.response
            assert response.status_code == status
            envelope = json.loads(response.body or b"")
            assert envelope["error"]["code"] == code
            assert b"secret internals" not in (response.body or b"")

        async with connect(base + "/after") as ws:
            await ws.send("hi")
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011

        async with connect(base + "/echo", max_size=None) as ws:
            await ws.send("small")
            assert await ws.recv() == "small"
            await ws.send("x" * 2000)                           # over ws_max_message_bytes
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    logged = [r.getMessage() for r in records]
    assert any("unhandled exception in websocket /before" in m for m in logged)
    assert any("unhandled exception in websocket /after" in m for m in logged)
