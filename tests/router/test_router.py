from __future__ import annotations

import json
from typing import Any

import pytest

from contract.asgi_driver import call, http_scope
from plumego.contract import (
    ASGIApp,
    JSONResponse,
    PlainTextResponse,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    route_context_from_scope,
)
from plumego.router import RouteError, RouteInfo, Router, URLBuildError


def echo(tag: str) -> Any:
    async def handler(request: Request) -> Response:
        route = request.route
        return JSONResponse(
            {"tag": tag, "params": dict(request.path_params), "pattern": route.pattern if route else None}
        )

    return handler


async def get(router: Router, path: str, method: str = "GET", **extra: Any) -> tuple[int, Any, Any]:
    res = await call(router, http_scope(method, path, **extra))
    body = json.loads(res.body) if res.body else None
    return res.status, body, res


# --- matching --------------------------------------------------------------------------------------

async def test_static_param_wildcard_precedence() -> None:
    r = Router()
    r.get("/users/me", echo("static"))
    r.get("/users/:id", echo("param"))
    r.get("/users/*rest", echo("wild"))
    assert (await get(r, "/users/me"))[1]["tag"] == "static"
    _, body, _ = await get(r, "/users/42")
    assert body == {"tag": "param", "params": {"id": "42"}, "pattern": "/users/:id"}
    _, body, _ = await get(r, "/users/42/posts/7")
    assert body["tag"] == "wild" and body["params"] == {"rest": "42/posts/7"}


async def test_backtracks_from_static_to_param_branch() -> None:
    r = Router()
    r.get("/a/b", echo("ab"))
    r.get("/a/b/c/d", echo("abcd"))
    r.get("/a/:x/c", echo("axc"))
    r.get("/a/:x/:y/e", echo("axye"))
    _, body, _ = await get(r, "/a/b/c")
    assert body["tag"] == "axc" and body["params"] == {"x": "b"}
    _, body, _ = await get(r, "/a/b/c/e")
    assert body["tag"] == "axye" and body["params"] == {"x": "b", "y": "c"}


async def test_backtracks_to_catch_all() -> None:
    r = Router()
    r.get("/f/:name/meta", echo("meta"))
    r.get("/f/*path", echo("wild"))
    _, body, _ = await get(r, "/f/x/other")
    assert body["tag"] == "wild" and body["params"] == {"path": "x/other"}


async def test_wildcard_needs_a_segment_and_empty_segments_miss() -> None:
    r = Router()
    r.get("/files/*filepath", echo("w"))
    r.get("/users/:id", echo("u"))
    assert (await get(r, "/files"))[0] == 404
    assert (await get(r, "/files/"))[0] == 404
    assert (await get(r, "/files/css/a.css"))[1]["params"] == {"filepath": "css/a.css"}
    assert (await get(r, "/users//1"))[0] == 404


async def test_trailing_and_leading_slashes() -> None:
    r = Router()
    r.get("/", echo("root"))
    r.get("/users/:id", echo("u"))
    r.get("/about", echo("about"))
    assert (await get(r, "/users/123/"))[1]["params"] == {"id": "123"}
    assert (await get(r, "//about"))[1]["tag"] == "about"
    assert (await get(r, "/about///"))[1]["tag"] == "about"
    assert (await get(r, "/"))[1]["tag"] == "root"


async def test_brace_syntax_is_an_alias() -> None:
    r = Router()
    info = r.get("/items/{item_id}/files/{path...}", echo("b"))
    assert info.path == "/items/:item_id/files/*path"
    assert (await get(r, "/items/3/files/a/b"))[1]["params"] == {"item_id": "3", "path": "a/b"}


async def test_params_are_decoded_path_values() -> None:
    r = Router()
    r.get("/n/:name", echo("n"))
    assert (await get(r, "/n/h\u00e9 llo"))[1]["params"] == {"name": "h\u00e9 llo"}


# --- methods -------------------------------------------------------------------------------------

