"""Choose an idempotency backend by URL: ``sqlite:///path`` (the stable store's SQLite implementation),
``postgresql://...?schema=S&table=T``, ``mysql://user:pass@host:3306/db?table=T`` (MySQL or MariaDB) and
``redis://host:6379/0?prefix=NS``. Owns URL dispatch only; drivers are imported when their URL is used. Imports
the standard library, plumego.store and this package.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from plumego.store import IdempotencyStore, SQLiteIdempotencyStore

__all__ = ["open_idempotency"]


async def open_idempotency(url: str, *, clock: Callable[[], float] = time.time) -> IdempotencyStore:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "sqlite":
        path = urlsplit(url).path
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ValueError("a sqlite idempotency URL needs a file path: sqlite:///idempotency.db")
        return SQLiteIdempotencyStore(path, clock=clock)
    if scheme in ("postgresql", "postgres"):
        from ._sql import PostgresIdempotencyStore

        return await PostgresIdempotencyStore.open(url, clock=clock)
    if scheme in ("mysql", "mariadb"):
        from ._sql import MySQLIdempotencyStore

        return await MySQLIdempotencyStore.open(url, clock=clock)
    if scheme in ("redis", "rediss"):
        from ._redis import RedisIdempotencyStore

        return await RedisIdempotencyStore.open(url, clock=clock)
    raise ValueError(f"unsupported idempotency URL scheme {scheme!r}: use sqlite:///, postgresql://, mysql:// "
                     "or redis://")
