"""Backends of the x/rest repository conformance suite: SQLite (a file) and PostgreSQL (a schema per test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plumego.x.rest import Column, Repository, TableSpec, open_repository

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.services)]

PEOPLE = TableSpec(
    "people",
    (Column("name", required=True, nullable=False, max_length=80), Column("email", unique=True),
     Column("age", "integer"), Column("score", "real"), Column("active", "boolean")),
    soft_delete=True,
    searchable=("name", "email"),
)


class Ticks:
    """A clock that moves one second per call, so timestamps are distinct and ordered without sleeping."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"2026-01-01T00:00:{self.n:02d}.000000Z" if self.n < 60 else f"2026-01-01T00:{self.n // 60:02d}:" \
            f"{self.n % 60:02d}.000000Z"


@pytest.fixture
def repository_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rest.db'}"
    base, schema = request.getfixturevalue("pg_schema")
    return f"{base}{'&' if '?' in base else '?'}schema={schema}"


@pytest.fixture
async def repo(repository_url: str) -> AsyncIterator[Repository]:
    repository = await open_repository(repository_url, PEOPLE, clock=Ticks())
    try:
        yield repository
    finally:
        await repository.close()
