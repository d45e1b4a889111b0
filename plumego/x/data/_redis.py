"""Opening a redis-py asyncio client from a backend URL, shared by x/data's Redis backends.

Owns the URL convention every x/data Redis backend follows: ``redis://host:6379/0?prefix=NS`` (the ``prefix``
query parameter is ours and is removed before redis-py sees the URL; default ``plumego``), and the connect check
(a PING, so a wrong address fails at open, not at the first request). Imports redis-py lazily; must not import
any other plumego family.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


async def connect_redis(url: str, *, what: str, default_prefix: str = "plumego") -> tuple[Any, str]:
    """Return ``(client, prefix)`` for ``url``; ``what`` names the backend in the missing-extra error."""
    try:
        import redis.asyncio as aioredis
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(f"{what} needs redis-py: pip install 'plumego[data]'") from exc
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in params if k == "prefix"), default_prefix)
    plain = urlunsplit((parts.scheme, parts.netloc, parts.path,
                        urlencode([(k, v) for k, v in params if k != "prefix"]), parts.fragment))
    client = aioredis.Redis.from_url(plain, decode_responses=False)
    try:
        await client.ping()
    except BaseException:
        await client.aclose()
        raise
    return client, prefix
