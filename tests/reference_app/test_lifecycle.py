"""Process lifecycle of ``python -m reference_app``: SIGTERM drains an in-flight request and exits 0,
restarts keep items, ``kill -9`` after acknowledged writes loses nothing, startup errors exit 1."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import httpx

Server = Any  # conftest.Server
Spawn = Any  # conftest's spawn fixture


def _connect_refused(base_url: str) -> bool:
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return False
    except OSError:
        return True


def test_sigterm_drains_the_in_flight_request_and_exits_0(spawn: Spawn, tmp_path: Path) -> None:
    srv = spawn(tmp_path / "data", hold=True)
    release = tmp_path / "release"
    result: dict[str, httpx.Response | BaseException] = {}

    def slow_request() -> None:
        try:
            with srv.client() as client:
                result["response"] = client.post("/api/v1/items", json={"name": "in-flight"},
                                                 headers={"X-Test-Hold": str(release)})
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            result["response"] = exc

    worker = threading.Thread(target=slow_request)
    worker.start()
    srv.wait_line("held /api/v1/items")  # the handler ran; its response is being held
    srv.proc.send_signal(15)
    for _ in range(200):  # the listener closes once shutdown has begun
        if _connect_refused(srv.base_url):
            break
        threading.Event().wait(0.05)
    assert _connect_refused(srv.base_url)
    assert srv.proc.poll() is None, "the process must wait for the in-flight request"
    release.touch()
    worker.join(timeout=30)
    response = result["response"]
    assert isinstance(response, httpx.Response), response
    assert response.status_code == 201 and response.json()["data"]["name"] == "in-flight"
    assert srv.proc.wait(timeout=30) == 0, srv.log()
    assert "server stopped" in srv.log()


def test_restart_with_the_same_data_dir_keeps_items(spawn: Spawn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = spawn(data)
    with first.client() as client:
        ids = [client.post("/api/v1/items", json={"name": f"keep-{i}"}).json()["data"]["id"] for i in range(3)]
        client.delete(f"/api/v1/items/{ids[0]}")
    assert first.terminate() == 0
    second = spawn(data)
    with second.client() as client:
        listing = client.get("/api/v1/items").json()
        assert [item["id"] for item in listing["data"]] == ids[1:]
        assert listing["meta"]["total"] == 2
    assert second.terminate() == 0


def test_kill_9_after_acknowledged_writes_loses_nothing(spawn: Spawn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = spawn(data)
    with first.client() as client:
        acknowledged = []
        for i in range(20):
            response = client.post("/api/v1/items", json={"name": f"durable-{i}"})
            assert response.status_code == 201
            acknowledged.append(response.json()["data"])
        patched = client.patch(f"/api/v1/items/{acknowledged[0]['id']}", json={"description": "patched"})
        assert patched.status_code == 200
    first.proc.kill()
    assert first.proc.wait(timeout=10) == -9
    second = spawn(data)
    with second.client() as client:
        stored = client.get("/api/v1/items", params={"limit": 100}).json()["data"]
        assert [item["id"] for item in stored] == [item["id"] for item in acknowledged]
        assert stored[0]["description"] == "patched"
        assert client.get("/readyz").status_code == 200
    assert second.terminate() == 0


def test_startup_errors_exit_1(spawn: Spawn, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    bad_dir = spawn(blocker / "data", wait=False)
    assert bad_dir.proc.wait(timeout=30) == 1
    assert "startup failed" in bad_dir.log()

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        busy = spawn(tmp_path / "data", "--port", str(port), wait=False)
        assert busy.proc.wait(timeout=30) == 1
        assert "startup failed" in busy.log()

    bad_env = spawn(tmp_path / "data", env={"APP_MAX_BODY_BYTES": "-5"}, wait=False)
    assert bad_env.proc.wait(timeout=30) == 1
    assert "APP_MAX_BODY_BYTES" in bad_env.log()
