"""The hub: rooms of connections, capacity limits, broadcasts with per-connection backpressure, a backplane so a
broadcast reaches the room's members on every worker, metrics and a bounded graceful stop.

Unlike Go's hub there is no worker pool: enqueueing is non-blocking, so a fan-out runs in the caller's task, and
connections whose queue is full under the BLOCK policy are waited on together, each for at most ``send_timeout``.
Imports the standard library, plumego.log and this package.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from plumego.contract import Message
from plumego.log import DiscardLogger, StructuredLogger

from ._backplane import Backplane, BackplaneMessage, BackplaneUnavailable
from ._conn import Conn, SendPolicy, SendResult
from ._protocol import validate_room_name

__all__ = ["BroadcastResult", "Hub", "HubError", "HubFull", "HubMetrics", "HubStopped", "RoomFull"]


class HubError(Exception):
    """A join was refused."""


class HubFull(HubError):
    pass


class RoomFull(HubError):
    pass


class HubStopped(HubError):
    pass


@dataclass(frozen=True, slots=True)
class BroadcastResult:
    """Local outcome of a broadcast (Go's ``BroadcastResult``) plus whether it went out on the backplane."""

    attempted: int = 0
    enqueued: int = 0
    skipped: int = 0      # connections already closing
    dropped: int = 0      # full queues (DROP, or BLOCK past send_timeout) and slow consumers closed (CLOSE)
    published: bool = False

    def __add__(self, other: BroadcastResult) -> BroadcastResult:
        return BroadcastResult(self.attempted + other.attempted, self.enqueued + other.enqueued,
                               self.skipped + other.skipped, self.dropped + other.dropped,
                               self.published or other.published)


@dataclass(frozen=True, slots=True)
class HubMetrics:
    connections: int
    rooms: int
    broadcasts: int
    remote_broadcasts: int
    enqueued: int
    dropped: int
    backplane: str
    backplane_connected: bool
    backplane_errors: int
    backplane_reconnects: int


class Hub:
    """Rooms of :class:`Conn`. ``max_connections``, ``max_rooms`` and ``max_room_connections`` (0 = unlimited) are
    checked in :meth:`try_join`, before the upgrade is accepted. Limits are per process (per worker)."""

    def __init__(self, *, max_connections: int = 0, max_rooms: int = 0, max_room_connections: int = 0,
                 backplane: Backplane | None = None, logger: StructuredLogger | None = None) -> None:
        if min(max_connections, max_rooms, max_room_connections) < 0:
            raise ValueError("hub limits must not be negative")
        self.instance_id = uuid.uuid4().hex
        self.max_connections = max_connections
        self.max_rooms = max_rooms
        self.max_room_connections = max_room_connections
        self.backplane = backplane
        self._log = logger or DiscardLogger()
        self._rooms: dict[str, dict[str, Conn]] = {}
        self._count = 0
        self._stopped = False
        self._started = False
        self._broadcasts = 0
        self._remote = 0
        self._enqueued = 0
        self._dropped = 0
        self._backplane_errors = 0

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        if self.backplane is not None:
            await self.backplane.start(self._from_backplane)

    async def ready(self) -> None:
        if self._stopped:
            raise RuntimeError("the websocket hub is stopped")
        if self.backplane is not None and not self.backplane.connected():
            raise RuntimeError(f"the websocket {self.backplane.name} backplane is not connected")

    async def stop(self, drain_timeout: float = 5.0) -> None:
        """Refuse new joins, flush every connection's queue (all at once, bounded by ``drain_timeout``), close them
        with 1001 going away, then stop the backplane."""
        self._stopped = True
        conns = [c for room in self._rooms.values() for c in room.values()]
        if conns:
            await asyncio.gather(*(c.shutdown(drain_timeout) for c in conns), return_exceptions=True)
        self._rooms.clear()
        self._count = 0
        if self.backplane is not None and self._started:
            await self.backplane.stop()

    @property
    def stopped(self) -> bool:
        return self._stopped

    # --- membership ---------------------------------------------------------------------------
    def try_join(self, conn: Conn) -> None:
        """Add ``conn`` to its room; idempotent. Raises HubStopped, HubFull or RoomFull."""
        if self._stopped:
            raise HubStopped("hub is stopped")
        validate_room_name(conn.room)
        room = self._rooms.get(conn.room)
        if room is not None and conn.id in room:
            return
        if self.max_connections and self._count >= self.max_connections:
            raise HubFull(f"hub is full ({self.max_connections} connections)")
        if room is None and self.max_rooms and len(self._rooms) >= self.max_rooms:
            raise HubFull(f"hub is full ({self.max_rooms} rooms)")
        if room is not None and self.max_room_connections and len(room) >= self.max_room_connections:
            raise RoomFull(f"room {conn.room!r} is full ({self.max_room_connections} connections)")
        if room is None:
            room = self._rooms[conn.room] = {}
        room[conn.id] = conn
        self._count += 1

    def leave(self, conn: Conn) -> None:
        room = self._rooms.get(conn.room)
        if room is not None and room.pop(conn.id, None) is not None:
            self._count -= 1
            if not room:
                del self._rooms[conn.room]

    def connections(self, room: str | None = None) -> list[Conn]:
        if room is not None:
            return list(self._rooms.get(room, {}).values())
        return [c for members in self._rooms.values() for c in members.values()]

    def rooms(self) -> dict[str, int]:
        return {name: len(members) for name, members in self._rooms.items()}

    # --- broadcasting -------------------------------------------------------------------------
    async def broadcast_room(self, room: str, data: str | bytes, *, exclude: Conn | None = None) -> BroadcastResult:
        """Send to every member of ``room`` here and, through the backplane, on every other hub."""
        validate_room_name(room)
        return await self._broadcast(room, data, exclude)

    async def broadcast_all(self, data: str | bytes) -> BroadcastResult:
        """Send to every connection of every room, here and on every other hub."""
        return await self._broadcast(None, data, None)

    async def _broadcast(self, room: str | None, data: str | bytes, exclude: Conn | None) -> BroadcastResult:
        self._broadcasts += 1
        local = await self.deliver_local(room, data, exclude)
        if self.backplane is None:
            return local
        try:
            await self.backplane.publish(BackplaneMessage(self.instance_id, room, data))
        except BackplaneUnavailable as exc:
            self._backplane_errors += 1
            self._log.warn("websocket broadcast not published to other workers", {"error": str(exc)})
            return local
        return local + BroadcastResult(published=True)

    async def deliver_local(self, room: str | None, data: str | bytes,
                            exclude: Conn | None = None) -> BroadcastResult:
        """Enqueue ``data`` on this hub's members only (what a backplane message arriving here does)."""
        targets: Iterable[Conn] = (self._rooms.get(room, {}).values() if room is not None
                                   else [c for members in self._rooms.values() for c in members.values()])
        message: Message = ({"type": "websocket.send", "bytes": data} if isinstance(data, bytes)
                            else {"type": "websocket.send", "text": data})
        attempted = enqueued = skipped = dropped = 0
        waiting: list[Conn] = []
        for conn in list(targets):
            if conn is exclude:
                continue
            attempted += 1
            if conn.closed:
                skipped += 1
                continue
            result = conn.try_enqueue(message) if conn.limits.send_policy is not SendPolicy.BLOCK \
                else _try_put(conn, message)
            if result is SendResult.ENQUEUED:
                enqueued += 1
            elif result is None:
                waiting.append(conn)
            else:
                dropped += 1
        if waiting:
            results = await asyncio.gather(*(c.enqueue(message) for c in waiting))
            enqueued += sum(r is SendResult.ENQUEUED for r in results)
            dropped += sum(r is not SendResult.ENQUEUED for r in results)
        self._enqueued += enqueued
        self._dropped += dropped
        return BroadcastResult(attempted, enqueued, skipped, dropped)

    async def _from_backplane(self, message: BackplaneMessage) -> None:
        if message.origin == self.instance_id or self._stopped:
            return
        if message.room is not None:
            try:
                validate_room_name(message.room)
            except ValueError:
                return
        self._remote += 1
        await self.deliver_local(message.room, message.data)

    def metrics(self) -> HubMetrics:
        bp = self.backplane
        return HubMetrics(self._count, len(self._rooms), self._broadcasts, self._remote, self._enqueued,
                          self._dropped, bp.name if bp else "", bool(bp and bp.connected()), self._backplane_errors,
                          bp.reconnects if bp else 0)


def _try_put(conn: Conn, message: Message) -> SendResult | None:
    """Non-blocking put for a BLOCK-policy connection: None means "full, wait for it"."""
    if conn.closed:
        return SendResult.CLOSED
    if conn.queue_full():
        return None
    return conn.try_enqueue(message)
