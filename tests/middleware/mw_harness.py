"""In-process ASGI driver and tiny raw ASGI apps for the middleware tests (no server, no mocks)."""

from __future__ import annotations

import json
from typing import Any

from plumego.contract import ASGIApp, Message, Receive, Scope, Send


def http_scope(
    method: str = "GET",
    path: str = "/",
    headers: list[tuple[bytes, bytes]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers or [],
        "client": ("10.0.0.9", 5000),
        "server": ("127.0.0.1", 8000),
    }
    scope.update(extra)
    return scope


class Result:
    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        starts = [m for m in messages if m["type"] == "http.response.start"]
        assert len(starts) == 1, messages
        self.status: int = starts[0]["status"]
        self.raw_headers: list[tuple[bytes, bytes]] = list(starts[0].get("headers", []))
        self.body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        self.body_messages = [m for m in messages if m["type"] == "http.response.body"]

    def header(self, name: str) -> str | None:
        values = self.headers(name)
        return values[0] if values else None

    def headers(self, name: str) -> list[str]:
        key = name.lower().encode()
        return [v.decode("latin-1") for k, v in self.raw_headers if k.lower() == key]

    def json(self) -> Any:
        return json.loads(self.body)


async def call(app: ASGIApp, scope: dict[str, Any], body_chunks: list[bytes] | None = None) -> Result:
    sent = await call_raw(app, scope, body_chunks)
    return Result(sent)


async def call_raw(app: ASGIApp, scope: dict[str, Any], body_chunks: list[bytes] | None = None) -> list[Message]:
    chunks = list(body_chunks if body_chunks is not None else [b""])
    sent: list[Message] = []

    async def receive() -> Message:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def text_app(body: bytes = b"hello", status: int = 200, content_type: bytes = b"text/plain") -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def envelope(status_line: tuple[str, str, str, str], request_id: str = "", details: str = "") -> bytes:
    """The exact bytes contract.encode_error_envelope produces for (code, message, category, type)."""
    code, message, category, type_ = status_line
    out = f'{{"error":{{"code":"{code}","message":"{message}","category":"{category}","type":"{type_}"'
    if details:
        out += f',"details":{details}'
    out += "}"
    if request_id:
        out += f',"request_id":"{request_id}"'
    return (out + "}\n").encode()
