"""HTTP observers: the collector-backed observer, fan-out and the no-op observer."""

from __future__ import annotations

from plumego.metrics import CollectorObserver, HTTPObserver, MetricsCollector, MultiObserver, NoopObserver


def test_collector_observer_records_three_families() -> None:
    c = MetricsCollector()
    observer = CollectorObserver(c)
    observer.observe("GET", "/users/:id", 200, 0.02, 120)
    observer.observe("GET", "/users/:id", 200, 0.2, 0)
    observer.observe("POST", "/users", 500, 1.5, 40)
    labels = {"method": "GET", "route": "/users/:id", "status": "200"}
    assert c.counter("http_requests_total", label_names=("method", "route", "status")).value(labels) == 2
    assert c.counter("http_response_bytes_total", label_names=("method", "route", "status")).value(labels) == 120
    hist = c.snapshot().family("http_request_duration_seconds")
    assert hist is not None
    by_route = {s.labels["route"]: s for s in hist.samples}
    assert by_route["/users/:id"].count == 2 and by_route["/users"].count == 1
    assert isinstance(observer, HTTPObserver)


def test_multi_observer_isolates_failures() -> None:
    seen: list[tuple[str, int]] = []

    class Broken:
        def observe(self, method: str, route: str, status: int, duration: float, bytes_written: int) -> None:
            raise RuntimeError("boom")

    class Recording:
        def observe(self, method: str, route: str, status: int, duration: float, bytes_written: int) -> None:
            seen.append((method, status))

    MultiObserver(Broken(), Recording(), NoopObserver()).observe("GET", "/", 204, 0.0, 0)
    assert seen == [("GET", 204)]
