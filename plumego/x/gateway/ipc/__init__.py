"""plumego.x.gateway.ipc (experimental): framed request/reply between local processes over a Unix socket (or
loopback TCP), with heartbeats — a 4-byte big-endian length prefix, 16 MiB frames, PING FF FF 00 00 as Go.

::

    server = IPCServer("unix:///run/app/ipc.sock", handle)         # async def handle(payload: bytes) -> bytes
    app.add_component("ipc", server)
    client = IPCClient("unix:///run/app/ipc.sock", heartbeat=30)
    reply = await client.request(b"...")

Imports follow the x/gateway family's rules in specs/dependency-rules.yaml (the standard library only).
"""

from ._client import IPCClient, IPCError
from ._frames import MAX_FRAME, PING, PONG, FrameError, read_frame, write_frame
from ._server import IPCServer

__all__ = ["MAX_FRAME", "PING", "PONG", "FrameError", "IPCClient", "IPCError", "IPCServer", "read_frame",
           "write_frame"]
