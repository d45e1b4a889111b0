"""Tiny in-process ASGI driver used by the contract tests (no server, no mocks)."""

from __future__ import annotations

from typing import Any

from plumego.contract import ASGIApp, Message


def http_scope(method: str = "GET", path: str = "/", *, headers: list[tuple[bytes, bytes]] | None = None,
               query_string: bytes = b"", **extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query_string, "headers": headers or [], "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    scope.update(extra)
    return scope


class Result:
    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        start = messages[0]
        assert start["type"] == "http.response.start"
        self.status: int = start["status"]
        self.raw_headers: list[tuple[bytes, bytes]] = list(start.get("headers", []))
        self.body = b"".join(m.get("body", b"") for m in messages[1:])

    def header(self, name: str) -> str | None:
        key = name.lower().encode()
        for k, v in self.raw_headers:
            if k == key:
                return v.decode("latin-1")
        return None


async def call(app: ASGIApp, scope: dict[str, Any], body_chunks: list[bytes] | None = None) -> Result:
    chunks = list(body_chunks or [b""])
    sent: list[Message] = []

    async def receive() -> Message:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return Result(sent)
