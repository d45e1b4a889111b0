"""WebSocket broadcast to 1,000 connected clients: plumego's x/websocket hub under uvicorn against a bare
``websockets`` server doing the same fan-out (``websockets.broadcast``), in the same run, rounds interleaved.

Each server runs alone on CPU0 (``taskset``, uvloop; uvicorn with plumego's App). The 1,000 receivers are raw
asyncio connections on CPU1 that do the handshake and then only count bytes (so the receiving side costs almost
nothing and the server is what is measured); one ``websockets`` client sends the messages into the room. A cell
sends ``--messages`` 64-byte text messages, as fast as the sender can, and stops the clock when every receiver has
every frame. Reported: delivered messages per second (messages x receivers / seconds), the median of the rounds,
and the share of the box's CPU used by other processes during the cell.
Run: PYTHONPATH=. python bench/ws_broadcast_bench.py [--clients 1000] [--messages 200] [--rounds 3]
Not a test: nothing is asserted; numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent / "runtime"))
from run import busy_jiffies, proc_jiffies  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PAYLOAD = "m" * 64
FRAME = 2 + len(PAYLOAD)          # unmasked server frame: 2-byte header, 64-byte payload


class Receiver(asyncio.Protocol):
    def __init__(self, path: str, done: asyncio.Event) -> None:
        self.path = path
        self.buffer = b""
        self.upgraded = asyncio.get_running_loop().create_future()
        self.received = 0
        self.expected = 0
        self.done = done

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(f"GET {self.path} HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())

    def data_received(self, data: bytes) -> None:
        if not self.upgraded.done():
            self.buffer += data
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(RuntimeError(head[:100].decode(errors="replace")))
                return
            self.upgraded.set_result(None)
            data = rest
        self.received += len(data)
        if self.expected and self.received >= self.expected:
            self.expected = 0
            self.done.set()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(kind: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if kind == "plumego":
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "bench.edge_apps:plumego_ws", "--port", str(port),
               "--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio", "--ws-ping-interval", "600",
               "--ws-per-message-deflate", "false", "--log-level", "warning", "--no-access-log"]
    else:
        cmd = [sys.executable, "bench/edge_apps.py", str(port)]
    return subprocess.Popen(["taskset", "-c", "0", *cmd], cwd=REPO, env=env)


async def wait_port(port: int) -> None:
    for _ in range(300):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("server did not start")


async def cell(kind: str, clients: int, messages: int) -> tuple[float, float]:
    port = free_port()
    proc = start(kind, port)
    try:
        await wait_port(port)
        loop = asyncio.get_running_loop()
        receivers: list[Receiver] = []
        for i in range(0, clients, 100):
            batch = await asyncio.gather(*(loop.create_connection(
                lambda: Receiver("/ws?room=bench", asyncio.Event()), "127.0.0.1", port)
                for _ in range(min(100, clients - i))))
            receivers += [p for _, p in batch]
        await asyncio.gather(*(r.upgraded for r in receivers))
        async with connect(f"ws://127.0.0.1:{port}/ws?room=bench", ping_interval=None, max_size=None,
                           compression=None) as sender:

            async def run(count: int) -> float:
                for r in receivers:
                    r.done.clear()
                    r.expected = r.received + count * FRAME
                t0 = time.perf_counter()
                for _ in range(count):
                    await sender.send(PAYLOAD)
                await asyncio.gather(*(r.done.wait() for r in receivers))
                return time.perf_counter() - t0

            await run(10)                                       # warm-up
            busy0, own0 = busy_jiffies(), proc_jiffies(proc.pid) + proc_jiffies(os.getpid())
            elapsed = await run(messages)
            busy1, own1 = busy_jiffies(), proc_jiffies(proc.pid) + proc_jiffies(os.getpid())
        ticks = os.sysconf("SC_CLK_TCK")
        foreign = max(0.0, (busy1 - busy0) - (own1 - own0)) / (elapsed * ticks * (os.cpu_count() or 1))
        return messages * clients / elapsed, foreign
    finally:
        proc.terminate()
        proc.wait(10)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    results: dict[str, list[tuple[float, float]]] = {"plumego": [], "websockets": []}
    for round_no in range(args.rounds):
        order = ("plumego", "websockets") if round_no % 2 == 0 else ("websockets", "plumego")
        for kind in order:
            rate, foreign = await cell(kind, args.clients, args.messages)
            results[kind].append((rate, foreign))
            print(f"round {round_no + 1} {kind:10s} {rate:12,.0f} msgs/s delivered  foreign CPU {foreign:4.0%}",
                  flush=True)
    medians = {k: statistics.median(r for r, _ in v) for k, v in results.items()}
    print(f"\nmedian delivered msgs/s over {args.rounds} rounds, {args.clients} clients, {args.messages} messages:")
    for kind, value in medians.items():
        print(f"  {kind:10s} {value:12,.0f}")
    print(f"  plumego / bare websockets = {medians['plumego'] / medians['websockets']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
