"""``python -m examples.with_websocket``: load the configuration, wire the server, serve until SIGTERM."""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ExampleConfig, serve_example

from .app import build_app


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    return build_app(cfg.extra.get("WS_SECRET", ""), logger, broadcast_secret=cfg.extra.get("WS_BROADCAST_SECRET", ""),
                     backplane=cfg.backend, host=cfg.host, port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_websocket", "Echo and rooms over plumego websockets.", port=8084,
                         data_dir=".data/with_websocket", build=build, extra=("WS_SECRET", "WS_BROADCAST_SECRET"),
                         backend_aliases=("--backplane",))


if __name__ == "__main__":
    sys.exit(main())
