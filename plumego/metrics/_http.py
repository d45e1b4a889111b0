"""The HTTP observer contract used by the httpmetrics middleware, and observers built on it.

Owns per-request metric names and label sets. Imports only the standard library and plumego.metrics internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from plumego.metrics._collector import DEFAULT_BUCKETS, MetricsCollector


@runtime_checkable
class HTTPObserver(Protocol):
    """Told about every finished HTTP request. Called on the request path: implementations must be cheap
    and should not raise (the middleware shields the response from observer errors anyway).

    ``route`` is the matched route pattern when known, else the raw path; ``duration`` is in seconds;
    ``bytes_written`` counts response body bytes.
    """

    def observe(self, method: str, route: str, status: int, duration: float, bytes_written: int) -> None: ...


class NoopObserver:
    """Discards every observation."""

    __slots__ = ()

    def observe(self, method: str, route: str, status: int, duration: float, bytes_written: int) -> None:
        return None


class CollectorObserver:
    """Records requests into a :class:`MetricsCollector` as three families (``prefix`` defaults to ``http``):

    ``<prefix>_requests_total`` counter, ``<prefix>_request_duration_seconds`` histogram and
    ``<prefix>_response_bytes_total`` counter, all labelled ``method``, ``route``, ``status``.
    """

    __slots__ = ("_requests", "_duration", "_bytes")

    def __init__(
        self,
        collector: MetricsCollector,
        prefix: str = "http",
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        labels = ("method", "route", "status")
        self._requests = collector.counter(f"{prefix}_requests_total", "HTTP requests served", labels)
        self._duration = collector.histogram(
            f"{prefix}_request_duration_seconds", "HTTP request duration in seconds", labels, buckets
        )
        self._bytes = collector.counter(f"{prefix}_response_bytes_total", "HTTP response body bytes", labels)

    def observe(self, method: str, route: str, status: int, duration: float, bytes_written: int) -> None:
        key = (method, route, str(status))  # declared label order: method, route, status
        self._requests.add_by_key(key, 1.0)
        self._duration.observe_by_key(key, duration)
        if bytes_written > 0:
            self._bytes.add_by_key(key, float(bytes_written))


class MultiObserver:
    """Fans each observation out to several observers in order; one failing observer does not stop the rest."""

    __slots__ = ("_observers",)

    def __init__(self, *observers: HTTPObserver) -> None:
        self._observers = tuple(observers)

    def observe(self, method: str, route: str, status: int, duration: float, bytes_written: int) -> None:
        for observer in self._observers:
            try:
                observer.observe(method, route, status, duration, bytes_written)
            except Exception:  # noqa: BLE001 - isolation between observers is the point of this class
                continue
