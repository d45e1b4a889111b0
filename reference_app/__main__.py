"""``python -m reference_app [--addr H:P | --host H --port P] [--data-dir D]``: serve the reference service.

Binds the socket itself (so ``--port 0`` can print the bound address), then runs uvicorn until SIGINT or
SIGTERM, which stop accepting connections, drain in-flight requests and exit 0. Any startup error is
logged and exits 1. Imports config and app (main -> config -> app); uvicorn is imported here only.
"""

from __future__ import annotations

import signal
import socket
import sys
from collections.abc import Callable, Sequence
from types import FrameType

from plumego.contract import ASGIApp
from plumego.log import LoggerConfig, StructuredLogger, new_logger

from reference_app import config
from reference_app.app import build_app

WrapApp = Callable[[ASGIApp], ASGIApp]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def _keep_signal(signum: int, frame: FrameType | None) -> None:
    """Pre-installed handler: uvicorn re-raises the signal it shut down on; swallowing it lets us exit 0."""


def main(argv: Sequence[str] | None = None, *, wrap: WrapApp | None = None) -> int:
    """Run the service; returns the process exit status. ``wrap`` decorates the ASGI app (tests only)."""
    logger: StructuredLogger = new_logger(LoggerConfig(format="text"))
    try:
        cfg = config.load(argv)
        app = build_app(cfg, logger)
        import uvicorn

        sock = _bind(cfg.host, cfg.port)
    except Exception as exc:  # noqa: BLE001 - every startup failure: log it and exit 1 (Go main)
        logger.error("startup failed", {"error": f"{type(exc).__name__}: {exc}"})
        return 1

    host, port = sock.getsockname()[:2]
    scheme = cfg.scheme
    address = f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
    options = app.config.uvicorn_options()
    for key in ("host", "port"):
        options.pop(key)
    server = uvicorn.Server(
        uvicorn.Config(wrap(app) if wrap else app, access_log=False, log_level="warning", **options)
    )
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _keep_signal)
    logger.info("starting server", {"addr": address, "data_dir": str(cfg.data_dir), "tls": cfg.tls_enabled})
    print(f"listening on {address}", flush=True)
    try:
        server.run(sockets=[sock])
    except SystemExit as exc:  # uvicorn exits when the lifespan startup fails
        logger.error("server failed to start", {"exit": str(exc.code)})
        return 1
    except Exception as exc:  # noqa: BLE001
        logger.error("server failed", {"error": f"{type(exc).__name__}: {exc}"})
        return 1
    finally:
        sock.close()
    if not server.started:
        logger.error("server failed to start")
        return 1
    logger.info("server stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
