"""Real-server fixtures: ``python -m reference_app --port 0`` in a subprocess, read back its bound address.

``spawn`` starts servers (any extra flags/env, or the test-only hold launcher) and kills whatever is
still running at teardown; ``assert_error`` checks the canonical error envelope of a response.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HOLD_LAUNCHER = Path(__file__).with_name("hold_server.py")
START_TIMEOUT = 30.0


@dataclass
class Server:
    proc: subprocess.Popen[str]
    base_url: str
    data_dir: Path
    log_path: Path
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    verify: Any = True  # httpx's verify: a CA bundle path for a TLS server with a self-signed certificate

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30.0, verify=self.verify, **kwargs)

    def wait_line(self, prefix: str, timeout: float = START_TIMEOUT) -> str:
        """The next stdout line starting with ``prefix`` (other lines are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no stdout line starting with {prefix!r}; log:\n{self.log()}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line.startswith(prefix):
                return line

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def terminate(self, timeout: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


def _pump(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def _start(tmp_path: Path, data_dir: Path, args: Sequence[str], env: Mapping[str, str], hold: bool) -> Server:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    environ.update(env)
    environ["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + environ.get("PYTHONPATH", "")
    log_path = tmp_path / f"server-{time.monotonic_ns()}.log"
    command = [sys.executable, str(HOLD_LAUNCHER)] if hold else [sys.executable, "-m", "reference_app"]
    command += ["--port", "0", "--data-dir", str(data_dir), *args]
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(command, cwd=tmp_path, env=environ, stdout=subprocess.PIPE, stderr=log, text=True)
    server = Server(proc, "", data_dir, log_path)
    threading.Thread(target=_pump, args=(proc.stdout, server.lines), daemon=True).start()
    return server


def _await_ready(server: Server) -> Server:
    server.base_url = server.wait_line("listening on ").removeprefix("listening on ").strip()
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if httpx.get(server.base_url + "/healthz", timeout=5.0, verify=server.verify).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"server did not come up (exit {server.proc.poll()}):\n{server.log()}")
        time.sleep(0.05)


Spawn = Callable[..., Server]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    started: list[Server] = []

    def start(
        data_dir: Path | None = None,
        *args: str,
        env: Mapping[str, str] | None = None,
        hold: bool = False,
        wait: bool = True,
        verify: Any = True,
    ) -> Server:
        server = _start(tmp_path, data_dir or tmp_path / "data", args, env or {}, hold)
        server.verify = verify
        started.append(server)
        return _await_ready(server) if wait else server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One shared server for the request-level tests: 4 KiB body limit, no write key, a burst no test reaches."""
    tmp = tmp_path_factory.mktemp("refapp")
    env = {"APP_MAX_BODY_BYTES": "4096", "APP_RATE_LIMIT_BURST": "100000"}
    srv = _await_ready(_start(tmp, tmp / "data", (), env, False))
    yield srv
    if srv.proc.poll() is None:
        assert srv.terminate() == 0, srv.log()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The canonical error envelope: JSON, ``error{code,message,category[,type][,details]}`` + request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "request_id"}, body
    assert body["request_id"] == response.headers["x-request-id"]
    error = body["error"]
    assert set(error) <= {"code", "message", "category", "type", "details"}
    assert error["code"] == code, error
    assert error["message"] and error["category"]
    assert "Traceback" not in response.text
    return dict(error)


ErrorCheck = Callable[[httpx.Response, int, str], dict[str, Any]]


@pytest.fixture(scope="session")
def envelope() -> ErrorCheck:
    """``envelope(response, status, code)`` asserts the canonical error envelope and returns ``error``."""
    return assert_error
