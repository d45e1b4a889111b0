"""``python -m examples.with_messaging``: load the configuration, wire the bus, serve until SIGTERM."""

from __future__ import annotations

import sys

from plumego.log import LoggerConfig, new_logger

from examples._shared import ConfigError, load_config, run

from .adapters.bus import PubSubBus
from .app import build_app


def main() -> int:
    logger = new_logger(LoggerConfig(format="text"))
    try:
        cfg = load_config("python -m examples.with_messaging", "Publish events over plumego pub/sub.", port=8082,
                          data_dir=".data/with_messaging")
        bus = PubSubBus(cfg.backend)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run(build_app(bus, logger, host=cfg.host, port=cfg.port), cfg.host, cfg.port, logger)


if __name__ == "__main__":
    sys.exit(main())
