"""Server-Sent Events as an ASGI response: Go Plumego's headers (``text/event-stream``, ``Cache-Control:
no-cache``, ``Connection: keep-alive``, ``X-Accel-Buffering: no``), a keep-alive comment when nothing was sent for
``keepalive`` seconds, and the client's disconnect detected (``http.disconnect``) and turned into cancellation of
the task producing events, so the work stops and its connections close. An exception in the producer after the
headers went out becomes a final ``event: error`` and a clean end, never a torn response.

Imports the standard library and plumego.contract.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from plumego.contract import Receive, Scope, Send

__all__ = ["SSE_HEADERS", "Event", "EventStream", "encode_event"]

_log = logging.getLogger("plumego.x.ai.sse")

SSE_HEADERS: tuple[tuple[str, str], ...] = (("content-type", "text/event-stream"), ("cache-control", "no-cache"),
                                            ("connection", "keep-alive"), ("x-accel-buffering", "no"))


@dataclass(frozen=True, slots=True)
class Event:
    """One SSE event. ``data`` that is not a str is sent as JSON; multi-line data becomes several ``data:``
    lines. A ``comment`` alone is a ``:`` line (keep-alives use one)."""

    data: Any = None
    event: str = ""
    id: str = ""
    retry: int | None = None
    comment: str = ""


def encode_event(ev: Event) -> bytes:
    lines: list[str] = []
    if ev.comment:
        lines += [f": {c}" for c in ev.comment.splitlines()]
    if ev.id:
        if "\n" in ev.id or "\r" in ev.id:
            raise ValueError("an SSE id cannot contain a newline")
        lines.append(f"id: {ev.id}")
    if ev.event:
        if "\n" in ev.event or "\r" in ev.event:
            raise ValueError("an SSE event name cannot contain a newline")
        lines.append(f"event: {ev.event}")
    if ev.retry is not None:
        lines.append(f"retry: {int(ev.retry)}")
    if ev.data is not None:
        text = ev.data if isinstance(ev.data, str) else json.dumps(ev.data, separators=(",", ":"),
                                                                    ensure_ascii=False)
        lines += [f"data: {line}" for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


EventSource = AsyncIterable[Event] | Callable[[], AsyncIterator[Event]]


class EventStream:
    """An ASGI response that streams ``events``. ``on_disconnect`` runs after a client went away (the producer is
    already cancelled). ``disconnected`` tells afterwards whether that happened."""

    def __init__(self, events: AsyncIterable[Event], *, keepalive: float = 15.0, status: int = 200,
                 headers: Mapping[str, str] | None = None,
                 on_disconnect: Callable[[], Awaitable[None]] | None = None,
                 error_event: Callable[[BaseException], Event] | None = None) -> None:
        if keepalive <= 0:
            raise ValueError("keepalive must be positive")
        self.events = events
        self.keepalive = keepalive
        self.status = status
        self.headers = {**dict(SSE_HEADERS), **{k.lower(): v for k, v in (headers or {}).items()}}
        self.on_disconnect = on_disconnect
        self.error_event = error_event or _default_error_event
        self.disconnected = False
        self.sent_events = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        producer = asyncio.create_task(self._pump(send))
        watcher = asyncio.create_task(_wait_disconnect(receive))
        try:
            done, _ = await asyncio.wait({producer, watcher}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            producer.cancel()
            watcher.cancel()
            await asyncio.gather(producer, watcher, return_exceptions=True)
            raise
        if producer not in done:
            self.disconnected = True
            producer.cancel()
            await asyncio.gather(producer, return_exceptions=True)
            if self.on_disconnect is not None:
                await self.on_disconnect()
            return
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        exc = producer.exception()
        if exc is not None:
            if isinstance(exc, OSError):        # the transport went away while writing
                self.disconnected = True
                return
            raise exc  # pragma: no cover - _pump turns every other error into an error event
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _pump(self, send: Send) -> None:
        lock = asyncio.Lock()
        last = [asyncio.get_running_loop().time()]

        async def write(body: bytes) -> None:
            async with lock:
                await send({"type": "http.response.body", "body": body, "more_body": True})
                last[0] = asyncio.get_running_loop().time()

        async def keepalive() -> None:
            loop = asyncio.get_running_loop()
            while True:
                await asyncio.sleep(max(last[0] + self.keepalive - loop.time(), 0.0))
                if loop.time() - last[0] >= self.keepalive:
                    await write(b": keep-alive\n\n")

        pinger = asyncio.create_task(keepalive())
        iterator = aiter(self.events)
        try:
            try:
                async for event in iterator:
                    await write(encode_event(event))
                    self.sent_events += 1
            except Exception as exc:  # noqa: BLE001 - becomes an error event; the headers are already out
                if isinstance(exc, OSError):
                    raise
                _log.warning("event stream failed: %s", exc)
                await write(encode_event(self.error_event(exc)))
        finally:
            pinger.cancel()
            await asyncio.gather(pinger, return_exceptions=True)
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()


def _default_error_event(exc: BaseException) -> Event:
    return Event({"type": type(exc).__name__, "message": str(exc)}, event="error")


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message.get("type") == "http.disconnect":
            return
