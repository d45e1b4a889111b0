"""Event publishing for app, behind EventQueue; the one module that imports plumego.x.messaging.mq."""

from __future__ import annotations

from typing import Protocol

from plumego.x.messaging import mq


class EventQueue(Protocol):
    async def publish(self, topic: str, payload: object) -> None: ...


class PlumegoQueue:
    """EventQueue on plumego's experimental message queue."""

    async def publish(self, topic: str, payload: object) -> None:
        await mq.publish(topic, payload)
