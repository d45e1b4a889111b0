"""plumego.metrics: Metrics contracts: counter, gauge and histogram, an in-process collector and the HTTP observer
used by httpmetrics.

Stable root (ga). Imports only the standard library and plumego.log;
never plumego.x, the reference app or tooling.
"""

from plumego.metrics._collector import (
    DEFAULT_BUCKETS,
    Counter,
    CounterMetric,
    Gauge,
    GaugeMetric,
    Histogram,
    HistogramMetric,
    Labels,
    MetricFamily,
    MetricKind,
    MetricsCollector,
    MetricsSnapshot,
    Sample,
)
from plumego.metrics._http import CollectorObserver, HTTPObserver, MultiObserver, NoopObserver

__all__ = [
    "DEFAULT_BUCKETS",
    "CollectorObserver",
    "Counter",
    "CounterMetric",
    "Gauge",
    "GaugeMetric",
    "HTTPObserver",
    "Histogram",
    "HistogramMetric",
    "Labels",
    "MetricFamily",
    "MetricKind",
    "MetricsCollector",
    "MetricsSnapshot",
    "MultiObserver",
    "NoopObserver",
    "Sample",
]
