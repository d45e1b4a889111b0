"""One accepted websocket over ASGI: a bounded send queue drained by a writer task, with Go's backpressure policies
(block up to ``send_timeout``, drop, or close the slow consumer), a write deadline, and validated reads.

Imports only the standard library, plumego.log and this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from plumego.contract import Message, Receive, Send

from ._auth import UserInfo
from ._protocol import (
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    CLOSE_POLICY_VIOLATION,
    MessageRejected,
    MessageValidation,
)

__all__ = ["Conn", "ConnClosed", "SendPolicy", "SendResult"]

_ids = itertools.count(1)
_CLOSE: Final = object()


class SendPolicy(enum.Enum):
    """What a full send queue does to a new message (Go ``SendBlock|SendDrop|SendClose``)."""

    BLOCK = "block"      # wait up to send_timeout for room, then drop it
    DROP = "drop"        # drop it at once
    CLOSE = "close"      # close the slow consumer with 1008


class SendResult(enum.Enum):
    ENQUEUED = "enqueued"
    DROPPED = "dropped"
    CLOSED = "closed"    # the connection is (now) closed: nothing was queued


class ConnClosed(Exception):
    """The peer or the server closed the connection; ``code`` is the close code when known."""

    def __init__(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        super().__init__(f"websocket closed ({code}{': ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ConnLimits:
    send_queue: int = 256
    send_timeout: float = 0.2
    send_policy: SendPolicy = SendPolicy.BLOCK
    write_timeout: float = 10.0
    validation: MessageValidation = MessageValidation()

    def __post_init__(self) -> None:
        if self.send_queue < 1:
            raise ValueError("send_queue must be at least 1")
        if self.send_timeout < 0 or self.write_timeout <= 0:
            raise ValueError("send_timeout must be >= 0 and write_timeout > 0")


class Conn:
    """An accepted connection in a room. ``send_text``/``send_bytes``/``send_json`` enqueue (never write directly),
    ``receive`` returns the next validated message, ``close`` flushes what is queued and closes."""

    def __init__(self, send: Send, receive: Receive, *, room: str, user: UserInfo | None = None,
                 limits: ConnLimits | None = None,
                 on_drop: Callable[[Conn], None] | None = None) -> None:
        self.id = f"c{next(_ids)}"
        self.room = room
        self.user = user
        self.metadata: dict[str, Any] = {}
        self.limits = limits or ConnLimits()
        self._send = send
        self._receive = receive
        self._queue: asyncio.Queue[Message | object] = asyncio.Queue(self.limits.send_queue)
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self._close_sent = False
        self.close_code: int | None = None
        self.sent = 0
        self.dropped = 0
        self._on_drop = on_drop

    # --- lifecycle ----------------------------------------------------------------------------
    def start_writer(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop(), name=f"ws-writer-{self.id}")

    @property
    def closed(self) -> bool:
        return self._closed

    async def _write_loop(self) -> None:
        queue, send, limit = self._queue, self._send, self.limits.write_timeout
        loop = asyncio.get_running_loop()
        try:
            while True:
                item = await queue.get()
                # one deadline object per wake-up, moved forward for each write (cheaper than wait_for per message)
                async with asyncio.timeout(loop.time() + limit) as deadline:
                    while True:
                        if item is _CLOSE:
                            return
                        assert isinstance(item, dict)
                        deadline.reschedule(loop.time() + limit)
                        try:
                            await send(item)
                        except (OSError, RuntimeError):
                            self._closed = True    # the peer went away: nothing more can be written
                            return
                        self.sent += 1
                        if queue.empty():
                            break
                        item = queue.get_nowait()
        except TimeoutError:
            # a peer that stopped reading past the write deadline: give the connection up
            self._closed = True
            await self._send_close(CLOSE_POLICY_VIOLATION, "write timeout")
        finally:
            self._closed = True

    async def _send_close(self, code: int, reason: str) -> None:
        if self._close_sent:
            return
        self._close_sent = True
        self.close_code = code
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._send({"type": "websocket.close", "code": code, "reason": reason[:120]}),
                                   self.limits.write_timeout)

    async def close(self, code: int = CLOSE_NORMAL, reason: str = "", *, flush_timeout: float = 0.0) -> None:
        """Close with ``code``; with ``flush_timeout`` > 0 what is already queued is written first (bounded)."""
        already = self._closed
        self._closed = True
        writer = self._writer
        if writer is not None and not writer.done():
            if flush_timeout > 0 and not already:
                with contextlib.suppress(asyncio.QueueFull):
                    self._queue.put_nowait(_CLOSE)
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(writer), flush_timeout)
            if not writer.done():
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await writer
        await self._send_close(code, reason)

    async def shutdown(self, flush_timeout: float) -> None:
        """Graceful server shutdown: flush (bounded), then 1001 going away."""
        await self.close(CLOSE_GOING_AWAY, "server shutting down", flush_timeout=flush_timeout)

    # --- sending ------------------------------------------------------------------------------
    def queue_full(self) -> bool:
        return self._queue.full()

    def try_enqueue(self, message: Message) -> SendResult:
        """Non-blocking enqueue: the BLOCK policy is the caller's to wait for (see :meth:`enqueue`)."""
        if self._closed:
            return SendResult.CLOSED
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            return self._full()
        return SendResult.ENQUEUED

    def _full(self) -> SendResult:
        if self.limits.send_policy is SendPolicy.CLOSE:
            self._closed = True
            asyncio.get_running_loop().create_task(self.close(CLOSE_POLICY_VIOLATION, "send queue full"))
            return SendResult.CLOSED
        self.dropped += 1
        if self._on_drop is not None:
            self._on_drop(self)
        return SendResult.DROPPED

    async def enqueue(self, message: Message) -> SendResult:
        """Enqueue by the policy: BLOCK waits up to ``send_timeout`` for room, then drops the message."""
        if self.limits.send_policy is not SendPolicy.BLOCK or self._closed:
            return self.try_enqueue(message)
        try:
            self._queue.put_nowait(message)
            return SendResult.ENQUEUED
        except asyncio.QueueFull:
            pass
        try:
            await asyncio.wait_for(self._queue.put(message), self.limits.send_timeout)
        except TimeoutError:
            self.dropped += 1
            if self._on_drop is not None:
                self._on_drop(self)
            return SendResult.DROPPED
        return SendResult.ENQUEUED

    async def send_text(self, text: str) -> SendResult:
        return await self.enqueue({"type": "websocket.send", "text": text})

    async def send_bytes(self, data: bytes) -> SendResult:
        return await self.enqueue({"type": "websocket.send", "bytes": data})

    async def send_json(self, value: Any) -> SendResult:
        return await self.send_text(json.dumps(value, separators=(",", ":"), ensure_ascii=False))

    # --- receiving ----------------------------------------------------------------------------
    async def receive(self) -> str | bytes:
        """The next message, validated (whole message: ASGI delivers reassembled frames). A peer close raises
        :class:`ConnClosed`; a rule broken closes the connection with its code and raises :class:`ConnClosed`."""
        while True:
            message = await self._receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                self._closed = True
                raise ConnClosed(int(message.get("code") or 1005), str(message.get("reason") or ""))
            if kind != "websocket.receive":
                continue
            text = message.get("text")
            data: str | bytes = text if text is not None else bytes(message.get("bytes") or b"")
            try:
                return self.limits.validation.check(data)
            except MessageRejected as exc:
                await self.close(exc.code, exc.reason)
                raise ConnClosed(exc.code, exc.reason) from None

    def __repr__(self) -> str:
        return f"Conn(id={self.id!r}, room={self.room!r}, user={self.user.id if self.user else None!r})"

