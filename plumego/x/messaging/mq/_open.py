"""Choose a task queue backend by URL, so an app moves from one machine to many by configuration.

``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` -> :class:`SQLiteTaskQueue` (the default);
``postgresql://user@host:5432/db?schema=S&table=T`` -> :class:`PostgresTaskQueue`;
``redis://host:6379/0?prefix=NS`` -> :class:`RedisTaskQueue`;
``nats://host:4222?namespace=NS&lease=30`` -> :class:`NATSTaskQueue` (JetStream).
Owns URL parsing only; a backend's client library is imported when its URL is used. Imports the standard library
and this package.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from ._queue import TaskQueue

__all__ = ["open_queue"]


async def open_queue(url: str, *, clock: Callable[[], float] = time.time) -> TaskQueue:
    """Open the queue a URL names. Unknown schemes raise ValueError naming the supported ones."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "sqlite":
        from ._sqlite import SQLiteTaskQueue

        parts = urlsplit(url)
        path = parts.path[1:] if parts.path.startswith("/") else parts.path   # sqlite:///a.db -> a.db
        if not path:
            raise ValueError("a sqlite queue URL needs a file path: sqlite:///queue.db")
        table = parse_qs(parts.query).get("table", ["mq_tasks"])[-1]
        return SQLiteTaskQueue(path, table=table, clock=clock)
    if scheme in ("postgresql", "postgres"):
        from ._postgres import PostgresTaskQueue

        return await PostgresTaskQueue.open(url, clock=clock)
    if scheme in ("redis", "rediss"):
        from ._redis import RedisTaskQueue

        return await RedisTaskQueue.open(url, clock=clock)
    if scheme in ("nats", "tls"):
        from ._nats import NATSTaskQueue

        return await NATSTaskQueue.open(url, clock=clock)
    raise ValueError(f"unsupported task queue URL scheme {scheme!r}:"
                     " use sqlite:///, postgresql://, redis:// or nats://")
