"""plumego.x.data.kv (experimental): the stable store's ``KVStore`` protocol on the engines that scale out.

:class:`RedisKVStore` joins the stable ``SQLiteKVStore`` behind one protocol and one conformance suite;
:func:`open_kv` picks one by URL (``sqlite:///path`` or ``redis://host:6379/0?prefix=NS``). Go ships a home-made
WAL engine (kvengine); we keep durability in real engines: SQLite's WAL with ``synchronous=FULL`` and Redis.
Imports the standard library and plumego.store; redis-py when a Redis store is opened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from plumego.store import KVStore, SQLiteKVStore

from ._redis import RedisKVStore

__all__ = ["RedisKVStore", "open_kv"]


async def open_kv(url: str, *, clock: Callable[[], float] = time.time) -> KVStore:
    """``sqlite:///relative.db``, ``sqlite:////abs.db`` or ``redis://host:6379/0?prefix=NS``."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not path:
            raise ValueError("a sqlite KV URL needs a file path: sqlite:///kv.db")
        return SQLiteKVStore(path, clock=clock)
    if parts.scheme in ("redis", "rediss"):
        return await RedisKVStore.open(url, clock=clock)
    raise ValueError(f"unsupported KV URL scheme {parts.scheme!r}: use sqlite:/// or redis://")
