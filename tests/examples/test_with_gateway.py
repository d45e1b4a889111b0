"""examples/with_gateway as a user runs it: ANY /proxy/*path forwarded to a real backend on loopback, health and
readiness, a backend that is down (502 and not ready), a bad --backend (exit 2), and plumego-lint service mode."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from example_server import REPO, call
from example_server import serve as serve_example

EXAMPLE = REPO / "examples" / "with_gateway"


class _Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        data = json.dumps({"method": self.command, "path": self.path, "body": body.decode(),
                           "forwarded_for": self.headers.get("X-Forwarded-For")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def backend() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_proxy_health_and_readiness(backend: str) -> None:
    with serve_example("examples.with_gateway", "--backend", backend) as url:
        assert call(url + "/healthz") == (200, {"status": "ok"})
        assert call(url + "/readyz") == (200, {"status": "ready", "backend": backend})
        status, body = call(url + "/proxy/orders/7?x=1")
        assert status == 200 and body["path"] == "/orders/7?x=1" and body["forwarded_for"] == "127.0.0.1"
        status, body = call(url + "/proxy/orders", {"id": 7})
        assert status == 200 and body["method"] == "POST" and json.loads(body["body"]) == {"id": 7}
        assert call(url + "/proxy")[1]["path"] == "/"


def test_backend_down() -> None:
    with serve_example("examples.with_gateway", "--backend", "http://127.0.0.1:9") as url:
        status, body = call(url + "/readyz")
        assert status == 503 and body["error"]["code"] == "SERVICE_UNAVAILABLE"
        status, body = call(url + "/proxy/x")
        assert status == 502 and body["error"]["code"] == "BAD_GATEWAY"
        assert call(url + "/healthz")[0] == 200


def test_bad_backend_exits_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "examples.with_gateway", "--port", "0", "--backend", "ftp://x"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--backend" in proc.stderr


def test_plumego_lint_service_mode(tmp_path: Path) -> None:
    lint = [sys.executable, "-m", "plumego_lint", "check"]
    ok = subprocess.run(lint, cwd=EXAMPLE, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    copy = tmp_path / "with_gateway"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", ".plumego-lint-cache"))
    app = copy / "app.py"
    planted = "from .adapters.proxy import Upstream\nfrom plumego.x.gateway import discovery"
    app.write_text(app.read_text().replace("from .adapters.proxy import Upstream", planted))
    bad = subprocess.run(lint, cwd=copy, capture_output=True, text=True)
    assert bad.returncode == 1 and "PLG301" in bad.stdout, bad.stdout
