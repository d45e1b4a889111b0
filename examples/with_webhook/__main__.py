"""``python -m examples.with_webhook``: secrets from the environment or .env, then serve until SIGTERM."""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ConfigError, ExampleConfig, serve_example

from .adapters.webhooks import PlumegoReceivers
from .app import build_app


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    if cfg.backend and not cfg.backend.startswith(("redis://", "rediss://")):
        raise ConfigError("--backend must be a redis:// URL (the shared store of seen deliveries)")
    receivers = PlumegoReceivers(github_secret=cfg.extra.get("GITHUB_WEBHOOK_SECRET"),
                                 stripe_secret=cfg.extra.get("STRIPE_WEBHOOK_SECRET"), redis_url=cfg.backend)
    return build_app(receivers, logger, host=cfg.host, port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_webhook", "GitHub and Stripe webhook receivers.", port=8085,
                         data_dir=".data/with_webhook", build=build,
                         extra=("GITHUB_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET"))


if __name__ == "__main__":
    sys.exit(main())
