"""examples/with_messaging as a user runs it: the shared command-line contract (--port 0 prints the address,
SIGTERM exits 0, defaults < .env < environment < flags), publishing and reading back, bad input, two instances
bridged through Redis, and plumego-lint in service mode passing on it (and catching a planted violation)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from examples._shared.config import load_config

import pytest
from example_server import REPO, call
from example_server import serve as serve_example

EXAMPLE = REPO / "examples" / "with_messaging"


def serve(*args: str):  # type: ignore[no-untyped-def]
    return serve_example("examples.with_messaging", *args)


def test_config_precedence(tmp_path: Path) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text("APP_PORT=7001\nAPP_HOST=0.0.0.0\nexport APP_BACKEND='redis://a'\n")
    cfg = load_config("p", "d", port=8082, data_dir=".data/x", argv=["--env-file", str(env_file)], environ={})
    assert (cfg.host, cfg.port, cfg.backend) == ("0.0.0.0", 7001, "redis://a")          # .env beats defaults
    cfg = load_config("p", "d", port=8082, data_dir=".data/x", argv=["--env-file", str(env_file)],
                      environ={"APP_PORT": "7002"})
    assert cfg.port == 7002                                                              # environment beats .env
    cfg = load_config("p", "d", port=8082, data_dir=".data/x", argv=["--env-file", str(env_file), "--port", "7003"],
                      environ={"APP_PORT": "7002"})
    assert cfg.port == 7003                                                              # flags beat everything
    assert load_config("p", "d", port=8082, data_dir=".data/x", argv=[], environ={}).port == 8082
    for bad in (["--port", "99999"], ["--port", "８０"], ["--env-file", str(tmp_path / "missing")]):
        try:
            load_config("p", "d", port=8082, data_dir=".data/x", argv=bad, environ={})
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted")


def test_publish_and_read_back() -> None:
    with serve() as url:
        assert call(url + "/healthz") == (200, {"status": "ok"})
        status, body = call(url + "/events/publish", {"topic": "orders/eu/created", "payload": {"id": 7}})
        assert status == 202 and body["topic"] == "orders/eu/created"
        call(url + "/events/publish", {"topic": "users/created", "payload": "ada"})
        status, body = call(url + "/events/recent?pattern=orders/%23")
        assert status == 200 and [i["payload"] for i in body["items"]] == [{"id": 7}]
        status, body = call(url + "/events/publish", {"topic": "orders/+", "payload": 1})
        assert status == 400 and body["error"]["type"] == "validation_failure"
        assert call(url + "/events/publish", {"payload": 1})[0] == 400
        assert call(url + "/events/recent?pattern=a/%23/b")[0] == 400


@pytest.mark.services
def test_two_instances_share_events_through_redis(redis_url: str) -> None:
    backend = f"{redis_url}{'&' if '?' in redis_url else '?'}namespace=t{uuid.uuid4().hex[:10]}"
    with serve("--backend", backend) as a, serve("--backend", backend) as b:
        assert call(a + "/events/publish", {"topic": "orders/1", "payload": {"from": "a"}})[0] == 202
        for _ in range(300):
            items = call(b + "/events/recent?pattern=orders/%2B")[1]["items"]
            if items:
                break
            time.sleep(0.05)
        assert [i["payload"] for i in items] == [{"from": "a"}]


def test_plumego_lint_service_mode(tmp_path: Path) -> None:
    lint = [sys.executable, "-m", "plumego_lint", "check"]
    ok = subprocess.run(lint, cwd=EXAMPLE, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    copy = tmp_path / "with_messaging"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", ".plumego-lint-cache"))
    app = copy / "app.py"
    planted = "from .adapters.bus import EventBus\nfrom plumego.x.messaging import pubsub"
    app.write_text(app.read_text().replace("from .adapters.bus import EventBus", planted))
    bad = subprocess.run(lint, cwd=copy, capture_output=True, text=True)
    assert bad.returncode == 1 and "PLG301" in bad.stdout
