"""``python -m examples.with_gateway``: load the configuration, wire the proxy, serve until SIGTERM."""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ConfigError, ExampleConfig, serve_example

from .adapters.proxy import GatewayUpstream
from .app import build_app

DEFAULT_BACKEND = "http://localhost:9090"


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    backend = cfg.backend or DEFAULT_BACKEND
    try:
        upstream = GatewayUpstream(backend, prefix="/proxy")
    except ValueError as exc:
        raise ConfigError(f"--backend: {exc}") from None
    return build_app(upstream, logger, host=cfg.host, port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_gateway", "Proxy /proxy/* to a backend.", port=8083,
                         data_dir=".data/with_gateway", build=build)


if __name__ == "__main__":
    sys.exit(main())
