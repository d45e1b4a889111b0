"""The Redis pub/sub backplane (redis-py asyncio): one PUBLISH per broadcast, one SUBSCRIBE per hub.

Install with ``pip install 'plumego[redis]'``. Imports the standard library, redis and this package.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import redis.asyncio as aioredis
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the Redis websocket backplane needs redis-py: pip install 'plumego[redis]'") from exc

from ._backplane import NetworkBackplane

__all__ = ["RedisBackplane"]


class RedisBackplane(NetworkBackplane):
    name = "redis"
    _client: aioredis.Redis
    _pubsub: Any

    async def _connect(self) -> None:
        parts = urlsplit(self.url)
        rest = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "namespace"])
        self._client = aioredis.Redis.from_url(urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")),
                                               socket_connect_timeout=5, health_check_interval=15)
        await self._client.ping()
        self._pubsub = self._client.pubsub()

    async def _receive_loop(self) -> None:
        await self._pubsub.subscribe(self.channel)
        self._mark_subscribed()
        async for item in self._pubsub.listen():
            if item.get("type") == "message":
                await self._handle(bytes(item["data"]))
        raise ConnectionError("redis subscription ended")

    async def _send(self, payload: bytes) -> None:
        await self._client.publish(self.channel, payload)

    async def _disconnect(self) -> None:
        if hasattr(self, "_pubsub"):
            await self._pubsub.aclose()
        if hasattr(self, "_client"):
            await self._client.aclose()
