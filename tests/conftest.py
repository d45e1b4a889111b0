"""Shared pytest fixtures: the repository root and real-service availability.

Tests that need PostgreSQL, Redis, NATS, RabbitMQ or Mosquitto take the engine's URL fixture
(``postgres_url``, ``redis_url``, ``nats_url``, ``rabbitmq_url``, ``mosquitto_url``) or call
``require_service``. The URL comes from ``PLUMEGO_TEST_<ENGINE>_URL`` (default: the loopback server);
when nothing answers on its host and port the test skips with the reason, except under CI=true, where a
missing service fails the test (CI machines start them before the run).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

SERVICES = {
    "postgres": ("127.0.0.1", 5432),
    "redis": ("127.0.0.1", 6379),
    "nats": ("127.0.0.1", 4222),
    "rabbitmq": ("127.0.0.1", 5672),
    "mosquitto": ("127.0.0.1", 1883),
}
DEFAULT_URLS = {
    "postgres": "postgresql://postgres@127.0.0.1:5432/postgres",
    "redis": "redis://127.0.0.1:6379/0",
    "nats": "nats://127.0.0.1:4222",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/",
    "mosquitto": "mqtt://127.0.0.1:1883",
}


def service_url(name: str) -> str:
    """``PLUMEGO_TEST_<NAME>_URL`` or the loopback default for engine ``name``."""
    return os.environ.get(f"PLUMEGO_TEST_{name.upper()}_URL") or DEFAULT_URLS[name]


def require_service(name: str) -> tuple[str, int]:
    """Return (host, port) of a running service, or skip (fail under CI=true) when it is down."""
    parts = urlsplit(service_url(name))
    host, port = parts.hostname or SERVICES[name][0], parts.port or SERVICES[name][1]
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return host, port
    except OSError as exc:
        reason = f"{name} is not reachable on {host}:{port} ({exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)


def _url_fixture(name: str) -> Iterator[str]:
    require_service(name)
    yield service_url(name)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _url_fixture("postgres")


@pytest.fixture
def redis_url() -> Iterator[str]:
    yield from _url_fixture("redis")


@pytest.fixture
def nats_url() -> Iterator[str]:
    yield from _url_fixture("nats")


@pytest.fixture
def rabbitmq_url() -> Iterator[str]:
    yield from _url_fixture("rabbitmq")


@pytest.fixture
def mosquitto_url() -> Iterator[str]:
    yield from _url_fixture("mosquitto")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


# One isolated namespace per test on each engine (removed afterwards), for the families and the examples.
@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[tuple[str, str]]:
    """(base URL, schema name): a schema that exists only for this test."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'plumego[postgres]')")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield postgres_url, schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def redis_namespace(redis_url: str) -> Iterator[tuple[str, str]]:
    """(base URL, key prefix): every key the test writes starts with ``{prefix}``; they are deleted afterwards."""
    redis = pytest.importorskip("redis", reason="redis-py is not installed (pip install 'plumego[redis]')")
    prefix = f"t{uuid.uuid4().hex[:12]}"
    yield redis_url, prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match="{" + prefix + "}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- etcd (x/gateway discovery) -------------------------------------------------------------------------------
# etcd is not one of the services this machine starts: use PLUMEGO_TEST_ETCD_URL when set, else run the `etcd`
# binary from Debian's etcd-server package on free loopback ports for the session, else skip with the reason
# (also under CI=true: CI does not install etcd).
@pytest.fixture(scope="session")
def etcd_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import shutil
    import subprocess
    import time
    import urllib.request

    given = os.environ.get("PLUMEGO_TEST_ETCD_URL")
    if given:
        yield given
        return
    binary = shutil.which("etcd")
    if binary is None:
        pytest.skip("etcd is not installed (apt-get install etcd-server) and PLUMEGO_TEST_ETCD_URL is not set")
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    client, peer = (f"http://127.0.0.1:{p}" for p in ports)
    data = tmp_path_factory.mktemp("etcd")
    proc = subprocess.Popen(
        [binary, "--name", "plumego-test", "--data-dir", str(data), "--listen-client-urls", client,
         "--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
         "--initial-cluster", f"plumego-test={peer}", "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(client + "/health", timeout=1) as response:
                    if b'"true"' in response.read():
                        break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.skip("etcd did not become healthy within 10 s")
        yield client
    finally:
        proc.terminate()
        proc.wait(10)
