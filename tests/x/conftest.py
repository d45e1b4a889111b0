"""Fixtures for the x/* families: one isolated namespace per test on each real engine.

A PostgreSQL test gets a fresh schema (dropped afterwards). The server comes from PLUMEGO_TEST_POSTGRES_URL
(default: the loopback server); when it is down the test skips with the reason, and fails under CI=true.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import require_service

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


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
