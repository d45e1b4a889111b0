"""x/fileapi upload and download throughput and server memory against Starlette's UploadFile/FileResponse.

Each server runs in its own process under uvicorn (one worker, httptools/uvloop as installed), on loopback, and
stores to the local disk:
- plumego: ``FileHandler`` over ``LocalStorage`` + ``SQLiteMetadataStore`` (multipart streamed to the final
  file: temp -> fsync -> rename -> directory fsync; SHA-256 computed on the way; download streamed with ETag);
- Starlette: ``await request.form()`` (UploadFile spooled by Starlette), ``shutil.copyfileobj`` to the final file,
  then ``FileResponse`` to download. No fsync, no hashing: Starlette does less work per byte.
The client (httpx, streaming both ways, in this process) uploads a file of each size ``--rounds`` times, then
downloads it ``--rounds`` times. Peak memory is the server process's VmHWM from /proc after the rounds of one
size (a fresh server per size), so growth with the file size shows. Usage:

    PYTHONPATH=. python bench/fileapi_bench.py [--sizes 10,50,200] [--rounds 3]

Not a test: it moves gigabytes. Needs ``pip install -e '.[bench,fileapi,data]'``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BOUNDARY = "benchboundary0123456789"
CHUNK = 1 << 20


def plumego_app(data_dir: Path) -> Any:
    from plumego.core import App
    from plumego.x.data.file import FileCatalog, LocalStorage, SQLiteMetadataStore
    from plumego.x.fileapi import FileHandler, register_routes, with_tenant_id

    catalog = FileCatalog(LocalStorage(data_dir / "blobs"), SQLiteMetadataStore(data_dir / "files.db"))
    app = App()

    def tenant(inner: Any) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            with_tenant_id(scope, "bench")
            await inner(scope, receive, send)
        return middleware

    app.use(tenant)
    register_routes(app, FileHandler(catalog, max_size=1 << 40))
    return app


def starlette_app(data_dir: Path) -> Any:
    import uuid

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Route

    store = data_dir / "blobs"
    store.mkdir(parents=True, exist_ok=True)

    async def upload(request: Request) -> JSONResponse:
        form = await request.form(max_part_size=1 << 40)
        part = form["file"]
        file_id = uuid.uuid4().hex
        with open(store / file_id, "wb") as out:
            shutil.copyfileobj(part.file, out, CHUNK)   # type: ignore[union-attr]
        await form.close()
        return JSONResponse({"id": file_id}, status_code=201)

    async def download(request: Request) -> FileResponse:
        return FileResponse(store / request.path_params["id"], filename="f.bin")

    return Starlette(routes=[Route("/files", upload, methods=["POST"]),
                             Route("/files/{id}/download", download)])


def serve(kind: str, port: int, data_dir: str) -> None:
    import uvicorn

    app = plumego_app(Path(data_dir)) if kind == "plumego" else starlette_app(Path(data_dir))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_rss_mib(pid: int) -> tuple[float, float]:
    """(current VmRSS, peak VmHWM) of a process in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def body(path: Path) -> Iterator[bytes]:
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
           f"Content-Type: application/octet-stream\r\n\r\n").encode()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def measure(kind: str, source: Path, rounds: int) -> dict[str, float]:
    import httpx

    port = free_port()
    with tempfile.TemporaryDirectory(dir=source.parent) as data_dir:
        proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port), "--dir", data_dir],
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(timeout=300) as client:
                for _ in range(200):
                    try:
                        client.post(base + "/nothing")
                        break
                    except httpx.TransportError:
                        time.sleep(0.05)
                idle_rss, _ = peak_rss_mib(proc.pid)
                size = source.stat().st_size
                multipart_len = sum(len(p) for p in body(source) if len(p) < CHUNK) + size
                ups, downs = [], []
                file_id = ""
                for i in range(rounds):
                    if kind == "plumego" and i:      # same bytes would be a dedupe hit: change one byte
                        with open(source, "r+b") as handle:
                            handle.write(bytes([i]))
                    start = time.perf_counter()
                    response = client.post(base + "/files", content=body(source), headers={
                        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                        "Content-Length": str(multipart_len)})
                    ups.append(time.perf_counter() - start)
                    assert response.status_code == 201, response.text
                    file_id = response.json()["id"]
                for _ in range(rounds):
                    start = time.perf_counter()
                    got = 0
                    with client.stream("GET", f"{base}/files/{file_id}/download") as response:
                        assert response.status_code == 200
                        for chunk in response.iter_raw(CHUNK):
                            got += len(chunk)
                    downs.append(time.perf_counter() - start)
                    assert got == size, (got, size)
                _, peak = peak_rss_mib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
    mib = size / (1 << 20)
    return {"up": mib / statistics.median(ups), "down": mib / statistics.median(downs), "idle": idle_rss,
            "peak": peak}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir")
    parser.add_argument("--sizes", default="10,50,200", help="file sizes in MiB")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.dir)
        return 0
    print(f"load average before: {os.getloadavg()}")
    print("| size | server | upload MiB/s | download MiB/s | idle RSS MiB | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(dir=ROOT / "bench") as work:
        for size_mib in (int(s) for s in args.sizes.split(",")):
            source = Path(work) / f"src-{size_mib}.bin"
            with open(source, "wb") as handle:
                for _ in range(size_mib):
                    handle.write(os.urandom(1 << 20))
            results = {kind: measure(kind, source, args.rounds) for kind in ("plumego", "starlette")}
            for kind, r in results.items():
                print(f"| {size_mib} MiB | {kind} | {r['up']:.0f} | {r['down']:.0f} | {r['idle']:.0f} | "
                      f"{r['peak']:.0f} |", flush=True)
            p, s = results["plumego"], results["starlette"]
            print(f"| {size_mib} MiB | plumego/starlette | {p['up'] / s['up']:.2f}x | {p['down'] / s['down']:.2f}x "
                  f"| | |", flush=True)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
