"""Websocket proxying through uvicorn(gateway) to a uvicorn websocket backend, with the websockets client."""

from __future__ import annotations

from typing import Any

import pytest

from plumego.x.gateway import Gateway, GatewayConfig, strip_prefix

from .conftest import free_port_url, serve_asgi

websockets = pytest.importorskip("websockets")
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402


async def ws_backend(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["type"] != "websocket":
        return
    await receive()
    if scope["path"] == "/deny":
        await send({"type": "websocket.close", "code": 1008})
        return
    protocols = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": protocols[0] if protocols else None})
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    await send({"type": "websocket.send", "text": f"hello {scope['path']} {headers.get('x-forwarded-for')}"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") == "bye":
            await send({"type": "websocket.close", "code": 4001, "reason": "asked"})
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": "echo:" + message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})


async def test_websocket_tunnel_text_binary_subprotocol_and_close_code() -> None:
    async with serve_asgi(ws_backend) as backend_url:
        gateway = Gateway(GatewayConfig(targets=[backend_url], path_rewrite=strip_prefix("/ws")))
        async with serve_asgi(gateway) as url:
            ws_url = url.replace("http://", "ws://") + "/ws/room/1"
            async with connect(ws_url, subprotocols=["chat.v1"]) as ws:    # type: ignore[list-item]
                assert ws.subprotocol == "chat.v1"
                assert await ws.recv() == "hello /room/1 127.0.0.1"
                await ws.send("hi")
                assert await ws.recv() == "echo:hi"
                await ws.send(b"\x01\x02\x03")
                assert await ws.recv() == b"\x03\x02\x01"
                await ws.send("bye")
                with pytest.raises(ConnectionClosed):
                    await ws.recv()
                assert ws.close_code == 4001 and ws.close_reason == "asked"
            with pytest.raises(InvalidStatus) as refused:
                await connect(url.replace("http://", "ws://") + "/ws/deny")
            assert refused.value.response.status_code == 403
        await gateway.stop()


async def test_websocket_backend_down_is_refused() -> None:
    gateway = Gateway(GatewayConfig(targets=[free_port_url()], retry_count=0))
    async with serve_asgi(gateway) as url:
        with pytest.raises(InvalidStatus) as refused:
            await connect(url.replace("http://", "ws://") + "/x")
        assert refused.value.response.status_code in (403, 502)
    await gateway.stop()
