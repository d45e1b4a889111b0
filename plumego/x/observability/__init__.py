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

_PROMETHEUS = frozenset({"UNMATCHED_ROUTE", "PlumegoMetricsExporter", "PrometheusCollector", "prometheus_middleware"})
_TRACING = frozenset({"OTelTracing", "current_trace_headers"})


def __getattr__(name: str) -> Any:
    """Load the prometheus-client and OpenTelemetry parts on first use (literal imports the linter can check)."""
    if name in _PROMETHEUS:
        from plumego.x.observability import _prometheus as module
    elif name in _TRACING:
        from plumego.x.observability import _tracing as module  # type: ignore[no-redef]
    else:
        raise AttributeError(f"module 'plumego.x.observability' has no attribute {name!r}")
    return getattr(module, name)
