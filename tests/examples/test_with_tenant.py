"""examples/with_tenant as a user runs it: the chain on GET /api/models with every backend, two instances sharing
the quota through SQLite and through Redis (together never more than the quota), bad settings, and plumego-lint in
service mode passing on it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import time
from pathlib import Path

import pytest
from example_server import REPO, call
from example_server import serve as serve_example

EXAMPLE = REPO / "examples" / "with_tenant"


def serve(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return serve_example("examples.with_tenant", *args, env=env)


def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], object]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, json.loads(exc.read())


def test_chain_on_the_memory_backend() -> None:
    with serve(env={"TENANT_QUOTA_PER_MINUTE": "3", "TENANT_RATE_PER_SECOND": "100", "TENANT_BURST": "100"}) as url:
        assert call(url + "/healthz") == (200, {"status": "ok"})
        status, headers, body = get(url + "/api/models", {"X-Tenant-ID": "acme", "X-Model": "gpt-4o"})
        assert status == 200 and body == {"tenant": "acme", "models": ["gpt-4o", "gpt-4o-mini",
                                                                        "claude-3-5-sonnet", "llama-3.1-70b"]}
        assert headers["x-quota-remaining-requests"] == "2"
        assert get(url + "/api/models", {})[0] == 401
        assert get(url + "/api/models", {"X-Tenant-ID": "bad id"})[0] == 400
        status, _, body = get(url + "/api/models", {"X-Tenant-ID": "free", "X-Model": "gpt-4o"})
        assert status == 403 and body["error"]["code"] == "tenant_policy_denied"  # type: ignore[index]
        get(url + "/api/models", {"X-Tenant-ID": "acme"})
        get(url + "/api/models", {"X-Tenant-ID": "acme"})
        status, headers, body = get(url + "/api/models", {"X-Tenant-ID": "acme"})
        assert status == 429 and body["error"]["code"] == "tenant_quota_exceeded"  # type: ignore[index]
        assert int(headers["retry-after"]) >= 1


def test_rate_limit_answers_with_its_headers(tmp_path: Path) -> None:
    env = {"TENANT_QUOTA_PER_MINUTE": "1000", "TENANT_RATE_PER_SECOND": "0.5", "TENANT_BURST": "2"}
    with serve("--backend", "sqlite", "--data-dir", str(tmp_path), env=env) as url:
        statuses = [get(url + "/api/models", {"X-Tenant-ID": "acme"}) for _ in range(3)]
        assert [s for s, _, _ in statuses] == [200, 200, 429]
        _, headers, body = statuses[2]
        assert body["error"]["code"] == "tenant_rate_limited"  # type: ignore[index]
        assert (headers["x-ratelimit-limit"], headers["x-ratelimit-remaining"]) == ("2", "0")
        assert int(headers["retry-after"]) in (1, 2)


def _shared_quota(backend: str, tmp_path: Path) -> None:
    env = {"TENANT_QUOTA_PER_MINUTE": "7", "TENANT_RATE_PER_SECOND": "100", "TENANT_BURST": "100"}
    args = ("--backend", backend, "--data-dir", str(tmp_path))
    with serve(*args, env=env) as a, serve(*args, env=env) as b:
        if time.time() % 60 > 50:                 # keep the 12 requests inside one quota minute
            time.sleep(61 - time.time() % 60)
        statuses = [get(u + "/api/models", {"X-Tenant-ID": "acme"})[0] for _ in range(6) for u in (a, b)]
    # both instances charge one quota: 7 admitted out of 12 in total, not 7 each
    assert statuses == [200] * 7 + [429] * 5


def test_two_instances_share_the_quota_through_sqlite(tmp_path: Path) -> None:
    _shared_quota("sqlite", tmp_path)


@pytest.mark.services
def test_two_instances_share_the_quota_through_redis(redis_namespace: tuple[str, str], tmp_path: Path) -> None:
    base, prefix = redis_namespace
    _shared_quota(f"{base}{'&' if '?' in base else '?'}prefix={prefix}", tmp_path)


def test_bad_settings_exit_2() -> None:
    for args, env in ((["--backend", "mongodb://x"], {}), ([], {"TENANT_QUOTA_PER_MINUTE": "lots"}),
                      ([], {"TENANT_BURST": "-1"})):
        proc = subprocess.run([sys.executable, "-m", "examples.with_tenant", "--port", "0", *args], cwd=REPO,
                              capture_output=True, text=True, timeout=60,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", **env})
        assert proc.returncode == 2 and proc.stderr.startswith("error:"), (args, env, proc.stderr)


def test_plumego_lint_service_mode() -> None:
    ok = subprocess.run([sys.executable, "-m", "plumego_lint", "check"], cwd=EXAMPLE, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PLG304" in ok.stdout            # beta API in use: reported as information

