"""The Prometheus collector: HTTP metrics with bounded label sets on prometheus-client, a /metrics handler,
multiprocess mode for several workers, and an exporter for plumego.metrics collectors.

Owns metric names, label bounding and exposition. Imports the standard library, plumego.contract,
plumego.metrics and prometheus-client (``pip install 'plumego[observability]'``); never core or router.

Better than Go plumego: Go writes its own text exposition and keeps series per process; here the real
prometheus-client does the exposition (OpenMetrics negotiation included) and its multiprocess mode sums
the series of every uvicorn worker, so ``--workers N`` reports one truthful total.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any, Final

try:
    import prometheus_client
    from prometheus_client import CollectorRegistry, multiprocess, values
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
        Metric,
    )
    from prometheus_client.exposition import choose_encoder
    from prometheus_client.registry import Collector
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the Prometheus collector needs prometheus-client: pip install 'plumego[observability]'") from exc

from plumego.contract import (
    ASGIApp,
    Message,
    Middleware,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    route_context_from_scope,
)
from plumego.metrics import DEFAULT_BUCKETS, MetricsCollector

__all__ = ["UNMATCHED_ROUTE", "PlumegoMetricsExporter", "PrometheusCollector", "prometheus_middleware"]

#: The ``route`` label of a request no route matched (404s, scanners): never the raw path.
UNMATCHED_ROUTE: Final = "<unmatched>"
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})
_MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
_MAX_CACHED: Final = 10_000


class PrometheusCollector:
    """HTTP request metrics on prometheus-client, in a registry of its own (no global registry).

    Families (``namespace`` prefixed): ``http_requests_total`` and ``http_response_bytes_total`` counters and
    the ``http_request_duration_seconds`` histogram, labelled ``method`` (the nine HTTP methods, else
    ``OTHER``), ``route`` (the route template such as ``/users/:id``, or ``<unmatched>``) and ``status`` -
    a bounded label set whatever the clients send.

    ``multiprocess=True`` sums every worker's series: prometheus-client picks its storage when it is first
    imported, so ``PROMETHEUS_MULTIPROC_DIR`` must name an existing directory in the environment of every
    worker before it starts (``PROMETHEUS_MULTIPROC_DIR=/tmp/prom uvicorn --workers 4 ...``); otherwise the
    constructor raises ValueError naming the variable. Empty that directory between runs of the service. Do not
    leave the variable set but empty: prometheus-client then writes its files into the working directory.
    """

    def __init__(self, namespace: str = "", *, multiprocess: bool = False,
                 buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        self.multiprocess = multiprocess
        self._dir = ""
        if multiprocess:
            self._dir = os.environ.get(_MULTIPROC_ENV, "") or os.environ.get(_MULTIPROC_ENV.lower(), "")
            if not self._dir or not os.path.isdir(self._dir):
                raise ValueError(f"multiprocess metrics need {_MULTIPROC_ENV} set to an existing directory "
                                 "in every worker's environment before it starts")
            if values.ValueClass is values.MutexValue:
                raise ValueError(f"prometheus-client was imported before {_MULTIPROC_ENV} was set: "
                                 "set it in the environment before the process starts")
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("method", "route", "status")
        self._requests = prometheus_client.Counter(
            "http_requests", "HTTP requests served", labels, namespace=namespace, registry=self.registry)
        self._bytes = prometheus_client.Counter(
            "http_response_bytes", "HTTP response body bytes", labels, namespace=namespace, registry=self.registry)
        self._duration = prometheus_client.Histogram(
            "http_request_duration_seconds", "HTTP request duration in seconds", labels, namespace=namespace,
            registry=self.registry, buckets=tuple(buckets))
        # prometheus-client's labels() validates and locks on every call: keep the children per label tuple
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, duration: float, bytes_written: int) -> None:
        """Record one finished request (the plumego.metrics ``HTTPObserver`` contract).

        ``route`` must already be a template; :func:`prometheus_middleware` guarantees it.
        """
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (method if method in _METHODS else "OTHER", route, str(status) if 100 <= status <= 599 else "0")
            children = (self._requests.labels(*labels), self._duration.labels(*labels), self._bytes.labels(*labels))
            if len(self._children) < _MAX_CACHED:      # the label set is bounded; the cache is bounded anyway
                self._children[key] = children
        children[0].inc()
        children[1].observe(max(duration, 0.0))
        if bytes_written > 0:
            children[2].inc(bytes_written)

    def register(self, collector: Collector) -> None:
        """Add another collector (for example a :class:`PlumegoMetricsExporter`) to this registry."""
        self.registry.register(collector)

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The current exposition and its content type, negotiated from an ``Accept`` header."""
        encoder, content_type = choose_encoder(accept)
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=self._dir)  # type: ignore[no-untyped-call]
            return encoder(registry), content_type
        return encoder(self.registry), content_type

    async def handler(self, request: Request) -> Response:
        """The ``/metrics`` handler: ``app.get("/metrics", collector.handler)``."""
        body, content_type = self.exposition(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    @staticmethod
    def mark_process_dead(pid: int) -> None:
        """Call from the process manager when a worker exits (multiprocess mode keeps its live gauges otherwise)."""
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def prometheus_middleware(collector: PrometheusCollector) -> Middleware:
    """Observe every HTTP request into ``collector`` with the matched route template as the ``route`` label.

    Unlike the stable ``http_metrics`` middleware, which falls back to the raw path, a request no route
    matched is labelled ``<unmatched>``: a scanner walking random paths cannot grow the series count. An
    exception from the inner app is counted as 500 (unless a status was already sent) and re-raised.
    """

    def wrap(app: ASGIApp) -> ASGIApp:
        async def prometheus_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            status = 0
            written = 0
            began = time.perf_counter()

            def counting_send(message: Message) -> Awaitable[None]:
                nonlocal status, written
                if message["type"] == "http.response.body":
                    written += len(message.get("body", b""))
                elif message["type"] == "http.response.start":
                    status = message["status"]
                return send(message)

            try:
                await app(scope, receive, counting_send)
            except BaseException:
                if status == 0:
                    status = 500
                raise
            finally:
                route = route_context_from_scope(scope)
                try:
                    collector.observe(scope.get("method", ""), route.pattern if route else UNMATCHED_ROUTE,
                                      status, time.perf_counter() - began, written)
                except Exception:  # noqa: BLE001 - metrics never break a response
                    pass

        return prometheus_app

    return wrap


class PlumegoMetricsExporter(Collector):
    """Expose a plumego.metrics :class:`MetricsCollector` (counters, gauges, histograms) through Prometheus."""

    def __init__(self, source: MetricsCollector) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        for family in self._source.snapshot().families:
            label_names = list(family.label_names)
            if family.kind == "counter":
                name = family.name[:-6] if family.name.endswith("_total") else family.name
                counter = CounterMetricFamily(name, family.help or family.name, labels=label_names)
                for sample in family.samples:
                    counter.add_metric([sample.labels.get(n, "") for n in label_names], sample.value)
                yield counter
            elif family.kind == "gauge":
                gauge = GaugeMetricFamily(family.name, family.help or family.name, labels=label_names)
                for sample in family.samples:
                    gauge.add_metric([sample.labels.get(n, "") for n in label_names], sample.value)
                yield gauge
            else:
                histogram = HistogramMetricFamily(family.name, family.help or family.name, labels=label_names)
                for sample in family.samples:
                    buckets = [("+Inf" if le == float("inf") else repr(float(le)), float(n))
                               for le, n in sample.buckets]
                    histogram.add_metric([sample.labels.get(n, "") for n in label_names], buckets, sample.sum)
                yield histogram
