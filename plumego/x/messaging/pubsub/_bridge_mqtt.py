"""The MQTT transport of a bridge (aiomqtt, e.g. through Mosquitto): QoS 1 publish and one subscription per
namespace topic (``plumego/<namespace>``).

Install with ``pip install 'plumego[mqtt]'``. Imports the standard library, aiomqtt and this package.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

try:
    import aiomqtt
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the MQTT pub/sub bridge needs aiomqtt: pip install 'plumego[mqtt]'") from exc

from ._bridge import Bridge

__all__ = ["MQTTBridge"]


class MQTTBridge(Bridge):
    _client: Any

    @property
    def channel(self) -> str:
        return f"plumego/{self.namespace}"

    async def _connect(self) -> None:
        parts = urlsplit(self.url)
        self._client = aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883,
                                      username=unquote(parts.username) if parts.username else None,
                                      password=unquote(parts.password) if parts.password else None,
                                      identifier=f"plumego-{uuid.uuid4().hex[:12]}")
        await self._client.__aenter__()

    async def _receive_loop(self) -> None:
        await self._client.subscribe(self.channel, qos=1)
        self._subscribed.set()
        async for message in self._client.messages:
            payload = message.payload
            await self._handle(payload if isinstance(payload, bytes) else str(payload).encode())

    async def _send(self, payload: bytes) -> None:
        await self._client.publish(self.channel, payload, qos=1)

    async def _disconnect(self) -> None:
        if hasattr(self, "_client"):
            await self._client.__aexit__(None, None, None)
