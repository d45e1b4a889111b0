"""plumego.x.observability (beta): the Prometheus collector on prometheus-client, tracing on the OpenTelemetry
SDK (W3C traceparent in and out, OTLP/HTTP export), window metrics and the record buffer; ops and devtools
subpackages (experimental).

The Prometheus and OpenTelemetry parts load lazily (``pip install 'plumego[observability]'``); the window
helpers need nothing but the standard library. May import the stable roots its module.yaml allows; never the
reference app or tooling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plumego.x.observability._window import RecordBuffer, WindowMetrics, WindowStats

if TYPE_CHECKING:
    from plumego.x.observability._prometheus import (
        UNMATCHED_ROUTE,
        PlumegoMetricsExporter,
        PrometheusCollector,
        prometheus_middleware,
    )
    from plumego.x.observability._tracing import OTelTracing, current_trace_headers

__all__ = [
    "UNMATCHED_ROUTE",
    "OTelTracing",
    "PlumegoMetricsExporter",
    "PrometheusCollector",
    "RecordBuffer",
    "WindowMetrics",
    "WindowStats",
    "current_trace_headers",
    "prometheus_middleware",
]

_LAZY = {
    "UNMATCHED_ROUTE": "_prometheus",
    "PlumegoMetricsExporter": "_prometheus",
    "PrometheusCollector": "_prometheus",
    "prometheus_middleware": "_prometheus",
    "OTelTracing": "_tracing",
    "current_trace_headers": "_tracing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'plumego.x.observability' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"plumego.x.observability.{module}"), name)
