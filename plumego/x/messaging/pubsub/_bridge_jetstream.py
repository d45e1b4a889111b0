"""The NATS JetStream transport of a bridge: a durable subscription, so a process that was down receives what was
published meanwhile.

``open_bridge(broker, "nats://host:4222?namespace=shop&durable=billing")``: messages are published to a stream
(``PLUMEGO_<namespace>``, created if missing, kept ``max_age`` seconds, default one day) and read through the
durable consumer named by ``durable``; each message is acknowledged after the local broker has taken it, so
delivery to a durable bridge is at least once (subscribers should be idempotent), where the other transports are
at most once. Every process with the same durable name shares that consumer's messages (a work group); give each
process its own name for fan-out. Install with ``pip install 'plumego[nats]'``. Imports the standard library,
nats and this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

try:
    import nats
    from nats.errors import TimeoutError as NATSTimeoutError
    from nats.js.api import RetentionPolicy, StreamConfig
    from nats.js.errors import NotFoundError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the NATS JetStream bridge needs nats-py: pip install 'plumego[nats]'") from exc

from ._bridge import Bridge

__all__ = ["JetStreamBridge"]

_DURABLE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class JetStreamBridge(Bridge):
    _nc: Any
    _js: Any

    def __init__(self, *args: Any, durable: str, max_age: float = 86400.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not _DURABLE.fullmatch(durable):
            raise ValueError(f"durable name {durable!r} must be 1-64 letters, digits, '_' or '-'")
        if max_age <= 0:
            raise ValueError("max_age must be > 0")
        self.durable = durable
        self.max_age = max_age
        self.stream = f"PLUMEGO_{self.namespace}".replace("-", "_")

    async def _connect(self) -> None:
        parts = urlsplit(self.url)
        self._nc = await nats.connect(urlunsplit((parts.scheme, parts.netloc, "", "", "")), connect_timeout=10,
                                      max_reconnect_attempts=-1)
        self._js = self._nc.jetstream()
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(StreamConfig(name=self.stream, subjects=[self.channel],
                                                   retention=RetentionPolicy.LIMITS, max_age=self.max_age))

    async def _receive_loop(self) -> None:
        sub = await self._js.pull_subscribe(self.channel, durable=self.durable, stream=self.stream)
        self._subscribed.set()
        while True:
            try:
                batch = await sub.fetch(64, timeout=1.0)
            except NATSTimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:      # the server went away: the client reconnects; wait and fetch again
                self._log.warn("pubsub jetstream fetch failed", {"error": type(exc).__name__})
                await asyncio.sleep(0.5)
                continue
            for msg in batch:
                await self._handle(bytes(msg.data))
                await msg.ack()

    async def _send(self, payload: bytes) -> None:
        await self._js.publish(self.channel, payload, stream=self.stream)    # returns once the stream stored it

    async def _disconnect(self) -> None:
        if hasattr(self, "_nc") and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._nc.drain()


def jetstream_options(url: str) -> dict[str, Any]:
    """The ``durable`` and ``max_age`` query parameters of a bridge URL ({} when there is no ``durable``)."""
    params = dict(parse_qsl(urlsplit(url).query))
    if "durable" not in params:
        return {}
    options: dict[str, Any] = {"durable": params["durable"]}
    if "max_age" in params:
        raw = params["max_age"]
        if not (raw.isascii() and raw.isdigit()):
            raise ValueError("max_age must be a whole number of seconds")
        options["max_age"] = float(raw)
    return options
