"""Backplanes: carry room broadcasts between hubs in other workers and on other machines.

A broadcast is delivered to the local hub's members at once and published once to the backplane; every other hub
on the same namespace receives it and delivers to its own members (a hub ignores its own messages, so nobody gets
a message twice). ``open_backplane("redis://...")`` uses Redis pub/sub, ``"nats://..."`` NATS core subjects,
``"memory://"`` a bus shared by the hubs of one process (the per-process default: it does not cross workers).
Delivery is at most once, as on the servers' plain pub/sub: what is published while a hub's backplane is
disconnected does not reach that hub. A lost server never crashes the hub: the backplane logs, reconnects with
back-off (0.1 s doubling to 5 s) and subscribes again, while local delivery goes on.

Imports the standard library and plumego.log; redis-py and nats-py are imported by their modules, lazily.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlsplit

from plumego.log import DiscardLogger, StructuredLogger

__all__ = [
    "Backplane",
    "BackplaneMessage",
    "BackplaneUnavailable",
    "MemoryBackplane",
    "MemoryBus",
    "open_backplane",
]

_MAGIC: Final = b"PWS1\n"
_NAMESPACE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class BackplaneUnavailable(RuntimeError):
    """Publishing failed: the backplane's server is unreachable (local delivery still happened)."""


@dataclass(frozen=True, slots=True)
class BackplaneMessage:
    """A broadcast on the wire: the publishing hub, the room (None: every room) and the payload."""

    origin: str
    room: str | None
    data: str | bytes

    def encode(self) -> bytes:
        binary = isinstance(self.data, bytes)
        head = json.dumps({"o": self.origin, "r": self.room, "b": binary}, separators=(",", ":")).encode()
        body = self.data if isinstance(self.data, bytes) else self.data.encode("utf-8")
        return _MAGIC + head + b"\n" + body

    @classmethod
    def decode(cls, raw: bytes) -> BackplaneMessage:
        """Raises ValueError for anything that is not one of ours (other traffic on the channel)."""
        if not raw.startswith(_MAGIC):
            raise ValueError("not a plumego websocket backplane message")
        head, sep, body = raw[len(_MAGIC):].partition(b"\n")
        if not sep:
            raise ValueError("truncated backplane message")
        meta = json.loads(head)
        if not isinstance(meta, dict) or not isinstance(meta.get("o"), str):
            raise ValueError("malformed backplane header")
        room = meta.get("r")
        if room is not None and not isinstance(room, str):
            raise ValueError("malformed backplane room")
        data: str | bytes = bytes(body) if meta.get("b") else body.decode("utf-8")
        return cls(meta["o"], room, data)


Deliver = Callable[[BackplaneMessage], Awaitable[None]]


@runtime_checkable
class Backplane(Protocol):
    """What a hub needs from a backplane. ``start`` subscribes and returns once subscribed; ``publish`` raises
    :class:`BackplaneUnavailable` while the server is unreachable; ``stop`` unsubscribes and disconnects."""

    name: str
    reconnects: int
    rejected: int

    async def start(self, deliver: Deliver) -> None: ...

    async def publish(self, message: BackplaneMessage) -> None: ...

    async def stop(self) -> None: ...

    def connected(self) -> bool: ...


class MemoryBus:
    """The in-process "server" of :class:`MemoryBackplane`s: several hubs in one process (tests, one worker)."""

    def __init__(self) -> None:
        self.subscribers: dict[str, list[Callable[[bytes], Awaitable[None]]]] = {}

    async def publish(self, namespace: str, raw: bytes) -> None:
        for handle in list(self.subscribers.get(namespace, ())):
            await handle(raw)


class MemoryBackplane:
    """Per-process backplane over a :class:`MemoryBus` (it never crosses a process boundary)."""

    name = "memory"

    def __init__(self, bus: MemoryBus | None = None, *, namespace: str = "default") -> None:
        self.bus = bus or MemoryBus()
        self.namespace = namespace
        self.reconnects = 0
        self.rejected = 0
        self._deliver: Deliver | None = None

    async def _handle(self, raw: bytes) -> None:
        try:
            message = BackplaneMessage.decode(raw)
        except (ValueError, UnicodeDecodeError):
            self.rejected += 1
            return
        if self._deliver is not None:
            await self._deliver(message)

    async def start(self, deliver: Deliver) -> None:
        if self._deliver is None:
            self.bus.subscribers.setdefault(self.namespace, []).append(self._handle)
        self._deliver = deliver

    async def publish(self, message: BackplaneMessage) -> None:
        if self._deliver is None:
            raise BackplaneUnavailable("memory backplane is not started")
        await self.bus.publish(self.namespace, message.encode())

    async def stop(self) -> None:
        if self._deliver is not None:
            with contextlib.suppress(ValueError):
                self.bus.subscribers.get(self.namespace, []).remove(self._handle)
            self._deliver = None

    def connected(self) -> bool:
        return self._deliver is not None


