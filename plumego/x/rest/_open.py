"""open_repository(): a Repository chosen by URL (``sqlite:///path`` by default, ``postgresql://...?schema=S``).

Imports the standard library; the PostgreSQL module (and psycopg) only when such a URL is opened.
"""

from __future__ import annotations

from collections.abc import Callable

from ._repository import Repository, TableSpec
from ._sql import utc_now
from ._sqlite import SQLiteRepository

__all__ = ["open_repository"]


async def open_repository(url: str, spec: TableSpec, *, clock: Callable[[], str] = utc_now) -> Repository:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db``, ``sqlite://:memory:``, or ``postgresql://`` /
    ``postgres://`` (``?schema=`` picks the schema, default ``public``)."""
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ValueError("sqlite URL needs a path: sqlite:///data.db")
        return SQLiteRepository(path, spec, clock=clock)
    if url.startswith(("postgresql://", "postgres://")):
        from ._postgres import PostgresRepository  # here, so SQLite users never need psycopg

        return await PostgresRepository.open(url, spec, clock=clock)
    raise ValueError(f"unsupported repository URL {url.split('://', 1)[0]!r}: use sqlite:/// or postgresql://")
