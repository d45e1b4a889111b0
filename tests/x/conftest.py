"""Fixtures for the x/* families: one isolated namespace per test on each real engine.

A PostgreSQL test gets a fresh schema, a Redis test a fresh key prefix; both are removed afterwards. The servers
come from the engine URL fixtures of tests/conftest.py (PLUMEGO_TEST_<ENGINE>_URL, default the loopback server),
which skip with the reason when a server is down, and fail under CI=true.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest


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
