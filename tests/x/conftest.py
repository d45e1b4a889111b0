"""Fixtures for the x/* families: one isolated namespace per test on each real engine.

A PostgreSQL test gets a fresh schema, a Redis test a fresh key prefix; both are removed afterwards. The servers
come from PLUMEGO_TEST_<ENGINE>_URL (default: the loopback server); when one is down its tests skip with the
reason, and fail under CI=true.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import require_service

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_DEFAULT = "redis://127.0.0.1:6379/0"


def pg_base_url() -> str:
    url = os.environ.get("PLUMEGO_TEST_POSTGRES_URL") or PG_DEFAULT
    require_service("postgres")
    return url


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """(base URL, schema name): a schema that exists only for this test."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'plumego[postgres]')")
    base = pg_base_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield base, schema
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def redis_namespace() -> Iterator[tuple[str, str]]:
    """(base URL, key prefix): every key the test writes starts with ``{prefix}``; they are deleted afterwards."""
    redis = pytest.importorskip("redis", reason="redis-py is not installed (pip install 'plumego[redis]')")
    base = os.environ.get("PLUMEGO_TEST_REDIS_URL") or REDIS_DEFAULT
    require_service("redis")
    prefix = f"t{uuid.uuid4().hex[:12]}"
    yield base, prefix
    client = redis.Redis.from_url(base)
    try:
        keys = list(client.scan_iter(match="{" + prefix + "}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
