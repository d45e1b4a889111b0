"""The Prometheus collector on the real prometheus-client: bounded labels (route template, <unmatched>, OTHER),
the /metrics handler, the plumego.metrics exporter and multiprocess mode across two real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from plumego.contract import APIError, ErrorType, Request
from plumego.core import App
from plumego.metrics import MetricsCollector
from plumego.x.observability import (
    UNMATCHED_ROUTE,
    PlumegoMetricsExporter,
    PrometheusCollector,
    prometheus_middleware,
)

REPO = Path(__file__).resolve().parents[3]


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    out: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                out[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def build_app(collector: PrometheusCollector) -> App:
    app = App()
    app.use(prometheus_middleware(collector))

    async def user(request: Request) -> dict[str, str]:
        return {"id": request.path_params["id"]}

    async def boom(request: Request) -> dict[str, str]:
        raise APIError(ErrorType.UNAVAILABLE, "down")

    app.get("/users/:id", user)
    app.get("/boom", boom)
    app.get("/metrics", collector.handler)
    return app


async def test_route_template_labels_and_metrics_handler() -> None:
    collector = PrometheusCollector("svc")
    app = build_app(collector)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for i in range(5):
            assert (await client.get(f"/users/{i}")).status_code == 200
        for i in range(3):
            assert (await client.get(f"/scan/{i}/wp-admin.php")).status_code == 404
        assert (await client.get("/boom")).status_code == 503
        assert (await client.request("BREW", "/users/1")).status_code in (404, 405)
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    totals = samples(response.text, "svc_http_requests_total")
    assert totals[(("method", "GET"), ("route", "/users/:id"), ("status", "200"))] == 5
    assert totals[(("method", "GET"), ("route", UNMATCHED_ROUTE), ("status", "404"))] == 3
    assert totals[(("method", "GET"), ("route", "/boom"), ("status", "503"))] == 1
    routes = {dict(labels)["route"] for labels in totals}
    assert not any(route.startswith("/scan") or route.startswith("/users/1") for route in routes)  # never raw paths
    assert all(dict(labels)["method"] in ("GET", "OTHER") for labels in totals)
    count = samples(response.text, "svc_http_request_duration_seconds_count")
    assert count[(("method", "GET"), ("route", "/users/:id"), ("status", "200"))] == 5
    assert samples(response.text, "svc_http_response_bytes_total")


async def test_openmetrics_negotiation() -> None:
    collector = PrometheusCollector()
    collector.observe("GET", "/x", 200, 0.01, 10)
    app = build_app(collector)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


def test_plumego_metrics_exporter() -> None:
    source = MetricsCollector()
    source.counter("jobs_total", "jobs done", ["queue"]).inc(3, {"queue": "a"})
    source.gauge("depth", "queue depth").set(7)
    source.histogram("latency_seconds", "latency", buckets=(0.1, 1.0)).observe(0.5)
    collector = PrometheusCollector()
    collector.register(PlumegoMetricsExporter(source))
    text, _ = collector.exposition()
    body = text.decode()
    assert samples(body, "jobs_total") == {(("queue", "a"),): 3.0}
    assert samples(body, "depth") == {(): 7.0}
    assert samples(body, "latency_seconds_bucket")[(("le", "1.0"),)] == 1.0
    assert samples(body, "latency_seconds_sum") == {(): 0.5}


def test_multiprocess_needs_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.delenv("prometheus_multiproc_dir", raising=False)
    with pytest.raises(ValueError, match="PROMETHEUS_MULTIPROC_DIR"):
        PrometheusCollector(multiprocess=True)


WORKER = textwrap.dedent("""
    import sys
    from plumego.x.observability import PrometheusCollector
    collector = PrometheusCollector("mp", multiprocess=True)
    for _ in range(int(sys.argv[1])):
        collector.observe("GET", "/orders/:id", 200, 0.02, 100)
    if len(sys.argv) > 2:
        sys.stdout.write(collector.exposition()[0].decode())
""")


def test_multiprocess_sums_two_real_processes(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, n], env=env) for n in ("3", "4")]  # at once
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    done = subprocess.run([sys.executable, "-c", WORKER, "0", "show"], env=env, check=True, timeout=60,
                          capture_output=True, text=True)
    key = (("method", "GET"), ("route", "/orders/:id"), ("status", "200"))
    assert samples(done.stdout, "mp_http_requests_total")[key] == 7
    assert samples(done.stdout, "mp_http_request_duration_seconds_count")[key] == 7
    assert samples(done.stdout, "mp_http_response_bytes_total")[key] == 700
