"""Go-style serving configuration end to end: ``APP_ADDR=":port"`` on every interface, ``--addr``, and TLS from
``APP_TLS_*`` (served over HTTPS with a self-signed certificate, or refused at startup -- never ignored)."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import httpx
from selfsigned import make_cert

Spawn = Any  # conftest's spawn fixture


def _non_loopback_ipv4() -> str | None:
    """An address of this machine other than 127.0.0.1 (the UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only, no packet leaves
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_app_addr_colon_port_listens_on_every_interface(spawn: Spawn, tmp_path: Path) -> None:
    server = spawn(tmp_path / "data", env={"APP_ADDR": ":0"})
    assert server.base_url.startswith("http://0.0.0.0:")
    port = server.base_url.rsplit(":", 1)[1]
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    other = _non_loopback_ipv4()
    if other is not None:  # reachable on a non-loopback address too, as a container configured the Go way needs
        assert httpx.get(f"http://{other}:{port}/healthz").status_code == 200
    assert server.terminate() == 0


def test_addr_flag_is_accepted(spawn: Spawn, tmp_path: Path) -> None:
    server = spawn(tmp_path / "data", "--addr", "127.0.0.1:0")
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.terminate() == 0


def test_tls_from_environment_serves_https(spawn: Spawn, tmp_path: Path) -> None:
    files = make_cert(tmp_path / "tls")
    env = {"APP_TLS_ENABLED": "true", "APP_TLS_CERT_FILE": str(files.cert), "APP_TLS_KEY_FILE": str(files.key)}
    server = spawn(tmp_path / "data", env=env, verify=ssl.create_default_context(cafile=str(files.cert)))
    assert server.base_url.startswith("https://127.0.0.1:")
    with server.client() as client:
        response = client.get("/api/hello")
    assert response.status_code == 200 and response.url.scheme == "https"
    assert "tls=true" in server.log(), server.log()
    assert server.terminate() == 0


def test_half_configured_tls_exits_1_naming_the_setting(spawn: Spawn, tmp_path: Path) -> None:
    files = make_cert(tmp_path / "tls")
    server = spawn(tmp_path / "data", env={"APP_TLS_ENABLED": "true", "APP_TLS_CERT_FILE": str(files.cert)},
                   wait=False)
    assert server.proc.wait(timeout=30) == 1
    assert "APP_TLS_KEY_FILE" in server.log()
