"""``python -m examples.with_events``: configuration, the outbox on the chosen queue backend, serve until SIGTERM."""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ConfigError, ExampleConfig, serve_example

from .adapters.outbox import QueueOutbox
from .app import build_app


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    backend = cfg.backend or f"sqlite:///{(cfg.data_dir / 'queue.db').as_posix()}"
    if not backend.startswith(("sqlite:///", "postgresql://", "postgres://", "redis://", "rediss://", "nats://")):
        raise ConfigError("--backend must be sqlite:///..., postgresql://..., redis://... or nats://...")
    return build_app(cfg.data_dir, lambda process: QueueOutbox(backend, process), logger, host=cfg.host,
                     port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_events", "Orders through a durable outbox.", port=8083,
                         data_dir=".data/with_events", build=build)


if __name__ == "__main__":
    sys.exit(main())
