"""The ipc client: one framed connection, request/reply under a lock, a heartbeat (PING every ``heartbeat``
seconds while idle, the connection dropped when no PONG comes within ``heartbeat_timeout``; Go: 30 s / 10 s) and
reconnection with backoff on the next request. Imports the standard library and this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ._frames import MAX_FRAME, PING, PONG, FrameError, parse_address, read_frame, write_frame

__all__ = ["IPCClient", "IPCError"]

_log = logging.getLogger("plumego.x.gateway.ipc")


class IPCError(ConnectionError):
    """The server could not be reached, or the connection broke during an exchange."""


class IPCClient:
    def __init__(self, address: str, *, heartbeat: float = 30.0, heartbeat_timeout: float = 10.0,
                 connect_timeout: float = 5.0, reconnect_attempts: int = 3, backoff: float = 0.1,
                 max_frame: int = MAX_FRAME) -> None:
        self._address = parse_address(address)
        self._heartbeat, self._hb_timeout = heartbeat, heartbeat_timeout
        self._connect_timeout, self._attempts, self._backoff = connect_timeout, reconnect_attempts, backoff
        self._max = max_frame
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()
        self._beat: asyncio.Task[None] | None = None
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def connect(self) -> None:
        async with self._lock:
            await self._ensure()

    async def _ensure(self) -> None:
        if self.connected:
            return
        last: Exception | None = None
        for attempt in range(self._attempts):
            try:
                async with asyncio.timeout(self._connect_timeout):
                    a = self._address
                    if a.is_unix:
                        self._reader, self._writer = await asyncio.open_unix_connection(a.path)
                    else:
                        self._reader, self._writer = await asyncio.open_connection(a.host, a.port)
                if self._beat is None or self._beat.done():
                    self._beat = asyncio.create_task(self._heartbeats(), name="ipc-heartbeat")
                return
            except (OSError, TimeoutError) as exc:
                last = exc
                self.reconnects += 1
                await asyncio.sleep(self._backoff * (2 ** attempt))
        raise IPCError(f"cannot reach {self._address}: {last!r}")

    async def request(self, payload: bytes, *, timeout: float | None = None) -> bytes:
        """Send one frame and return the reply frame."""
        if payload in (PING, PONG):
            raise ValueError("the 4-byte heartbeat payloads are reserved")
        if len(payload) > self._max:
            raise FrameError(f"frame of {len(payload)} bytes is over the {self._max}-byte limit")
        async with self._lock:
            await self._ensure()
            try:
                async with asyncio.timeout(timeout):
                    return await self._exchange(payload)
            except (OSError, EOFError, FrameError, TimeoutError) as exc:
                await self._drop()
                raise IPCError(f"ipc exchange with {self._address} failed: {exc!r}") from exc

    async def _exchange(self, payload: bytes) -> bytes:
        assert self._reader is not None and self._writer is not None
        write_frame(self._writer, payload, self._max)
        await self._writer.drain()
        return await read_frame(self._reader, self._max)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            if self._lock.locked() or not self.connected:
                continue  # a request in flight is its own proof of life
            async with self._lock:
                try:
                    async with asyncio.timeout(self._hb_timeout):
                        if await self._exchange(PING) != PONG:
                            raise FrameError("heartbeat answered with something other than PONG")
                except (OSError, EOFError, FrameError, TimeoutError) as exc:
                    _log.warning("ipc: heartbeat to %s failed (%r); dropping the connection", self._address, exc)
                    await self._drop()
                    return

    async def _drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def close(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
            self._beat = None
        await self._drop()
