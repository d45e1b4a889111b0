"""The service fixtures: each engine on loopback answers its own protocol's first exchange, and a service that
is down makes its tests skip with the reason (or fail under CI=true), as the README promises.

The handshakes use raw sockets so they need none of the optional client libraries.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.services

REPO_ROOT = Path(__file__).resolve().parents[2]


def _open(url: str) -> socket.socket:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    return socket.create_connection((parts.hostname, parts.port), timeout=5.0)


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def test_redis_answers_ping(redis_url: str) -> None:
    with _open(redis_url) as sock:
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert _read(sock, 7) == b"+PONG\r\n"


def test_nats_greets_with_info(nats_url: str) -> None:
    with _open(nats_url) as sock:
        assert _read(sock, 5) == b"INFO "


def test_postgres_answers_the_ssl_request(postgres_url: str) -> None:
    with _open(postgres_url) as sock:
        sock.sendall(struct.pack("!II", 8, 80877103))  # SSLRequest: the server answers one byte, S or N
        assert _read(sock, 1) in (b"S", b"N")


def test_rabbitmq_starts_an_amqp_connection(rabbitmq_url: str) -> None:
    with _open(rabbitmq_url) as sock:
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        frame = _read(sock, 11)  # method frame: type 1, channel 0, size, class 10 (connection), method 10 (start)
        assert frame[0] == 1 and frame[7:11] == struct.pack("!HH", 10, 10)


def test_mosquitto_acknowledges_an_mqtt_connect(mosquitto_url: str) -> None:
    client_id = b"plumego-test"
    variable = b"\x00\x04MQTT\x04\x02\x00\x0a"  # protocol MQTT 3.1.1, clean session, keep-alive 10 s
    payload = struct.pack("!H", len(client_id)) + client_id
    with _open(mosquitto_url) as sock:
        sock.sendall(bytes([0x10, len(variable) + len(payload)]) + variable + payload)
        assert _read(sock, 4) == b"\x20\x02\x00\x00"  # CONNACK, accepted


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_redis_test(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(extra_env)
    env["PLUMEGO_TEST_REDIS_URL"] = f"redis://127.0.0.1:{_closed_port()}/0"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
         f"{Path(__file__).relative_to(REPO_ROOT)}::test_redis_answers_ping"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_a_service_that_is_down_skips_with_the_reason() -> None:
    done = _run_redis_test({})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout and "redis is not reachable on 127.0.0.1:" in done.stdout


def test_a_service_that_is_down_fails_under_ci() -> None:
    done = _run_redis_test({"CI": "true"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 error" in done.stdout and "CI=true and redis is not reachable" in done.stdout  # fails in setup
