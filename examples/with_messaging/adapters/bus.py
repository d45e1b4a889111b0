"""The app's event bus, and its implementation on plumego.x.messaging.pubsub (experimental, so it stays here).

Owns ``EventBus`` (what the handlers need) and ``PubSubBus`` (an in-process broker, bridged to a real server when
a backend URL is given, plus a recorder of recent messages). Imports plumego's pub/sub only in this module.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any, Protocol

from plumego.x.messaging.pubsub import Bridge, InProcBroker, Message, compile_mqtt, open_bridge


class EventBus(Protocol):
    async def publish(self, topic: str, payload: Any) -> str: ...
    def recent(self, pattern: str, limit: int) -> list[dict[str, Any]]: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class PubSubBus:
    def __init__(self, backend: str = "", history: int = 200) -> None:
        self._broker = InProcBroker()
        self._bridge: Bridge | None = open_bridge(self._broker, backend) if backend else None
        self._seen: deque[Message] = deque(maxlen=history)
        self._recorder: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sub = self._broker.subscribe_mqtt("#", buffer=1000)

        async def record() -> None:
            async for message in sub:
                self._seen.append(message)

        self._recorder = asyncio.create_task(record())
        if self._bridge is not None:
            await self._bridge.start()

    async def stop(self) -> None:
        if self._bridge is not None:
            await self._bridge.stop()
        if self._recorder is not None:
            self._recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recorder
        await self._broker.close()

    async def publish(self, topic: str, payload: Any) -> str:
        """Raises ValueError for a topic with wildcards or control characters."""
        if self._bridge is not None:
            return (await self._bridge.publish(topic, payload)).id
        return (await self._broker.publish(topic, payload)).id

    def recent(self, pattern: str, limit: int) -> list[dict[str, Any]]:
        """Raises ValueError for a malformed MQTT filter."""
        match = compile_mqtt(pattern)
        hits = [m for m in self._seen if match(m.topic)][-limit:]
        return [{"id": m.id, "topic": m.topic, "payload": m.data, "time": m.time} for m in hits]
