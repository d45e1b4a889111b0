"""The engines of the idempotency tests: SQLite (the stable store's), PostgreSQL, MariaDB and Redis (the last three
marked ``services``), each in its own schema, database or key prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.services),
           pytest.param("mariadb", marks=pytest.mark.services), pytest.param("redis", marks=pytest.mark.services)]


@pytest.fixture(params=ENGINES)
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'idem.db'}"
    if request.param == "postgres":
        base, schema = request.getfixturevalue("pg_schema")
        return f"{base}{'&' if '?' in base else '?'}schema={schema}"
    if request.param == "mariadb":
        return str(request.getfixturevalue("mariadb_database"))
    base, prefix = request.getfixturevalue("redis_namespace")
    return f"{base}{'&' if '?' in base else '?'}prefix={prefix}"
