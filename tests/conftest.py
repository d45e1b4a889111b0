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
from collections.abc import AsyncIterator, Iterator
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


# -- NATS JetStream namespaces (x/messaging mq backend, examples) ------------------------------------------------
@pytest.fixture
async def nats_namespace(nats_url: str) -> AsyncIterator[tuple[str, str]]:
    """(server URL, namespace): every stream whose name holds the namespace (the task queue's ``MQ_<ns>`` and its
    key-value bucket ``KV_MQ_<ns>``) is deleted afterwards."""
    nats = pytest.importorskip("nats", reason="nats-py is not installed (pip install 'plumego[nats]')")
    namespace = f"t{uuid.uuid4().hex[:12]}"
    yield nats_url, namespace
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            if namespace in info.config.name:
                await js.delete_stream(info.config.name)
    finally:
        await nc.close()
