"""``python -m examples.with_events``: configuration, the outbox on the chosen queue backend, serve until SIGTERM."""

from __future__ import annotations

import sys

from plumego.log import LoggerConfig, new_logger

from examples._shared import ConfigError, load_config, run

from .adapters.outbox import QueueOutbox
from .app import build_app


def main() -> int:
    logger = new_logger(LoggerConfig(format="text"))
    try:
        cfg = load_config("python -m examples.with_events", "Orders through a durable outbox.", port=8083,
                          data_dir=".data/with_events")
        backend = cfg.backend or f"sqlite:///{(cfg.data_dir / 'queue.db').as_posix()}"
        if not backend.startswith(("sqlite:///", "postgresql://", "postgres://", "redis://", "rediss://")):
            raise ConfigError("--backend must be sqlite:///..., postgresql://... or redis://...")
        app = build_app(cfg.data_dir, lambda process: QueueOutbox(backend, process), logger, host=cfg.host,
                        port=cfg.port)
    except (ConfigError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run(app, cfg.host, cfg.port, logger)


if __name__ == "__main__":
    sys.exit(main())
