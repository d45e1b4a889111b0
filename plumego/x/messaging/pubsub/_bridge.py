"""Bridges: carry a broker's messages to the brokers of other workers and machines through a real server.

Owns the transport-independent part: publish goes out through the server, and every bridged process (the sender
included) hands what arrives to its local :class:`InProcBroker`, which does the pattern matching. So topic, glob
and MQTT subscriptions mean exactly the same on every transport, and a subscriber sees one order, the server's.
The whole namespace travels on one server channel/subject/topic (``plumego.<namespace>``), which keeps each
publisher's messages in order; every process receives every message of its namespace and filters locally (use
separate namespaces to partition traffic). Delivery stays at most once, as on the transports' plain pub/sub.

A bridge is a lifecycle component (``start``/``stop``/``ready``): ``app.add_component("pubsub", bridge)``.
Imports the standard library and this package; each transport module imports its own client lazily.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from plumego.log import DiscardLogger, StructuredLogger

from ._broker import InProcBroker
from ._message import Message, new_message
from ._patterns import validate_topic

__all__ = ["Bridge", "open_bridge"]

_NAMESPACE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Bridge(abc.ABC):
    """Publish through a real server; receive into the local broker. Subclasses implement the transport."""

    def __init__(self, broker: InProcBroker, url: str, *, namespace: str = "default",
                 logger: StructuredLogger | None = None) -> None:
        if not _NAMESPACE.fullmatch(namespace):
            raise ValueError(f"namespace {namespace!r} must be 1-64 letters, digits, '_' or '-'")
        self.broker = broker
        self.url = url
        self.namespace = namespace
        self._log = logger or DiscardLogger()
        self._receiver: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self.received = 0
        self.rejected = 0
        self.reconnects = 0

    async def start(self) -> None:
        if self._receiver is not None:
            return
        await self._connect()
        self._receiver = asyncio.create_task(self._receive_forever(), name=f"pubsub-bridge-{self.namespace}")
        await asyncio.wait_for(self._subscribed.wait(), timeout=30)

    async def ready(self) -> None:
        if self._receiver is None or self._receiver.done():
            raise RuntimeError("the pub/sub bridge is not running")

    async def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._receiver
            self._receiver = None
        await self._disconnect()

    async def publish(self, topic: str, data: Any, *, type: str = "", meta: Mapping[str, str] | None = None) -> Message:
        """Publish to every bridged broker of the namespace (this process's included, when the server echoes it
        back)."""
        if self._receiver is None:
            raise RuntimeError("start the bridge before publishing through it")
        message = new_message(validate_topic(topic), data, type=type, meta=meta)
        await self._send(message.to_wire())
        return message

    async def _receive_forever(self) -> None:
        """Run the transport's receive loop; when the server goes away, reconnect with back-off (0.1 s doubling
        to 5 s) and subscribe again. What was published while the connection was down is not replayed (plain
        pub/sub is at most once; use a durable JetStream bridge for that)."""
        backoff = 0.1
        while True:
            try:
                await self._receive_loop()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.reconnects += 1
                self._log.warn("pubsub bridge lost its server; reconnecting", {"error": type(exc).__name__,
                                                                                  "namespace": self.namespace})
            while True:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                try:
                    with contextlib.suppress(Exception):
                        await self._disconnect()
                    await self._connect()
                    backoff = 0.1
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._log.warn("pubsub bridge reconnect failed", {"error": type(exc).__name__})

    async def _handle(self, raw: bytes) -> None:
        try:
            message = Message.from_wire(raw)
            validate_topic(message.topic)
        except (ValueError, KeyError, TypeError) as exc:     # someone else's traffic on our channel: never crash
            self.rejected += 1
            self._log.warn("pubsub bridge dropped a malformed message", {"error": type(exc).__name__})
            return
        self.received += 1
        await self.broker.deliver(message)

    @property
    def channel(self) -> str:
        return f"plumego.{self.namespace}"

    @abc.abstractmethod
    async def _connect(self) -> None: ...

    @abc.abstractmethod
    async def _receive_loop(self) -> None:
        """Subscribe, set ``self._subscribed``, then hand every payload to ``self._handle`` until cancelled."""

    @abc.abstractmethod
    async def _send(self, payload: bytes) -> None: ...

    @abc.abstractmethod
    async def _disconnect(self) -> None: ...


def open_bridge(broker: InProcBroker, url: str, *, logger: StructuredLogger | None = None) -> Bridge:
    """``redis://host:6379/0``, ``nats://host:4222`` or ``mqtt://host:1883``; ``?namespace=NAME`` partitions
    traffic (default ``default``); ``nats://...?durable=NAME`` is a JetStream durable subscription (what was
    published while the process was down is delivered when it comes back). The bridge still has to be started."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    namespace = params.get("namespace", "default")
    scheme = parts.scheme.lower()
    if scheme in ("redis", "rediss"):
        from ._bridge_redis import RedisBridge
        return RedisBridge(broker, url, namespace=namespace, logger=logger)
    if scheme in ("nats", "tls"):
        from ._bridge_nats import NATSBridge
        if "durable" in params:       # JetStream: a durable subscription that survives the process
            from ._bridge_jetstream import JetStreamBridge, jetstream_options
            return JetStreamBridge(broker, url, namespace=namespace, logger=logger, **jetstream_options(url))
        return NATSBridge(broker, url, namespace=namespace, logger=logger)
    if scheme in ("mqtt", "mqtts"):
        from ._bridge_mqtt import MQTTBridge
        return MQTTBridge(broker, url, namespace=namespace, logger=logger)
    raise ValueError(f"unsupported pub/sub bridge URL scheme {scheme!r}: use redis://, nats:// or mqtt://")
