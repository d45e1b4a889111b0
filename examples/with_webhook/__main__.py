"""``python -m examples.with_webhook``: secrets from the environment or .env, then serve until SIGTERM."""

from __future__ import annotations

import sys

from plumego.log import LoggerConfig, new_logger

from examples._shared import ConfigError, load_config, run

from .adapters.webhooks import PlumegoReceivers
from .app import build_app


def main() -> int:
    logger = new_logger(LoggerConfig(format="text"))
    try:
        cfg = load_config("python -m examples.with_webhook", "GitHub and Stripe webhook receivers.", port=8085,
                          data_dir=".data/with_webhook", extra=("GITHUB_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET"))
        if cfg.backend and not cfg.backend.startswith(("redis://", "rediss://")):
            raise ConfigError("--backend must be a redis:// URL (the shared store of seen deliveries)")
        receivers = PlumegoReceivers(github_secret=cfg.extra.get("GITHUB_WEBHOOK_SECRET"),
                                     stripe_secret=cfg.extra.get("STRIPE_WEBHOOK_SECRET"), redis_url=cfg.backend)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run(build_app(receivers, logger, host=cfg.host, port=cfg.port), cfg.host, cfg.port, logger)


if __name__ == "__main__":
    sys.exit(main())
