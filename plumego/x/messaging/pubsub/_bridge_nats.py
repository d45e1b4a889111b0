"""The NATS core transport of a bridge (nats-py): publish and one subscription per namespace subject.

Install with ``pip install 'plumego[nats]'``. Imports the standard library, nats and this package.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit

try:
    import nats
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the NATS pub/sub bridge needs nats-py: pip install 'plumego[nats]'") from exc

from ._bridge import Bridge

__all__ = ["NATSBridge"]


class NATSBridge(Bridge):
    _nc: Any

    async def _connect(self) -> None:
        parts = urlsplit(self.url)
        self._nc = await nats.connect(urlunsplit((parts.scheme, parts.netloc, "", "", "")), connect_timeout=10,
                                      max_reconnect_attempts=-1)

    async def _receive_loop(self) -> None:
        inbox: asyncio.Queue[bytes] = asyncio.Queue()

        async def on_message(msg: Any) -> None:
            await inbox.put(bytes(msg.data))

        sub = await self._nc.subscribe(self.channel, cb=on_message)
        await self._nc.flush()                   # the server has the subscription before start() returns
        self._subscribed.set()
        try:
            while True:
                await self._handle(await inbox.get())
        finally:
            await sub.unsubscribe()

    async def _send(self, payload: bytes) -> None:
        await self._nc.publish(self.channel, payload)

    async def _disconnect(self) -> None:
        if hasattr(self, "_nc") and not self._nc.is_closed:
            await self._nc.drain()
