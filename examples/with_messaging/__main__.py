"""``python -m examples.with_messaging``: load the configuration, wire the bus, serve until SIGTERM."""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ExampleConfig, serve_example

from .adapters.bus import PubSubBus
from .app import build_app


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    return build_app(PubSubBus(cfg.backend), logger, host=cfg.host, port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_messaging", "Publish events over plumego pub/sub.", port=8082,
                         data_dir=".data/with_messaging", build=build)


if __name__ == "__main__":
    sys.exit(main())