class NetworkBackplane(abc.ABC):
    """The transport-independent part of a server-backed backplane: the receive loop, reconnect and resubscribe,
    decoding and counting. Subclasses implement connect/subscribe/send/disconnect."""

    name = "network"

    def __init__(self, url: str, *, namespace: str = "default", logger: StructuredLogger | None = None) -> None:
        if not _NAMESPACE.fullmatch(namespace):
            raise ValueError(f"namespace {namespace!r} must be 1-64 letters, digits, '_' or '-'")
        self.url = url
        self.namespace = namespace
        self._log = logger or DiscardLogger()
        self._deliver: Deliver | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._up = False
        self.reconnects = 0
        self.rejected = 0
        self.received = 0

    @property
    def channel(self) -> str:
        return f"plumego.ws.{self.namespace}"

    async def start(self, deliver: Deliver) -> None:
        if self._receiver is not None:
            return
        self._deliver = deliver
        await self._connect()
        self._receiver = asyncio.create_task(self._receive_forever(), name=f"ws-backplane-{self.namespace}")
        await asyncio.wait_for(self._subscribed.wait(), timeout=30)

    async def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._receiver
            self._receiver = None
        self._up = False
        with contextlib.suppress(Exception):
            await self._disconnect()

    def connected(self) -> bool:
        return self._up and self._receiver is not None and not self._receiver.done()

    async def publish(self, message: BackplaneMessage) -> None:
        if self._receiver is None:
            raise BackplaneUnavailable("the websocket backplane is not started")
        try:
            await self._send(message.encode())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise BackplaneUnavailable(f"{self.name} backplane publish failed: {type(exc).__name__}") from exc

    async def _receive_forever(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._receive_loop()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._up = False
                self._subscribed.clear()
                self.reconnects += 1
                self._log.warn("websocket backplane lost its server; reconnecting",
                               {"backplane": self.name, "error": type(exc).__name__, "namespace": self.namespace})
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
                    self._log.warn("websocket backplane reconnect failed",
                                   {"backplane": self.name, "error": type(exc).__name__})

    def _mark_subscribed(self) -> None:
        self._up = True
        self._subscribed.set()

    async def _handle(self, raw: bytes) -> None:
        try:
            message = BackplaneMessage.decode(raw)
        except (ValueError, UnicodeDecodeError) as exc:     # someone else's traffic on our channel: never crash
            self.rejected += 1
            self._log.warn("websocket backplane dropped a malformed message", {"error": type(exc).__name__})
            return
        self.received += 1
        assert self._deliver is not None
        try:
            await self._deliver(message)
        except Exception as exc:  # a delivery bug must not end the subscription
            self._log.error("websocket backplane delivery failed", {"error": repr(exc)})

    @abc.abstractmethod
    async def _connect(self) -> None: ...

    @abc.abstractmethod
    async def _receive_loop(self) -> None:
        """Subscribe, call ``_mark_subscribed``, then hand every payload to ``_handle`` until cancelled; raise
        when the server goes away."""

    @abc.abstractmethod
    async def _send(self, payload: bytes) -> None: ...

    @abc.abstractmethod
    async def _disconnect(self) -> None: ...


def open_backplane(url: str, *, logger: StructuredLogger | None = None, bus: MemoryBus | None = None) -> Backplane:
    """``redis://host:6379/0``, ``nats://host:4222`` or ``memory://``; ``?namespace=NAME`` separates apps sharing
    a server (default ``default``)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    namespace = params.get("namespace", "default")
    scheme = parts.scheme.lower()
    if scheme in ("redis", "rediss"):
        from ._backplane_redis import RedisBackplane
        return RedisBackplane(url, namespace=namespace, logger=logger)
    if scheme in ("nats", "tls"):
        from ._backplane_nats import NATSBackplane
        return NATSBackplane(url, namespace=namespace, logger=logger)
    if scheme == "memory":
        return MemoryBackplane(bus, namespace=namespace)
    raise ValueError(f"unsupported websocket backplane URL scheme {scheme!r}: use redis://, nats:// or memory://")
