"""Backends of the x/tenant conformance suites: each test runs once per backend, against the real engine.

``state_url`` names a quota/rate-limit state store (memory, a SQLite file, a Redis key prefix); ``config_url`` a
config manager (memory, SQLite, a PostgreSQL schema). Time is a :class:`FakeClock`, so windows and refills are
tested without sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plumego.x.tenant import ConfigManager, TenantStateStore, open_config_manager, open_state_store


class FakeClock:
    def __init__(self, start: float = 1_700_000_080.0) -> None:      # 40 s into a minute (22:14:40 UTC)
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


STATE_BACKENDS = ["memory", "sqlite", pytest.param("redis", marks=pytest.mark.services)]
SHARED_BACKENDS = ["sqlite", pytest.param("redis", marks=pytest.mark.services)]
CONFIG_BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.services)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    backend = request.param
    if backend == "memory":
        return "memory"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    base, prefix = request.getfixturevalue("redis_namespace")
    return f"{base}{'&' if '?' in base else '?'}prefix={prefix}"


@pytest.fixture
async def state(state_url: str) -> AsyncIterator[TenantStateStore]:
    store = open_state_store(state_url)
    yield store
    await store.close()


@pytest.fixture
def config_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    backend = request.param
    if backend == "memory":
        return "memory"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'tenants.db'}"
    base, schema = request.getfixturevalue("pg_schema")
    return f"{base}{'&' if '?' in base else '?'}schema={schema}"


@pytest.fixture
async def configs(config_url: str) -> AsyncIterator[ConfigManager]:
    manager = await open_config_manager(config_url, cache_ttl=0)
    yield manager
    close = getattr(manager, "close", None)
    if close is not None:
        await close()
