"""The transform middleware (Go ``x/gateway/transform``): edit request and response headers, the method and the
query, rename/set/remove/modify JSON fields in request and response bodies, and override the status.

Owns :func:`transform` and the JSON field operations (dotted paths into objects: ``"user.name"``). JSON bodies
are read whole, up to ``max_body`` (a larger request answers 413; a larger response passes through unchanged).
A request body that is not JSON answers 400 and a backend answer that is not JSON answers 502, both with code
``transform_failed``. Imports the standard library, plumego.contract and this package.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from plumego.contract import (
    APIError,
    ASGIApp,
    ErrorCategory,
    ErrorResponse,
    Message,
    Middleware,
    Receive,
    Scope,
    Send,
)

from ._rewrite import HeaderList, HeaderModifier

__all__ = ["FieldOp", "TransformError", "modify_field", "remove_field", "rename_field", "rename_header",
           "set_field", "transform"]

FieldOp = Callable[[Any], Any]
CODE_TRANSFORM_FAILED = "transform_failed"


class TransformError(ValueError):
    """A field operation could not apply (the path crosses a non-object)."""


def _parent(doc: Any, path: str, create: bool) -> tuple[dict[str, Any] | None, str]:
    keys = path.split(".")
    node = doc
    for k in keys[:-1]:
        if not isinstance(node, dict):
            raise TransformError(f"{path!r}: {k!r} is not inside an object")
        if k not in node:
            if not create:
                return None, keys[-1]
            node[k] = {}
        node = node[k]
    if not isinstance(node, dict):
        raise TransformError(f"{path!r} is not inside an object")
    return node, keys[-1]


def rename_field(path: str, new_name: str) -> FieldOp:
    def op(doc: Any) -> Any:
        parent, key = _parent(doc, path, False)
        if parent is not None and key in parent:
            parent[new_name] = parent.pop(key)
        return doc
    return op


def set_field(path: str, value: Any) -> FieldOp:
    def op(doc: Any) -> Any:
        parent, key = _parent(doc, path, True)
        assert parent is not None
        parent[key] = value
        return doc
    return op


def remove_field(path: str) -> FieldOp:
    def op(doc: Any) -> Any:
        parent, key = _parent(doc, path, False)
        if parent is not None:
            parent.pop(key, None)
        return doc
    return op


def modify_field(path: str, fn: Callable[[Any], Any]) -> FieldOp:
    """Replace the field's value with ``fn(value)`` when the field exists."""
    def op(doc: Any) -> Any:
        parent, key = _parent(doc, path, False)
        if parent is not None and key in parent:
            parent[key] = fn(parent[key])
        return doc
    return op


def rename_header(old: str, new: str) -> HeaderModifier:
    def modify(headers: HeaderList) -> None:
        values = headers.get_all(old)
        headers.delete(old)
        for v in values:
            headers.add(new, v)
    return modify


def _is_json(headers: HeaderList) -> bool:
    ctype = (headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json")


def _apply(ops: Sequence[FieldOp], body: bytes) -> bytes:
    doc = json.loads(body)
    for op in ops:
        doc = op(doc)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _error(status: int, message: str) -> APIError:
    return APIError(status=status, code=CODE_TRANSFORM_FAILED, message=message,
                    category=ErrorCategory.CLIENT if status < 500 else ErrorCategory.SERVER)


def transform(*, request_headers: Sequence[HeaderModifier] = (), response_headers: Sequence[HeaderModifier] = (),
              method: str | None = None, add_query: Mapping[str, str] | None = None,
              remove_query: Iterable[str] = (), request_json: Sequence[FieldOp] = (),
              response_json: Sequence[FieldOp] = (), status: int | None = None,
              max_body: int = 1 << 20) -> Middleware:
    drop_query = set(remove_query)
    extra_query = dict(add_query or {})
    new_method = method.upper() if method else None

    def wrap(app: ASGIApp) -> ASGIApp:
        async def transformed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            scope = dict(scope)
            headers = HeaderList((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ()))
            for modify in request_headers:
                modify(headers)
            if new_method:
                scope["method"] = new_method
            if drop_query or extra_query:
                pairs = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                                      keep_blank_values=True) if k not in drop_query]
                pairs += list(extra_query.items())
                scope["query_string"] = urlencode(pairs).encode("latin-1")
            if request_json and _is_json(headers):
                body = bytearray()
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    body += message.get("body", b"")
                    if len(body) > max_body:
                        await ErrorResponse(APIError(status=413, message="request body too large to transform",
                                                     code="REQUEST_BODY_TOO_LARGE"))(scope, receive, send)
                        return
                    if not message.get("more_body", False):
                        break
                try:
                    new_body = _apply(request_json, bytes(body))
                except (ValueError, TransformError) as exc:
                    await ErrorResponse(_error(400, f"request body: {exc}"))(scope, receive, send)
                    return
                headers.delete("transfer-encoding")
                headers.set("content-length", str(len(new_body)))
                sent = False

                async def replay() -> Message:
                    nonlocal sent
                    if sent:
                        return await receive()
                    sent = True
                    return {"type": "http.request", "body": new_body, "more_body": False}

                receive = replay
            scope["headers"] = headers.raw()
            await app(scope, receive, _response_editor(scope, send))

        def _response_editor(scope: Scope, send: Send) -> Send:
            held: Message | None = None
            out_headers = HeaderList()
            parts: list[bytes] = []
            size = 0
            buffering = False

            async def edit(message: Message) -> None:
                nonlocal held, out_headers, size, buffering
                if message["type"] == "http.response.start":
                    out_headers = HeaderList((k.decode("latin-1"), v.decode("latin-1"))
                                             for k, v in message.get("headers", ()))
                    for modify in response_headers:
                        modify(out_headers)
                    message = {**message, "headers": out_headers.raw(),
                               "status": status if status is not None else message["status"]}
                    buffering = bool(response_json) and _is_json(out_headers) and \
                        not out_headers.get("content-encoding") and scope.get("method") != "HEAD"
                    if buffering:
                        held = message
                        return
                    await send(message)
                    return
                if message["type"] != "http.response.body" or not buffering or held is None:
                    await send(message)
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                parts.append(chunk)
                more = message.get("more_body", False)
                if size > max_body:          # too big to transform: let it through as it came
                    buffering = False
                    await send(held)
                    await send({"type": "http.response.body", "body": b"".join(parts), "more_body": more})
                    return
                if more:
                    return
                try:
                    body = _apply(response_json, b"".join(parts))
                except (ValueError, TransformError) as exc:
                    await ErrorResponse(_error(502, f"backend response: {exc}"))(scope, _no_receive, send)
                    return
                out_headers.delete("transfer-encoding")
                out_headers.set("content-length", str(len(body)))
                await send({**held, "headers": out_headers.raw()})
                await send({"type": "http.response.body", "body": body, "more_body": False})

            return edit

        return transformed

    return wrap


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
