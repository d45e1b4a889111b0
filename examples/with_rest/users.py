"""The users table and its repository, opened when the app starts (SQLite file, or PostgreSQL by URL).

Owns ``USERS`` (the table: the only names that reach SQL) and ``UsersRepository``, a lifecycle component that
opens the real repository on the server's event loop (a PostgreSQL pool belongs to one loop) and delegates to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plumego.x.rest import Column, Query, Record, Repository, RepositoryCapabilities, TableSpec, open_repository

USERS = TableSpec(
    "users",
    (
        Column("name", required=True, nullable=False, max_length=80),
        Column("email", required=True, nullable=False, max_length=254, unique=True),
        Column("age", "integer"),
        Column("admin", "boolean"),
    ),
    soft_delete=True,
    searchable=("name", "email"),
)


class UsersRepository:
    spec = USERS

    def __init__(self, url: str) -> None:
        self.url = url
        self._repo: Repository | None = None

    @property
    def capabilities(self) -> RepositoryCapabilities:
        return self._open().capabilities

    def _open(self) -> Repository:
        if self._repo is None:
            raise RuntimeError("the users repository is not open (the app has not started)")
        return self._repo

    async def start(self) -> None:
        self._repo = await open_repository(self.url, USERS)

    async def stop(self) -> None:
        if self._repo is not None:
            await self._repo.close()
            self._repo = None

    async def find_all(self, query: Query) -> list[Record]:
        return await self._open().find_all(query)

    async def count(self, query: Query) -> int:
        return await self._open().count(query)

    async def find_by_id(self, record_id: int) -> Record | None:
        return await self._open().find_by_id(record_id)

    async def exists(self, record_id: int) -> bool:
        return await self._open().exists(record_id)

    async def create(self, values: Mapping[str, Any]) -> Record:
        return await self._open().create(values)

    async def update(self, record_id: int, values: Mapping[str, Any]) -> Record | None:
        return await self._open().update(record_id, values)

    async def delete(self, record_id: int) -> bool:
        return await self._open().delete(record_id)

    async def close(self) -> None:
        await self.stop()
