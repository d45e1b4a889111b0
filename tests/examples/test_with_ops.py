"""examples/with_ops as a user runs it: ops behind OPS_TOKEN (fail closed without one), queue stats and replay,
devtools only on request and refused in production, and plumego-lint in service mode."""

from __future__ import annotations

import subprocess
import sys

from example_server import REPO, call
from example_server import serve as serve_example

EXAMPLE = REPO / "examples" / "with_ops"
TOKEN = {"Authorization": "Bearer ops-secret-token"}


def test_ops_behind_the_token() -> None:
    with serve_example("examples.with_ops", env={"OPS_TOKEN": "ops-secret-token"}) as url:
        assert call(url + "/ops")[0] == 401
        assert call(url + "/ops", headers={"Authorization": "Bearer nope"})[0] == 401
        status, summary = call(url + "/ops", headers=TOKEN)
        assert status == 200 and summary["hooks"]["queue_stats"] is True
        assert call(url + "/ops/queue", headers=TOKEN) == (200, {"queues": ["emails", "primary"]})
        for job, fail in (("a", False), ("b", True), ("c", True)):
            assert call(url + "/jobs", {"queue": "primary", "job": job, "fail": fail})[0] == 202
        assert call(url + "/ops/queue?queue=primary", headers=TOKEN) == (
            200, {"queue": "primary", "stats": {"pending": 1, "dead": 2}})
        assert call(url + "/ops/queue?queue=nope", headers=TOKEN)[0] == 404
        assert call(url + "/ops/queue/replay", {"queue": "primary", "limit": 1}, headers=TOKEN) == (
            200, {"queue": "primary", "replayed": 1})
        assert call(url + "/ops/queue/replay", {"queue": "primary", "limit": 5000}, headers=TOKEN)[0] == 400
        assert call(url + "/ops/queue/replay", {"queue": "primary"})[0] == 401
        status, metrics = call(url + "/ops/metrics", headers=TOKEN)
        assert status == 200 and any(f["name"] == "http_requests_total" for f in metrics["families"])
        assert call(url + "/_debug/routes.json")[0] == 404                   # devtools not mounted by default


def test_fails_closed_without_a_token() -> None:
    with serve_example("examples.with_ops", env={"OPS_TOKEN": ""}) as url:
        status, body = call(url + "/ops/queue?queue=primary", headers=TOKEN)
        assert status == 503 and body["error"]["code"] == "OPS_AUTH_NOT_CONFIGURED"


def test_devtools_on_request_and_refused_in_production() -> None:
    with serve_example("examples.with_ops", env={"DEVTOOLS": "1", "OPS_TOKEN": "t"}) as url:
        status, config = call(url + "/_debug/config")
        assert status == 200 and config["service"]["ops_token"] == "***"
    proc = subprocess.run([sys.executable, "-m", "examples.with_ops", "--port", "0"], cwd=REPO, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "DEVTOOLS": "1",
                               "APP_ENVIRONMENT": "production"}, capture_output=True, text=True)
    assert proc.returncode == 2 and "production" in proc.stderr


def test_plumego_lint_service_mode() -> None:
    ok = subprocess.run([sys.executable, "-m", "plumego_lint", "check"], cwd=EXAMPLE, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
