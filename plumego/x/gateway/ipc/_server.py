"""The ipc server: accepts framed connections on a Unix socket (or loopback TCP), answers each request frame
with the handler's reply and each PING with a PONG, and drops connections that stay silent past ``idle_timeout``.
A lifecycle component (start/stop). Imports the standard library and this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
from collections.abc import Awaitable, Callable

from ._frames import MAX_FRAME, PING, PONG, FrameError, parse_address, read_frame, write_frame

__all__ = ["IPCServer"]

_log = logging.getLogger("plumego.x.gateway.ipc")
Handler = Callable[[bytes], Awaitable[bytes]]


class IPCServer:
    """``IPCServer("unix:///run/app.sock", handler)``; ``await server.start()`` ... ``await server.stop()``.

    ``address`` may be ``tcp://127.0.0.1:0`` (port chosen at start; read :attr:`address`). A stale socket file
    from a crashed process is replaced; a live one (something answers on it) is an error.
    """

    def __init__(self, address: str, handler: Handler, *, max_frame: int = MAX_FRAME,
                 idle_timeout: float = 90.0) -> None:
        self._address = parse_address(address)
        self._handler, self._max, self._idle = handler, max_frame, idle_timeout
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.address = str(self._address)

    async def start(self) -> None:
        a = self._address
        if a.is_unix:
            _remove_stale_socket(a.path)
            self._server = await asyncio.start_unix_server(self._serve, path=a.path)
            os.chmod(a.path, 0o660)
        else:
            self._server = await asyncio.start_server(self._serve, a.host, a.port)
            port = self._server.sockets[0].getsockname()[1]
            self.address = f"tcp://{a.host}:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            for task in list(self._connections):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._server.wait_closed()
            self._server = None
        if self._address.is_unix:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._address.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                try:
                    async with asyncio.timeout(self._idle):
                        payload = await read_frame(reader, self._max)
                except EOFError:
                    return
                except TimeoutError:
                    _log.warning("ipc: closing a connection silent for %.0fs", self._idle)
                    return
                except FrameError as exc:
                    _log.warning("ipc: closing a connection: %s", exc)
                    return
                if payload == PING:
                    write_frame(writer, PONG)
                else:
                    try:
                        reply = await self._handler(payload)
                    except Exception:
                        _log.exception("ipc: the handler failed; closing the connection")
                        return
                    write_frame(writer, reply, self._max)
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            _log.info("ipc: connection lost: %r", exc)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def _remove_stale_socket(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise FileExistsError(f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)  # nobody listens: left behind by a process that died
        return
    finally:
        probe.close()
    raise OSError(f"another server is listening on {path}")
