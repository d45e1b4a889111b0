"""ipc over real Unix sockets (and loopback TCP): request/reply, frame limits, heartbeats against a server that
stops answering, stale socket files, and reconnection after a server restart."""

from __future__ import annotations

import asyncio
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator

import pytest

from plumego.x.gateway.ipc import PING, FrameError, IPCClient, IPCError, IPCServer


@pytest.fixture
def sock_dir() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="ipc", dir="/tmp")       # short: AF_UNIX paths are limited to 108 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def upper(payload: bytes) -> bytes:
    if payload == b"boom":
        raise RuntimeError("handler bug")
    return payload.upper()


@pytest.mark.parametrize("kind", ["unix", "tcp"])
async def test_request_reply(kind: str, sock_dir: str) -> None:
    address = f"unix://{sock_dir}/a.sock" if kind == "unix" else "tcp://127.0.0.1:0"
    server = IPCServer(address, upper)
    await server.start()
    client = IPCClient(server.address)
    try:
        assert await client.request(b"hello") == b"HELLO"
        big = b"x" * (1 << 20)
        assert await client.request(big) == big.upper()
        assert await client.request(b"") == b""
        with pytest.raises(ValueError):
            await client.request(PING)
        with pytest.raises(IPCError):
            await client.request(b"boom")                    # the server drops the connection
        assert await client.request(b"again") == b"AGAIN"     # and the client reconnects
    finally:
        await client.close()
        await server.stop()
    if kind == "unix":
        assert not os.path.exists(f"{sock_dir}/a.sock")


async def test_frame_limits(sock_dir: str) -> None:
    server = IPCServer(f"unix://{sock_dir}/b.sock", upper, max_frame=1024)
    await server.start()
    try:
        client = IPCClient(f"unix://{sock_dir}/b.sock", max_frame=1024)
        with pytest.raises(FrameError):
            await client.request(b"x" * 1025)
        await client.close()
        reader, writer = await asyncio.open_unix_connection(f"{sock_dir}/b.sock")
        writer.write(struct.pack(">I", 1 << 30))              # claims 1 GiB: refused, connection closed
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()
    finally:
        await server.stop()


async def test_heartbeat_drops_a_silent_server(sock_dir: str) -> None:
    path = f"{sock_dir}/c.sock"

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()                                   # reads, never answers

    silent = await asyncio.start_unix_server(mute, path=path)
    client = IPCClient(f"unix://{path}", heartbeat=0.05, heartbeat_timeout=0.1)
    await client.connect()
    assert client.connected
    for _ in range(100):
        if not client.connected:
            break
        await asyncio.sleep(0.02)
    assert not client.connected
    silent.close()
    await silent.wait_closed()
    os.unlink(path)
    server = IPCServer(f"unix://{path}", upper)               # a real server comes back on the same path
    await server.start()
    try:
        assert await client.request(b"back") == b"BACK"
        await asyncio.sleep(0.2)                              # heartbeats answered: still connected
        assert client.connected
    finally:
        await client.close()
        await server.stop()


async def test_stale_socket_replaced_live_one_refused(sock_dir: str) -> None:
    path = f"{sock_dir}/d.sock"
    first = IPCServer(f"unix://{path}", upper)
    await first.start()
    with pytest.raises(OSError):
        await IPCServer(f"unix://{path}", upper).start()      # something answers there
    first._server.close()  # type: ignore[union-attr]          # "crash": the socket file stays
    await first._server.wait_closed()  # type: ignore[union-attr]
    assert os.path.exists(path)
    second = IPCServer(f"unix://{path}", upper)
    await second.start()
    await second.stop()
    with open(f"{sock_dir}/file", "w") as f:
        f.write("x")
    with pytest.raises(FileExistsError):
        await IPCServer(f"unix://{sock_dir}/file", upper).start()


async def test_unreachable_and_bad_addresses(sock_dir: str) -> None:
    client = IPCClient(f"unix://{sock_dir}/none.sock", reconnect_attempts=2, backoff=0.001)
    with pytest.raises(IPCError):
        await client.request(b"x")
    await client.close()
    for bad in ("relative.sock", "tcp://nohost", "tcp://:80"):
        with pytest.raises(ValueError):
            IPCClient(bad)
