"""``dial``: a websocket client on the ``websockets`` library (Go's ``Dial``): ws/wss/http/https URLs, extra
headers, a bearer token, the room and its password, subprotocols; a refused handshake raises :class:`DialError`
with the server's status and ``WS_*`` code.

Install with ``pip install 'plumego[websocket]'``. Imports the standard library, websockets and this package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

try:
    from websockets.asyncio.client import ClientConnection, connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.typing import Subprotocol
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("plumego.x.websocket.dial needs websockets: pip install 'plumego[websocket]'") from exc

from ._conn import ConnClosed

__all__ = ["ClientConn", "DialError", "dial"]


class DialError(Exception):
    """The server refused the upgrade: ``status`` and the envelope's ``code`` (``""`` without one)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"websocket handshake refused: {status} {code} {message}".strip())
        self.status = status
        self.code = code
        self.message = message


class ClientConn:
    """A dialled connection; ``async with`` closes it."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    async def send_text(self, text: str) -> None:
        await self.ws.send(text)

    async def send_bytes(self, data: bytes) -> None:
        await self.ws.send(data)

    async def send_json(self, value: Any) -> None:
        await self.ws.send(json.dumps(value, separators=(",", ":")))

    async def receive(self) -> str | bytes:
        """The next message; a close raises :class:`ConnClosed` with the server's code."""
        try:
            return await self.ws.recv()
        except ConnectionClosed as exc:
            frame = exc.rcvd
            raise ConnClosed(frame.code if frame else 1006, frame.reason if frame else "") from None

    async def receive_json(self) -> Any:
        return json.loads(await self.receive())

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)

    async def __aenter__(self) -> ClientConn:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


def _ws_url(url: str, room: str | None) -> str:
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(f"dial: unsupported URL scheme {parts.scheme!r} (ws, wss, http or https)")
    query = parts.query
    if room is not None:
        query = (query + "&" if query else "") + urlencode({"room": room})
    return urlunsplit((scheme, parts.netloc, parts.path or "/", query, ""))


async def dial(url: str, *, token: str | None = None, room: str | None = None, room_password: str | None = None,
               headers: Mapping[str, str] | None = None, subprotocols: Sequence[str] = (),
               origin: str | None = None, max_size: int | None = 16 << 20, open_timeout: float = 10.0,
               ping_interval: float | None = 20.0, ping_timeout: float | None = 30.0) -> ClientConn:
    """Open a websocket to ``url`` (``ws``/``wss``/``http``/``https``)."""
    extra = dict(headers or {})
    if token:
        extra["Authorization"] = f"Bearer {token}"
    if room_password is not None:
        extra["X-WebSocket-Room-Password"] = room_password
    options: dict[str, Any] = {}
    if origin is not None:
        options["origin"] = origin
    try:
        ws = await connect(_ws_url(url, room), additional_headers=extra,
                           subprotocols=[Subprotocol(p) for p in subprotocols] or None, max_size=max_size,
                           open_timeout=open_timeout, ping_interval=ping_interval, ping_timeout=ping_timeout,
                           **options)
    except InvalidStatus as exc:
        response = exc.response
        code = message = ""
        try:
            envelope = json.loads(response.body or b"")
            code, message = envelope["error"]["code"], envelope["error"]["message"]
        except (ValueError, KeyError, TypeError):
            pass
        raise DialError(response.status_code, code, message) from None
    return ClientConn(ws)
