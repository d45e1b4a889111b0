"""``python -m examples.with_observability``: load the configuration, wire telemetry, serve until SIGTERM.

Settings beyond the shared ones: ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (an OTLP/HTTP URL such as
``http://127.0.0.1:4318/v1/traces``; empty = no export), ``TRACE_SAMPLE_RATIO`` (0..1, default 1) and, in the
environment only, ``PROMETHEUS_MULTIPROC_DIR`` (metrics summed over every process sharing the directory).
"""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ExampleConfig, serve_example

from .adapters.telemetry import PlumegoTelemetry
from .app import build_app

SETTINGS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "TRACE_SAMPLE_RATIO")


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    raw_ratio = cfg.extra.get("TRACE_SAMPLE_RATIO", "1")
    try:
        ratio = float(raw_ratio)
    except ValueError:
        raise ValueError(f"TRACE_SAMPLE_RATIO {raw_ratio!r} is not a number") from None
    telemetry = PlumegoTelemetry("with-observability", sample_ratio=ratio,
                                 otlp_endpoint=cfg.extra.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""))
    return build_app(telemetry, logger, host=cfg.host, port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_observability", "Metrics, traces and readiness.", port=8086,
                         data_dir=".data/with_observability", build=build, extra=SETTINGS)


if __name__ == "__main__":
    sys.exit(main())
