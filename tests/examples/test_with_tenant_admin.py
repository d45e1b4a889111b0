"""examples/with_tenant_admin as a user runs it: the admin plane behind X-Admin-Token on SQLite (default) and
PostgreSQL, bad input answered with clear errors, a required token at startup, and plumego-lint in service mode."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from example_server import REPO
from example_server import serve as serve_example

EXAMPLE = REPO / "examples" / "with_tenant_admin"
TOKEN = "admin-token-0123456789"


def serve(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return serve_example("examples.with_tenant_admin", *args, env={"ADMIN_TOKEN": TOKEN, **(env or {})})


def call(method: str, url: str, body: Any = None, *, token: str | None = TOKEN,
         raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **({"X-Admin-Token": token} if token is not None else {})}
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def exercise(url: str) -> None:
    admin = url + "/admin"
    assert call("GET", admin + "/tenants/acme", token=None)[0] == 401
    assert call("GET", admin + "/tenants/acme", token="wrong-token-wrong-token")[0] == 401
    status, body = call("POST", admin + "/tenants", {"tenant_id": "acme", "metadata": {"plan": "pro"}})
    assert status == 201 and body["tenant_id"] == "acme" and body["metadata"] == {"plan": "pro"}
    assert call("POST", admin + "/tenants", {"tenant_id": "acme"})[0] == 409
    assert call("GET", admin + "/tenants/acme")[1]["suspended"] is False
    assert call("PUT", admin + "/quota/acme", {"requests_per_minute": 3, "tokens_per_minute": 100})[0] == 200
    status, body = call("GET", admin + "/quota/acme")
    assert status == 200 and (body["requests_per_minute"], body["tokens_per_minute"]) == (3, 100)
    assert call("POST", admin + "/usage/acme", {"requests": 1, "tokens": 40})[0] == 201
    status, body = call("POST", admin + "/usage/acme", {"requests": 2, "tokens": 60})
    assert status == 201 and body["remaining_requests"] == 0 and body["remaining_tokens"] == 0
    status, body = call("POST", admin + "/usage/acme", {"requests": 1})
    assert status == 429 and body["error"]["code"] == "tenant_quota_exceeded"
    status, body = call("GET", admin + "/usage/acme")
    assert status == 200 and (body["windows"][0]["requests"], body["windows"][0]["tokens"]) == (3, 100)
    assert call("POST", admin + "/quota/acme/reset")[1] == {"tenant_id": "acme", "reset": True}
    assert call("GET", admin + "/usage/acme")[1]["windows"][0]["requests"] == 0
    assert call("POST", admin + "/tenants/acme/suspend")[1]["suspended"] is True
    assert call("GET", admin + "/tenants/acme")[1]["suspended"] is True
    assert call("DELETE", admin + "/tenants/acme")[1] == {"tenant_id": "acme", "deleted": True}
    assert call("GET", admin + "/tenants/acme")[0] == 404
    assert call("DELETE", admin + "/tenants/acme")[0] == 404
    # bad input: clear 4xx envelopes, nothing half-written
    for body in ({"tenant_id": "a b"}, {"tenant_id": "x", "quota": [{"window": "week"}]}, [1], {"tenant_id": "x",
                                                                                           "bogus": 1}):
        status, answer = call("POST", admin + "/tenants", body)
        assert status == 400 and answer["error"]["type"] == "validation_failure", body
    assert call("POST", admin + "/tenants", raw=b"{not json")[0] == 400
    assert call("GET", admin + "/tenants/x")[0] == 404
    call("POST", admin + "/tenants", {"tenant_id": "beta"})
    for bad in ({"requests_per_minute": -1}, {"requests_per_minute": "10"}, {}):
        assert call("PUT", admin + "/quota/beta", bad)[0] == 400
    assert call("POST", admin + "/usage/beta", {"requests": -3})[0] == 400
    assert call("GET", admin + "/quota/beta")[1]["requests_per_minute"] == 0      # unchanged


def test_admin_plane_on_sqlite(tmp_path: Path) -> None:
    with serve("--data-dir", str(tmp_path)) as url:
        exercise(url)
    with serve("--data-dir", str(tmp_path)) as url:               # configs survive a restart
        assert call("GET", url + "/admin/tenants/beta")[0] == 200


@pytest.mark.services
def test_admin_plane_on_postgres(pg_schema: tuple[str, str], tmp_path: Path) -> None:
    base, schema = pg_schema
    with serve("--data-dir", str(tmp_path), "--backend", f"{base}{'&' if '?' in base else '?'}schema={schema}") as url:
        exercise(url)


def test_admin_token_is_required_at_startup() -> None:
    for env in ({}, {"ADMIN_TOKEN": "short"}):
        proc = subprocess.run([sys.executable, "-m", "examples.with_tenant_admin", "--port", "0"], cwd=REPO,
                              capture_output=True, text=True, timeout=60,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", **env})
        assert proc.returncode == 2 and "ADMIN_TOKEN" in proc.stderr


def test_plumego_lint_service_mode() -> None:
    ok = subprocess.run([sys.executable, "-m", "plumego_lint", "check"], cwd=EXAMPLE, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
