"""The response cache and the transform middleware over a plain ASGI app (no network needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from plumego.contract import Receive, Scope, Send
from plumego.x.gateway import (
    MemoryCacheStore,
    cache,
    composite_key,
    modify_field,
    no_cache_key,
    path_pattern_key,
    query_param_key,
    remove_field,
    rename_field,
    set_field,
    set_header,
    tenant_aware_key,
    transform,
    url_only_key,
    user_aware_key,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Origin:
    """Counts calls; answers with the configured status, headers and body, in two chunks."""

    def __init__(self, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None,
                 body: bytes = b'{"n":1}') -> None:
        self.calls = 0
        self.status, self.headers, self.body = status, headers or [], body
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.seen.append({"method": scope["method"], "query": scope["query_string"], "body": body,
                          "headers": {k.decode(): v.decode() for k, v in scope["headers"]}})
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", b"application/json"), *self.headers]})
        half = len(self.body) // 2
        await send({"type": "http.response.body", "body": self.body[:half], "more_body": True})
        await send({"type": "http.response.body", "body": self.body[half:]})


async def call(app: Any, path: str = "/items", method: str = "GET", headers: dict[str, str] | None = None,
               query: str = "", body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(),
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    await app(scope, receive, send)
    start = sent[0]
    return (start["status"], {k.decode(): v.decode() for k, v in start["headers"]},
            b"".join(m.get("body", b"") for m in sent[1:]))


async def test_miss_hit_etag_304_and_ttl() -> None:
    clock = Clock()
    origin = Origin(headers=[(b"cache-control", b"max-age=60")])
    app = cache(clock=clock)(origin)
    status, headers, body = await call(app)
    assert (status, headers["x-cache"], body) == (200, "MISS", b'{"n":1}')
    status, headers, body = await call(app)
    assert (status, headers["x-cache"], body, origin.calls) == (200, "HIT", b'{"n":1}', 1)
    etag = headers["etag"]
    status, headers, body = await call(app, headers={"If-None-Match": f'"other", {etag}'})
    assert status == 304 and body == b"" and headers["etag"] == etag and headers["x-cache"] == "HIT"
    clock.now += 61                                        # max-age over: fetched again
    assert (await call(app))[1]["x-cache"] == "MISS" and origin.calls == 2


async def test_what_is_never_cached() -> None:
    for response_headers in ([(b"cache-control", b"no-store")], [(b"cache-control", b"private")],
                             [(b"set-cookie", b"a=b")], [(b"vary", b"*")]):
        origin = Origin(headers=response_headers)
        app = cache()(origin)
        await call(app)
        assert (await call(app))[1]["x-cache"] == "MISS", response_headers
    origin = Origin(status=500)
    app = cache()(origin)
    await call(app)
    await call(app)
    assert origin.calls == 2
    origin = Origin()
    app = cache()(origin)
    await call(app, method="POST")
    await call(app, method="POST")
    await call(app, headers={"Authorization": "Bearer a"})
    await call(app, headers={"Authorization": "Bearer a"})
    await call(app, headers={"Cache-Control": "no-store"})
    assert origin.calls == 5
    big = Origin(body=b"x" * 100)
    app = cache(max_size=50)(big)
    await call(app)
    await call(app)
    assert big.calls == 2


async def test_request_no_cache_refreshes_and_lru_bound() -> None:
    origin = Origin()
    store = MemoryCacheStore(max_entries=2)
    app = cache(store=store)(origin)
    await call(app)
    await call(app, headers={"Cache-Control": "no-cache"})
    assert origin.calls == 2
    await call(app, path="/b")
    await call(app, path="/c")
    assert len(store) == 2


async def test_key_strategies() -> None:
    origin = Origin()
    app = cache(key=query_param_key(ignore=["utm_source"]))(origin)
    await call(app, query="b=2&a=1&utm_source=x")
    assert (await call(app, query="a=1&b=2"))[1]["x-cache"] == "HIT"
    origin = Origin()
    app = cache(key=user_aware_key())(origin)
    await call(app, headers={"Authorization": "Bearer a"})
    assert (await call(app, headers={"Authorization": "Bearer a"}))[1]["x-cache"] == "HIT"
    assert (await call(app, headers={"Authorization": "Bearer b"}))[1]["x-cache"] == "MISS"
    origin = Origin()
    app = cache(key=composite_key(url_only_key(), tenant_aware_key()))(origin)
    await call(app, headers={"X-Tenant-ID": "t1"})
    assert (await call(app, headers={"X-Tenant-ID": "t2"}))[1]["x-cache"] == "MISS"
    assert (await call(app, headers={"X-Tenant-ID": "t1"}))[1]["x-cache"] == "HIT"
    origin = Origin()
    app = cache(key=path_pattern_key([r"^/static/"]))(origin)
    await call(app, path="/static/a.js")
    await call(app, path="/api/a")
    assert (await call(app, path="/static/a.js"))[1]["x-cache"] == "HIT"
    assert "x-cache" not in (await call(app, path="/api/a"))[1]
    app = cache(key=no_cache_key())(Origin())
    assert "x-cache" not in (await call(app))[1]


async def test_transform_request_and_response() -> None:
    origin = Origin(body=b'{"user":{"name":"ada","pw":"x"},"id":1}')
    app = transform(request_headers=[set_header("X-From", "gw")], method="PUT", add_query={"v": "2"},
                    remove_query=["debug"], request_json=[rename_field("name", "full_name"), set_field("a.b", 1)],
                    response_json=[remove_field("user.pw"), modify_field("id", lambda v: v * 10)],
                    response_headers=[set_header("X-T", "1")], status=201)(origin)
    status, headers, body = await call(app, method="POST", query="debug=1&q=x", body=b'{"name":"ada"}',
                                       headers={"Content-Type": "application/json", "Content-Length": "14"})
    seen = origin.seen[0]
    assert seen["method"] == "PUT" and seen["query"] == b"q=x&v=2" and seen["headers"]["x-from"] == "gw"
    assert json.loads(seen["body"]) == {"full_name": "ada", "a": {"b": 1}}
    assert seen["headers"]["content-length"] == str(len(seen["body"]))
    assert status == 201 and headers["x-t"] == "1"
    assert json.loads(body) == {"user": {"name": "ada"}, "id": 10}
    assert headers["content-length"] == str(len(body))


async def test_transform_bad_input() -> None:
    app = transform(request_json=[set_field("a", 1)])(Origin())
    status, _, body = await call(app, method="POST", body=b"{not json", headers={"Content-Type": "application/json"})
    assert status == 400 and json.loads(body)["error"]["code"] == "transform_failed"
    status, _, body = await call(app, method="POST", body=b"[1]", headers={"Content-Type": "application/json"})
    assert status == 400
    app = transform(request_json=[set_field("a", 1)], max_body=4)(Origin())
    status, _, _ = await call(app, method="POST", body=b'{"a": 22}', headers={"Content-Type": "application/json"})
    assert status == 413
    app = transform(response_json=[set_field("a", 1)])(Origin(body=b"<html>"))
    status, _, body = await call(app)
    assert status == 502 and json.loads(body)["error"]["code"] == "transform_failed"
    app = transform(response_json=[set_field("a", 1)], max_body=3)(Origin(body=b'{"big": true}'))
    assert (await call(app))[2] == b'{"big": true}'          # too big to transform: passed through


def test_store_validation() -> None:
    with pytest.raises(ValueError):
        MemoryCacheStore(0)
