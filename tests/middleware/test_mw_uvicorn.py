"""The middleware under a real uvicorn server: chunked uploads, streamed gzip and timeouts over sockets."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator

import httpx
import uvicorn

from plumego.contract import Receive, Scope, Send
from plumego.middleware import Chain, body_limit, compression, request_id, timeout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def upload(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":
        await asyncio.sleep(10)
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for index in range(3):
            await send({"type": "http.response.body", "body": b"line %d\n" % index * 50, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    total = 0
    while True:
        message = await receive()
        total += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = str(total).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


async def test_stack_under_uvicorn() -> None:
    app = Chain(request_id(), compression(min_size=0), body_limit(1000), timeout(0.2)).build(upload)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)

        async def chunks(count: int) -> AsyncIterator[bytes]:
            for _ in range(count):
                yield b"x" * 300

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            ok = await c.post("/up", content=chunks(3), headers={"Accept-Encoding": "identity"})
            assert ok.status_code == 200 and ok.text == "900"
            assert "content-length" not in ok.request.headers  # really chunked

            big = await c.post("/up", content=chunks(5), headers={"X-Request-ID": "up-1"})
            assert big.status_code == 413
            assert big.json()["error"]["code"] == "REQUEST_BODY_TOO_LARGE"
            assert big.json()["request_id"] == "up-1"

            declared = await c.post("/up", content=b"y" * 1001)
            assert declared.status_code == 413
            assert declared.json()["error"]["details"]["at"] == "content_length"

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            async with c.stream("GET", "/stream", headers={"Accept-Encoding": "gzip"}) as res:
                raw = b"".join([chunk async for chunk in res.aiter_raw()])
            assert res.headers["content-encoding"] == "gzip"
            assert gzip.decompress(raw) == b"".join(b"line %d\n" % i * 50 for i in range(3))

            slow = await c.get("/slow")
            assert slow.status_code == 504 and slow.json()["error"]["code"] == "TIMEOUT"
    finally:
        server.should_exit = True
        await task
