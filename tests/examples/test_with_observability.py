"""examples/with_observability as a user runs it: /metrics with route templates, traceparent in and out, spans
exported over OTLP/HTTP to a local receiver (flushed on SIGTERM), readiness, two real processes summed through
PROMETHEUS_MULTIPROC_DIR, a bad setting refused, and plumego-lint in service mode."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from example_server import REPO, call
from example_server import serve as serve_example
from tests.x.observability.otlp_receiver import OTLPReceiver

EXAMPLE = REPO / "examples" / "with_observability"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def metrics(url: str) -> dict[tuple[str, str, str], float]:
    with urllib.request.urlopen(url + "/metrics", timeout=30) as response:
        text = response.read().decode()
    out: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "with_observability_http_requests_total":
                out[(sample.labels["method"], sample.labels["route"], sample.labels["status"])] = sample.value
    return out


def settled(url: str, key: tuple[str, str, str], expected: float) -> dict[tuple[str, str, str], float]:
    """The metrics once ``key`` reached ``expected``: a request is counted just after its last byte is sent."""
    deadline = time.monotonic() + 10
    seen = metrics(url)
    while seen.get(key) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = metrics(url)
    return seen


def test_metrics_traces_and_readiness(monkeypatch: pytest.MonkeyPatch) -> None:
    # not even empty: prometheus-client switches to multiprocess files (in the cwd) when the name is present
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    receiver = OTLPReceiver()
    try:
        env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url}
        with serve_example("examples.with_observability", env=env) as url:
            assert call(url + "/healthz") == (200, {"status": "ok"})
            assert call(url + "/readyz") == (200, {"ready": True})
            request = urllib.request.Request(url + "/api/v1/hello/ada",
                                             headers={"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"})
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.headers["traceparent"].split("-")[1] == TRACE
            bad = urllib.request.Request(url + "/api/v1/hello/bob", headers={"traceparent": "00-zz-yy-01"})
            with urllib.request.urlopen(bad, timeout=30) as response:
                assert response.status == 200 and TRACE not in response.headers["traceparent"]
            assert call(url + "/nowhere/123")[0] == 404
            seen = settled(url, ("GET", "<unmatched>", "404"), 1)
            assert seen[("GET", "/api/v1/hello/:name", "200")] == 2
            assert seen[("GET", "<unmatched>", "404")] == 1
            assert not any(route.startswith("/nowhere") for _, route, _ in seen)
            status, stats = call(url + "/api/v1/stats")
            assert status == 200 and stats["request_seconds"]["count"] >= 4 and stats["sample_ratio"] == 1.0
        assert receiver.arrived.wait(10)            # SIGTERM flushed the batch processor
        names = {span.name: span for _, span in receiver.spans()}  # type: ignore[attr-defined]
        assert "GET /api/v1/hello/:name" in names
        assert any(span.trace_id.hex() == TRACE for _, span in receiver.spans())  # type: ignore[attr-defined]
    finally:
        receiver.close()


def test_two_processes_share_metrics(tmp_path: Path) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    with serve_example("examples.with_observability", env=env) as first, \
            serve_example("examples.with_observability", env=env) as second:
        for _ in range(3):
            assert call(first + "/api/v1/hello/a")[0] == 200
        for _ in range(4):
            assert call(second + "/api/v1/hello/b")[0] == 200
        assert settled(first, ("GET", "/api/v1/hello/:name", "200"), 7)[("GET", "/api/v1/hello/:name", "200")] == 7
        assert call(second + "/api/v1/stats")[1]["multiprocess"] is True


def test_bad_setting_exits_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "examples.with_observability", "--port", "0"], cwd=REPO,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "TRACE_SAMPLE_RATIO": "2"},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "sample_ratio" in proc.stderr


def test_plumego_lint_service_mode() -> None:
    ok = subprocess.run([sys.executable, "-m", "plumego_lint", "check"], cwd=EXAMPLE, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
