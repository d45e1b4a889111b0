"""``python -m examples.with_ops``: load the configuration, mount ops (and devtools when asked), serve until SIGTERM.

Settings beyond the shared ones: ``OPS_TOKEN`` (the bearer token of /ops; without it every ops route answers 503),
``APP_ENVIRONMENT`` (default ``development``) and ``DEVTOOLS=1`` (mount /_debug; refused when the environment is
production: the process exits 2).
"""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ExampleConfig, serve_example

from .app import build_app

SETTINGS = ("OPS_TOKEN", "APP_ENVIRONMENT", "DEVTOOLS")


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    try:
        return build_app(logger, ops_token=cfg.extra.get("OPS_TOKEN", ""),
                         environment=cfg.extra.get("APP_ENVIRONMENT", "development"),
                         devtools=cfg.extra.get("DEVTOOLS", "") in ("1", "true"), host=cfg.host, port=cfg.port)
    except RuntimeError as exc:                 # devtools refused in production
        raise ValueError(str(exc)) from None


def main() -> int:
    return serve_example("python -m examples.with_ops", "Ops routes behind OPS_TOKEN.", port=8087,
                         data_dir=".data/with_ops", build=build, extra=SETTINGS)


if __name__ == "__main__":
    sys.exit(main())