async def test_head_falls_back_to_get_without_body() -> None:
    r = Router()
    r.get("/x", echo("x"))
    status, _, res = await get(r, "/x", "HEAD")
    assert status == 200 and res.body == b""
    assert res.header("content-length") == str(len(b'{"tag":"x","params":{},"pattern":"/x"}'))


async def test_any_is_the_last_resort() -> None:
    r = Router()
    r.any("/x", echo("any"))
    r.post("/x", echo("post"))
    assert (await get(r, "/x", "POST"))[1]["tag"] == "post"
    assert (await get(r, "/x", "DELETE"))[1]["tag"] == "any"


async def test_405_with_sorted_allow_and_envelope() -> None:
    r = Router()
    r.post("/items/:id", echo("p"))
    r.get("/items/:id", echo("g"))
    r.delete("/items/:id", echo("d"))
    status, body, res = await get(r, "/items/1", "PUT", **{"plumego.request_id": "rid-1"})
    assert status == 405
    assert res.header("allow") == "DELETE, GET, HEAD, POST"
    assert res.body == (
        b'{"error":{"code":"METHOD_NOT_ALLOWED","message":"method not allowed","category":"client_error",'
        b'"type":"method_not_allowed"},"request_id":"rid-1"}\n'
    )


async def test_404_envelope_and_405_can_be_disabled() -> None:
    r = Router(method_not_allowed=False)
    r.post("/only-post", echo("p"))
    status, _, res = await get(r, "/only-post")
    assert status == 404
    assert res.body == (
        b'{"error":{"code":"RESOURCE_NOT_FOUND","message":"not found","category":"client_error",'
        b'"type":"resource_not_found"}}\n'
    )
    assert res.header("content-type") == "application/json"


# --- registration errors -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("method", "path", "reason"),
    [
        ("", "/x", "invalid HTTP method"),
        ("GE T", "/x", "invalid HTTP method"),
        ("GET", "x", "path must start with '/'"),
        ("GET", "/a//b", "empty path segment"),
        ("GET", "/a/:", "invalid parameter name"),
        ("GET", "/a/:1x", "invalid parameter name"),
        ("GET", "/a/*rest/b", "must be the last segment"),
        ("GET", "/a/:id/:id", "duplicate parameter name"),
        ("GET", "/a b", "invalid characters"),
        ("GET", "/a/{x", "invalid characters"),
    ],
)
def test_bad_patterns(method: str, path: str, reason: str) -> None:
    with pytest.raises(RouteError, match=reason) as info:
        Router().add_route(method, path, echo("x"))
    assert str(info.value).startswith(f"router add_route {method} ")


def test_duplicates_conflicts_and_frozen() -> None:
    r = Router()
    r.get("/users/:id", echo("a"), name="user")
    with pytest.raises(RouteError, match=r"router add_route GET /users/:id: duplicate route registration"):
        r.get("/users/:id/", echo("b"))
    with pytest.raises(RouteError, match="parameter name mismatch"):
        r.get("/users/:name", echo("b"))
    with pytest.raises(RouteError, match="duplicate route name"):
        r.post("/other", echo("b"), name="user")
    r.get("/static", echo("s"))
    with pytest.raises(RouteError, match="duplicate route registration"):
        r.get("/static/", echo("s"))
    r.get("/f/*p", echo("w"))
    with pytest.raises(RouteError, match="parameter name mismatch"):
        r.get("/f/*q", echo("w"))
    # Same position, different methods: allowed.
    r.post("/users/:name", echo("c"))
    with pytest.raises(RouteError, match="handler must be callable"):
        r.get("/nope", None)  # type: ignore[arg-type]
    r.freeze()
    with pytest.raises(RouteError, match="router is frozen"):
        r.get("/late", echo("x"))


def test_group_prefix_must_start_with_slash() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        Router().group("api")


# --- groups, middleware, mounts ------------------------------------------------------------------

