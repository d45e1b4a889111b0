"""The NATS core backplane (nats-py): one publish per broadcast, one subscription per hub on
``plumego.ws.<namespace>``. nats-py reconnects and resubscribes on its own; the hub's reconnect loop covers a
connection that gave up.

Install with ``pip install 'plumego[nats]'``. Imports the standard library, nats and this package.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit

try:
    import nats
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the NATS websocket backplane needs nats-py: pip install 'plumego[nats]'") from exc

from ._backplane import NetworkBackplane

__all__ = ["NATSBackplane"]


class NATSBackplane(NetworkBackplane):
    name = "nats"
    _nc: Any

    async def _connect(self) -> None:
        parts = urlsplit(self.url)
        self._closed = asyncio.Event()

        async def disconnected() -> None:
            self._up = False
            self._log.warn("websocket backplane lost its server; nats-py reconnects",
                           {"backplane": self.name, "namespace": self.namespace})

        async def reconnected() -> None:
            self.reconnects += 1
            self._up = True

        async def closed() -> None:
            self._closed.set()

        async def error(exc: Exception) -> None:
            self._log.warn("websocket backplane NATS error", {"error": type(exc).__name__})

        self._nc = await nats.connect(urlunsplit((parts.scheme, parts.netloc, "", "", "")), connect_timeout=5,
                                      max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                                      disconnected_cb=disconnected, reconnected_cb=reconnected, closed_cb=closed,
                                      error_cb=error)

    async def _receive_loop(self) -> None:
        inbox: asyncio.Queue[bytes] = asyncio.Queue()

        async def on_message(msg: Any) -> None:
            await inbox.put(bytes(msg.data))

        sub = await self._nc.subscribe(self.channel, cb=on_message)
        await self._nc.flush()                   # the server has the subscription before start() returns
        self._mark_subscribed()
        closed = asyncio.ensure_future(self._closed.wait())
        getter: asyncio.Future[bytes] | None = None
        try:
            while True:
                getter = asyncio.ensure_future(inbox.get())
                done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    raise ConnectionError("NATS connection closed")
                await self._handle(getter.result())
        finally:
            closed.cancel()
            if getter is not None:
                getter.cancel()
            if not self._nc.is_closed:
                try:
                    await sub.unsubscribe()
                except Exception:  # noqa: BLE001 - unsubscribing from a dead connection
                    pass

    async def _send(self, payload: bytes) -> None:
        if not self._nc.is_connected:
            raise ConnectionError("NATS is not connected")
        await self._nc.publish(self.channel, payload)

    async def _disconnect(self) -> None:
        if hasattr(self, "_nc") and not self._nc.is_closed:
            await self._nc.close()
