"""Run an App under a real uvicorn on a free loopback port inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from plumego.core import App


@asynccontextmanager
async def serving(app: App, *, lifespan: str = "on") -> AsyncIterator[str]:
    """Yield ``http://127.0.0.1:PORT``; the server (and the app's lifespan) stops on exit."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options = app.config.uvicorn_options()
    for key in ("host", "port"):
        options.pop(key)
    options["lifespan"] = lifespan
    options["timeout_graceful_shutdown"] = 5
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", **options))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