def tagging(tag: str) -> Any:
    def middleware(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            scope.setdefault("trail", []).append(tag)
            await app(scope, receive, send)

        return wrapped

    return middleware


async def test_groups_compose_prefixes_and_middleware_in_order() -> None:
    r = Router()
    api = r.group("/api/", tagging("api"))
    v1 = api.group("/v1", tagging("v1"))
    seen: list[list[str]] = []

    async def handler(request: Request) -> Response:
        seen.append(list(request.scope.get("trail", [])))
        return PlainTextResponse("ok")

    v1.get("/items", handler, middleware=[tagging("route")])
    v1.get("", handler)
    r.get("/plain", handler)
    for path in ("/api/v1/items", "/api/v1", "/plain"):
        assert (await call(r, http_scope("GET", path))).status == 200
    assert seen == [["api", "v1", "route"], ["api", "v1"], []]


async def test_mount_adjusts_root_path_keeps_path() -> None:
    seen: list[tuple[str, str]] = []

    async def sub(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope["root_path"], scope["path"]))
        await PlainTextResponse("sub")(scope, receive, send)

    r = Router()
    r.mount("/sub", sub)
    r.get("/sub/own", echo("own"))
    assert (await call(r, http_scope("GET", "/sub/a/b"))).body == b"sub"
    assert (await call(r, http_scope("POST", "/sub"))).body == b"sub"
    assert (await get(r, "/sub/own"))[1]["tag"] == "own"
    assert seen == [("/sub", "/sub/a/b"), ("/sub", "/sub")]


async def test_router_strips_root_path_when_matching() -> None:
    r = Router()
    r.get("/items/:id", echo("i"))
    _, body, _ = await get(r, "/prefix/items/5", root_path="/prefix")
    assert body["params"] == {"id": "5"}


async def test_route_context_in_scope() -> None:
    r = Router()
    captured: list[Any] = []

    async def handler(request: Request) -> Response:
        captured.append(route_context_from_scope(request.scope))
        return PlainTextResponse("")

    r.get("/u/:id", handler, name="user", tags=["users"])
    await call(r, http_scope("GET", "/u/1"))
    assert captured[0].pattern == "/u/:id" and captured[0].name == "user" and captured[0].tags == ("users",)


async def test_websocket_route_and_miss() -> None:
    r = Router()
    accepted: list[str] = []

    async def ws(scope: Scope, receive: Receive, send: Send) -> None:
        accepted.append(scope["path_params"]["room"])
        await send({"type": "websocket.accept"})

    r.websocket("/ws/:room", ws)
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    await r({"type": "websocket", "path": "/ws/lobby", "root_path": ""}, receive, send)
    await r({"type": "websocket", "path": "/nope", "root_path": ""}, receive, send)
    assert accepted == ["lobby"]
    # no denial-response extension: a close before accept (the server answers 403)
    assert sent == [{"type": "websocket.accept"}, {"type": "websocket.close", "code": 1008}]
    sent.clear()
    await r({"type": "websocket", "path": "/nope", "root_path": "", "extensions": {"websocket.http.response": {}}},
            receive, send)
    assert [m["type"] for m in sent] == ["websocket.http.response.start", "websocket.http.response.body"]
    assert sent[0]["status"] == 404 and b'"code":"RESOURCE_NOT_FOUND"' in sent[1]["body"]


# --- reverse URLs and listing --------------------------------------------------------------------

def test_reverse_urls_escape_values() -> None:
    r = Router()
    r.get("/users/:id/files/*path", echo("x"), name="file")
    r.get("/", echo("root"), name="root")
    assert r.url("file", id="a b/c", path="dir x/f&g.txt") == "/users/a%20b%2Fc/files/dir%20x/f&g.txt"
    assert r.url("root") == "/"
    assert r.has_route("file") and not r.has_route("nope")
    with pytest.raises(URLBuildError, match="unknown route name"):
        r.url("nope")
    with pytest.raises(URLBuildError, match="missing or empty"):
        r.url("file", id="1")
    with pytest.raises(URLBuildError, match="missing or empty"):
        r.url("file", id="", path="x")
    with pytest.raises(URLBuildError, match="unknown parameter"):
        r.url("file", id="1", path="x", extra="y")


