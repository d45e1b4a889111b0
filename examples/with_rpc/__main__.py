"""``python -m examples.with_rpc``: serve the Greeter on gRPC and GET /v1/hello/:name over HTTP until SIGTERM.

Setting beyond the shared ones: ``GRPC_ADDRESS`` (``host:port`` of the gRPC listener, default ``127.0.0.1:0``,
a free port, reported by /healthz).
"""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ExampleConfig, serve_example

from .app import build_app


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    return build_app(logger, grpc_address=cfg.extra.get("GRPC_ADDRESS", "127.0.0.1:0"), host=cfg.host, port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_rpc", "A Hello service on gRPC, transcoded to HTTP.", port=8088,
                         data_dir=".data/with_rpc", build=build, extra=("GRPC_ADDRESS",))


if __name__ == "__main__":
    sys.exit(main())
