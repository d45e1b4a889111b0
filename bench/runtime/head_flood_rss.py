"""Server memory under a request-head flood: four connections each streaming an endless 64 MiB header.

Not a test. Reproduces issue 13's probe against the reference app served by stock uvicorn protocols and by
plumego's guarded ones (both implementations; see head_guard_bench.py for the server script): prints the
server's VmRSS before and VmHWM (peak) after the flood, how many bytes each connection got to send before the
server hung up, and what it answered.
Usage: python bench/runtime/head_flood_rss.py [--impl httptools,h11] [--mib 64] [--connections 4]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from head_guard_bench import SERVER, free_port, wait_up  # noqa: E402


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def flood(port: int, total: int, result: list[tuple[int, bytes]]) -> None:
    conn = socket.create_connection(("127.0.0.1", port), timeout=60)
    sent = 0
    try:
        conn.sendall(b"GET /api/hello HTTP/1.1\r\nHost: t\r\nX-Big: ")
        piece = b"a" * 65536
        while sent < total:
            conn.sendall(piece)
            sent += len(piece)
    except OSError:
        pass
    answer = b""
    try:
        conn.settimeout(5)
        answer = conn.recv(200)
    except OSError:
        pass
    conn.close()
    result.append((sent, answer.split(b"\r\n", 1)[0]))


def run(variant: str, impl: str, mib: int, connections: int, workdir: Path) -> None:
    port = free_port()
    data = tempfile.mkdtemp(dir=workdir)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, variant, impl, str(port), data, str(workdir / "log")],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
    )
    try:
        wait_up(port)
        time.sleep(0.5)
        before = status_kib(server.pid, "VmRSS")
        results: list[tuple[int, bytes]] = []
        threads = [threading.Thread(target=flood, args=(port, mib << 20, results)) for _ in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        peak = status_kib(server.pid, "VmHWM")
        sent = ", ".join(f"{s / (1 << 20):.2f}" for s, _ in results)
        answers = sorted({a.decode("latin-1") or "(closed)" for _, a in results})
        print(f"{impl:9} {variant:7} rss before {before / 1024:6.1f} MiB  peak {peak / 1024:6.1f} MiB  "
              f"sent per connection (MiB): {sent}  answer: {answers}", flush=True)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default="httptools,h11")
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for impl in [i.strip() for i in args.impl.split(",") if i.strip()]:
            for variant in ("stock", "guarded"):
                run(variant, impl, args.mib, args.connections, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
