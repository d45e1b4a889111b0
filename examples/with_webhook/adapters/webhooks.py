"""Inbound webhooks on plumego.x.messaging (experimental, so only here), behind the app's own protocol.

Owns ``Receivers`` (what the app needs: mount the receiver routes, list recent events, start and stop) and its
implementation on the webhook receivers, an in-process broker and, with a Redis URL, a shared nonce store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any, Protocol

from plumego.x.messaging.pubsub import InProcBroker
from plumego.x.messaging.webhook import MemoryNonceStore, NonceStore, RedisNonceStore, register_inbound_routes


class Routes(Protocol):
    def get(self, path: str, handler: Any, **options: Any) -> Any: ...
    def post(self, path: str, handler: Any, **options: Any) -> Any: ...
    def patch(self, path: str, handler: Any, **options: Any) -> Any: ...


class Receivers(Protocol):
    def mount(self, routes: Routes) -> None: ...
    def recent(self) -> list[dict[str, Any]]: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class PlumegoReceivers:
    def __init__(self, *, github_secret: str | None, stripe_secret: str | None, redis_url: str = "") -> None:
        if not (github_secret or stripe_secret):
            raise ValueError("set GITHUB_WEBHOOK_SECRET and/or STRIPE_WEBHOOK_SECRET")
        self._github, self._stripe = github_secret, stripe_secret
        self._broker = InProcBroker()
        self._nonces: NonceStore = RedisNonceStore.from_url(redis_url) if redis_url else MemoryNonceStore()
        self._seen: deque[dict[str, Any]] = deque(maxlen=100)
        self._task: asyncio.Task[None] | None = None

    def mount(self, routes: Routes) -> None:
        register_inbound_routes(routes, self._broker, github_secret=self._github, stripe_secret=self._stripe,
                                nonce_store=self._nonces)

    def recent(self) -> list[dict[str, Any]]:
        return list(self._seen)

    async def start(self) -> None:
        sub = self._broker.subscribe_mqtt("#", buffer=1000)

        async def record() -> None:
            async for message in sub:
                self._seen.append({"topic": message.topic, "meta": dict(message.meta)})

        self._task = asyncio.create_task(record())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._broker.close()
