"""Serve an example app: bind first (so ``--port 0`` works), run uvicorn with the App's own options, print
``listening on http://H:P`` once the app has started (lifespan done, so a client that reads the line can use it at
once), and exit 0 after SIGTERM/SIGINT drained in-flight work.
Imports the standard library and plumego; uvicorn when called.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from types import FrameType

from plumego.core import App
from plumego.log import LoggerConfig, StructuredLogger, new_logger

from .config import ConfigError, ExampleConfig, load_config

__all__ = ["run", "serve_example"]


def _keep(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the signal it stopped on; this handler swallows it so the process exits 0."""


def run(app: App, host: str, port: int, logger: StructuredLogger) -> int:
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        logger.error("cannot bind", {"addr": f"{host}:{port}", "error": str(exc)})
        return 1
    bound_host, bound_port = sock.getsockname()[:2]
    options = app.config.uvicorn_options()
    for key in ("host", "port"):
        options.pop(key, None)
    server = uvicorn.Server(uvicorn.Config(app, access_log=False, log_level="warning", **options))
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _keep)
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            print(f"listening on http://{shown}:{bound_port}", flush=True)
        await task

    try:
        asyncio.run(serve())
    except SystemExit:              # uvicorn exits when the lifespan startup fails
        return 1
    finally:
        sock.close()
    return 0 if server.started else 1


def serve_example(prog: str, description: str, *, port: int, data_dir: str,
                  build: Callable[[ExampleConfig, StructuredLogger], App], extra: Sequence[str] = (),
                  backend_aliases: Sequence[str] = ()) -> int:
    """An example's whole ``main``: load the configuration, let ``build`` wire the app, serve it. A setting that
    cannot be used (``build`` raising ConfigError, ValueError or OSError included) prints ``error: ...`` and
    returns 2; otherwise returns ``run``'s status."""
    logger = new_logger(LoggerConfig(format="text"))
    try:
        cfg = load_config(prog, description, port=port, data_dir=data_dir, extra=extra,
                          backend_aliases=backend_aliases)
        app = build(cfg, logger)
    except (ConfigError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run(app, cfg.host, cfg.port, logger)
