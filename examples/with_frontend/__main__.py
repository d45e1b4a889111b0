"""``python -m examples.with_frontend``: load the configuration, wire the API and the frontend, serve until
SIGTERM."""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ExampleConfig, serve_example

from .app import build_app


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    return build_app(logger, api_prefix=cfg.extra.get("API_PREFIX", "/api"), ui_prefix=cfg.extra.get("UI_PREFIX", ""),
                     assets_dir=cfg.extra.get("ASSETS_DIR", ""), host=cfg.host, port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_frontend", "A single-page app and its JSON API.", port=8088,
                         data_dir=".data/with_frontend", build=build, extra=("API_PREFIX", "UI_PREFIX", "ASSETS_DIR"))


if __name__ == "__main__":
    sys.exit(main())
