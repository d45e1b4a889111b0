"""Websocket proxying: a websocket scope is tunnelled message by message to the chosen backend, opened with the
``websockets`` client (Go hijacks the connection and copies raw bytes; ASGI hands us messages, so we relay
messages, keeping text/binary, the subprotocol and the close code).

A backend that refuses or cannot be reached answers the handshake with 502/503 (as an HTTP response when the
server supports the ASGI websocket denial extension, else a 403 close). Imports the standard library,
websockets, plumego.contract and this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from plumego.contract import APIError, ErrorCategory, ErrorCode, Receive, Scope, Send, encode_error_envelope

try:
    from websockets.asyncio.client import ClientConnection, connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("websocket proxying needs websockets: pip install 'plumego[gateway]'") from exc

if TYPE_CHECKING:
    from ._proxy import Gateway

__all__ = ["proxy_websocket"]

_log = logging.getLogger("plumego.x.gateway")
# The websockets client writes its own handshake headers; the client's must not be copied over them.
_HANDSHAKE = {"host", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
              "sec-websocket-accept", "sec-websocket-protocol", "content-length"}


async def _deny(scope: Scope, send: Send, status: int, message: str) -> None:
    _log.warning("gateway websocket %s refused: %s", scope.get("path"), message)
    if "websocket.http.response" in scope.get("extensions", {}):
        code = ErrorCode.BAD_GATEWAY if status == 502 else ErrorCode.SERVICE_UNAVAILABLE
        body = encode_error_envelope(APIError(status=status, code=code, message=message,
                                              category=ErrorCategory.SERVER), "")
        await send({"type": "websocket.http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1011})


async def proxy_websocket(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    first = await receive()
    if first["type"] != "websocket.connect":
        return
    tried: set[str] = set()
    upstream: ClientConnection | None = None
    backend = None
    ticket: int | None = None
    for _ in range(gateway.config.retry_count + 1):
        try:
            backend, ticket = gateway._pick(scope, tried)
        except Exception:
            break
        tried.add(backend.url)
        scheme = "wss" if backend.scheme == "https" else "ws"
        query = scope.get("query_string", b"").decode("latin-1")
        url = f"{scheme}://{backend.netloc}{backend.base_path}{gateway.upstream_path(scope)}"
        url += f"?{query}" if query else ""
        headers = [(k, v) for k, v in gateway.request_headers(scope, backend) if k not in _HANDSHAKE]
        try:
            upstream = await connect(url, additional_headers=headers, subprotocols=scope.get("subprotocols") or None,
                                     open_timeout=gateway.config.timeout, max_size=None, compression=None,
                                     user_agent_header=None, ping_interval=None)
            break
        except InvalidStatus as exc:   # the backend answered, and said no: pass its status on
            gateway._record(backend, ticket, exc.response.status_code < 500)
            await _deny(scope, send, exc.response.status_code if exc.response.status_code >= 400 else 502,
                        f"backend refused the websocket with {exc.response.status_code}")
            return
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            gateway._passive(backend, False)
            gateway._record(backend, ticket, False)
            _log.warning("gateway websocket via %s failed: %r", backend.url, exc)
    if upstream is None or backend is None:
        await _deny(scope, send, 502 if tried else 503, "no backend accepted the websocket")
        return
    gateway._passive(backend, True)
    backend.active += 1
    try:
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
        await _pump(upstream, receive, send)
        gateway._record(backend, ticket, True)
    finally:
        backend.active -= 1
        await upstream.close()


async def _pump(upstream: ClientConnection, receive: Receive, send: Send) -> None:
    async def client_to_backend() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(code=int(message.get("code", 1000)))
                return
            if message["type"] == "websocket.receive":
                data: Any = message.get("text") if message.get("text") is not None else message.get("bytes", b"")
                await upstream.send(data)

    async def backend_to_client() -> None:
        try:
            async for data in upstream:
                if isinstance(data, str):
                    await send({"type": "websocket.send", "text": data})
                else:
                    await send({"type": "websocket.send", "bytes": data})
        except ConnectionClosed:
            pass
        rcvd = upstream.close_code
        code = rcvd if rcvd is not None and rcvd not in (1005, 1006, 1015) else 1011 if rcvd == 1006 else 1000
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": code, "reason": upstream.close_reason or ""})

    tasks = [asyncio.create_task(client_to_backend()), asyncio.create_task(backend_to_client())]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                await task
    finally:
        for task in tasks:
            task.cancel()