def test_route_listing_sorted() -> None:
    r = Router()
    r.post("/b", echo("x"))
    r.get("/z", echo("x"), name="z", tags=["t"])
    r.get("/a/*rest", echo("x"))
    assert [(i.method, i.path) for i in r.routes()] == [("GET", "/a/*rest"), ("GET", "/z"), ("POST", "/b")]
    assert r.routes()[1].to_dict() == {"method": "GET", "path": "/z", "meta": {"name": "z", "tags": ["t"]}}
    assert RouteInfo("GET", "/a").to_dict() == {"method": "GET", "path": "/a", "meta": {}}
    assert r.format_routes() == "Registered Routes:\nGET    /a/*rest   [wildcard]\nGET    /z\nPOST   /b\n"
    assert r.named_routes()["z"].path == "/z"


def test_match_api_and_flat_lookup_for_many_routes() -> None:
    r = Router()
    for i in range(1000):
        r.get(f"/api/v1/res{i}/:item_id", echo("x"))
    found = r.match("GET", "/api/v1/res999/77")
    assert found is not None and found[0].path == "/api/v1/res999/:item_id" and found[1] == {"item_id": "77"}
    assert r.match("GET", "/api/v1/nope/1") is None
    assert r.allowed_methods("/api/v1/res5/1") == ["GET", "HEAD"]


async def test_rejected_route_leaves_routing_unchanged() -> None:
    r = Router()
    r.get("/a/:id/x", echo("x"))
    with pytest.raises(RouteError, match="parameter name mismatch"):
        r.get("/a/:name/y", echo("y"))
    assert (await get(r, "/a/1/y"))[0] == 404
    assert (await get(r, "/a/1/x"))[1]["params"] == {"id": "1"}
    r.get("/a/:id/y", echo("y"))
    assert (await get(r, "/a/2/y"))[1]["tag"] == "y"


def _raw(path: str) -> dict[str, Any]:
    """A scope the way uvicorn builds it: ``path`` percent-decoded, ``raw_path`` as sent."""
    from urllib.parse import unquote

    return http_scope("GET", unquote(path), raw_path=path.encode())


async def test_encoded_slash_is_not_a_separator() -> None:
    r = Router()
    r.get("/api/v1/items", echo("list"))
    r.get("/api/v1/items/:id", echo("one"))
    r.get("/files/*rest", echo("files"))
    r.freeze()
    for path in ("/api%2fv1%2fitems", "/api%2Fv1/items", "/api/v1%2fitems"):
        res = await call(r, _raw(path))
        assert res.status == 404, path
        assert json.loads(res.body)["error"]["code"] == "RESOURCE_NOT_FOUND"
    one = json.loads((await call(r, _raw("/api/v1/items/a%2Fb"))).body)
    assert one["tag"] == "one" and one["params"] == {"id": "a/b"}  # a parameter takes the segment whole
    assert json.loads((await call(r, _raw("/api/v1/items/a%20b"))).body)["params"] == {"id": "a b"}
    assert json.loads((await call(r, _raw("/files/x%2Fy/z"))).body)["params"] == {"rest": "x/y/z"}
    # 405 is computed on the same segments.
    r2 = Router()
    r2.post("/a/:id", echo("post"))
    r2.freeze()
    miss = await call(r2, {**_raw("/a/x%2fy"), "method": "GET"})
    assert miss.status == 405 and miss.header("allow") == "POST"
    assert (await call(r2, {**_raw("/a%2fx"), "method": "GET"})).status == 404


async def test_encoded_slash_reaches_mounts_by_segment() -> None:
    seen: list[str] = []

    async def sub(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])
        if scope["type"] == "http":
            await PlainTextResponse("sub")(scope, receive, send)
        else:
            await send({"type": "websocket.close", "code": 1000})

    r = Router()
    r.mount("/sub", sub)
    r.freeze()
    assert (await call(r, _raw("/sub/a%2Fb"))).body == b"sub"
    assert (await call(r, _raw("/sub%2Fa"))).status == 404
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await r({**_raw("/sub/a%2Fb"), "type": "websocket"}, receive, send)
    assert seen == ["http", "websocket"]
