"""Real servers on loopback for the gateway tests: uvicorn running a small backend app (echo, streaming,
uploads, redirects, hangs, broken-off bodies, health), uvicorn running the gateway itself, and raw TCP servers
that reset connections."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

uvicorn = pytest.importorskip("uvicorn")

Scope = dict[str, Any]


class BackendApp:
    """An ASGI backend whose routes exercise the proxy. ``name`` tells which backend answered."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.health_status = 200
        self.hits = 0
        self.release = asyncio.Event()
        self.received = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/health":
            await self._send(send, self.health_status, b"ok")
            return
        self.hits += 1
        if path.startswith("/hang"):
            await asyncio.sleep(30)
        if path.startswith("/redirect"):
            await self._send(send, 302, b"", [(b"location", b"/elsewhere")])
            return
        if path.startswith("/status/"):
            await self._send(send, int(path.rsplit("/", 1)[1]), self.name.encode())
            return
        if path.startswith("/stream"):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/plain"), (b"x-backend", self.name.encode())]})
            await send({"type": "http.response.body", "body": b"first\n", "more_body": True})
            await self.release.wait()          # the test reads "first" before the backend finishes
            await send({"type": "http.response.body", "body": b"second\n", "more_body": False})
            return
        if path.startswith("/cut"):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"100000")]})
            await send({"type": "http.response.body", "body": b"x" * 1000, "more_body": True})
            raise RuntimeError("backend dies mid-body")
        if path.startswith("/cookie"):
            await self._send(send, 200, b"{}", [(b"set-cookie", b"sid=secret; Path=/")])
            return
        digest = hashlib.sha256()
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            digest.update(chunk)
            size += len(chunk)
            self.received += len(chunk)
            if not message.get("more_body"):
                break
        body = {
            "backend": self.name, "method": scope["method"], "path": path,
            "raw_path": scope.get("raw_path", b"").decode("latin-1"),
            "query": scope["query_string"].decode(), "size": size, "sha256": digest.hexdigest(),
            "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        }
        await self._send(send, 200, json.dumps(body).encode(),
                         [(b"content-type", b"application/json"), (b"x-backend", self.name.encode()),
                          (b"connection", b"x-private"), (b"x-private", b"hop")])

    @staticmethod
    async def _send(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers or []})
        await send({"type": "http.response.body", "body": body})


@contextlib.asynccontextmanager
async def serve_asgi(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in this event loop; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="critical", lifespan="off", timeout_graceful_shutdown=1,
                            proxy_headers=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        sock.close()


@pytest.fixture
async def backends() -> AsyncIterator[Callable[[str], Awaitable[tuple[str, BackendApp]]]]:
    """``await backends("a")`` starts a backend named a and returns (url, app)."""
    stack = contextlib.AsyncExitStack()

    async def start(name: str) -> tuple[str, BackendApp]:
        app = BackendApp(name)
        url = await stack.enter_async_context(serve_asgi(app))
        return url, app

    async with stack:
        yield start


@contextlib.asynccontextmanager
async def resetting_server() -> AsyncIterator[str]:
    """A TCP server that accepts and immediately resets every connection (SO_LINGER 0)."""
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


def free_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"
