"""The ipc wire format (Go ``FramedClient``): a 4-byte big-endian length, then that many bytes, at most 16 MiB.
Heartbeats are the reserved 4-byte payloads PING ``FF FF 00 00`` and PONG ``FF FF 00 01``.
Owns addresses too: ``unix:///path`` (or a bare path) and ``tcp://127.0.0.1:PORT``. Imports only the standard library.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

__all__ = ["MAX_FRAME", "PING", "PONG", "Address", "FrameError", "parse_address", "read_frame", "write_frame"]

MAX_FRAME = 16 << 20
PING = b"\xff\xff\x00\x00"
PONG = b"\xff\xff\x00\x01"
_HEADER = struct.Struct(">I")


class FrameError(ValueError):
    """A frame over the size limit, or a connection cut inside a frame."""


@dataclass(frozen=True, slots=True)
class Address:
    path: str = ""
    host: str = ""
    port: int = 0

    @property
    def is_unix(self) -> bool:
        return bool(self.path)

    def __str__(self) -> str:
        return f"unix://{self.path}" if self.path else f"tcp://{self.host}:{self.port}"


def parse_address(address: str) -> Address:
    if address.startswith("tcp://"):
        host, sep, port = address.removeprefix("tcp://").rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise ValueError(f"a tcp ipc address is tcp://host:port, got {address!r}")
        return Address(host=host.strip("[]"), port=int(port))
    path = address.removeprefix("unix://")
    if not path.startswith("/"):
        raise ValueError(f"an ipc address is unix:///absolute/path or tcp://host:port, got {address!r}")
    return Address(path=path)


async def read_frame(reader: asyncio.StreamReader, max_size: int = MAX_FRAME) -> bytes:
    """One frame's payload. Raises EOFError at a clean end of stream, FrameError otherwise."""
    try:
        header = await reader.readexactly(4)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise EOFError("connection closed") from None
        raise FrameError("connection closed inside a frame header") from None
    (size,) = _HEADER.unpack(header)
    if size > max_size:
        raise FrameError(f"frame of {size} bytes is over the {max_size}-byte limit")
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise FrameError("connection closed inside a frame") from None


def write_frame(writer: asyncio.StreamWriter, payload: bytes, max_size: int = MAX_FRAME) -> None:
    if len(payload) > max_size:
        raise FrameError(f"frame of {len(payload)} bytes is over the {max_size}-byte limit")
    writer.write(_HEADER.pack(len(payload)) + payload)
