"""cors middleware: preflight answers, simple responses, credentials, Vary, and pass-through cases."""

from __future__ import annotations

from mw_harness import call, http_scope, text_app

from plumego.contract import Receive, Scope, Send
from plumego.middleware import cors


def preflight(origin: bytes, method: bytes = b"PUT", headers: bytes | None = None) -> dict[str, object]:
    hs = [(b"origin", origin), (b"access-control-request-method", method)]
    if headers is not None:
        hs.append((b"access-control-request-headers", headers))
    return http_scope("OPTIONS", "/items", headers=hs)


async def test_no_origin_passes_through_untouched() -> None:
    res = await call(cors()(text_app()), http_scope())
    assert res.raw_headers == [(b"content-type", b"text/plain"), (b"content-length", b"5")]


async def test_default_allows_any_origin_with_star() -> None:
    res = await call(cors()(text_app()), http_scope(headers=[(b"origin", b"https://a.example")]))
    assert res.header("access-control-allow-origin") == "*"
    assert res.header("vary") is None
    assert res.body == b"hello"


async def test_preflight_allowed() -> None:
    app = cors(allowed_origins=["https://a.example"], max_age=600, allow_credentials=True)(text_app())
    res = await call(app, preflight(b"https://a.example", b"PUT", b"Content-Type, Authorization"))
    assert res.status == 204 and res.body == b""
    assert res.header("vary") == "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    assert res.header("access-control-allow-origin") == "https://a.example"
    assert res.header("access-control-allow-credentials") == "true"
    assert res.header("access-control-allow-methods") == "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    assert res.header("access-control-allow-headers") == "Content-Type, Authorization"
    assert res.header("access-control-max-age") == "600"


async def test_preflight_without_requested_headers_lists_allowed_ones() -> None:
    res = await call(cors()(text_app()), preflight(b"https://x.example", b"get"))
    assert res.status == 204
    assert res.header("access-control-allow-headers") == (
        "Accept, Accept-Language, Content-Language, Content-Type, Authorization"
    )
    assert res.header("access-control-max-age") is None


async def test_preflight_with_disallowed_parts_goes_to_app_without_cors_headers() -> None:
    app = cors(allowed_origins=["https://a.example"], allowed_methods=["GET"])(text_app(status=405))
    for scope in (
        preflight(b"https://evil.example", b"GET"),
        preflight(b"https://a.example", b"DELETE"),
        preflight(b"https://a.example", b"GET", b"X-Custom"),
    ):
        res = await call(app, scope)
        assert res.status == 405
        assert not [k for k, _ in res.raw_headers if k.startswith(b"access-control-")]
        assert res.header("vary") == "Origin"


async def test_any_header_allowed_with_star() -> None:
    app = cors(allowed_headers=["*"])(text_app())
    res = await call(app, preflight(b"https://x.example", b"POST", b"X-Anything"))
    assert res.status == 204 and res.header("access-control-allow-headers") == "X-Anything"


async def test_simple_request_with_list_echoes_origin_and_merges_vary() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"vary", b"Accept-Encoding"), (b"access-control-allow-origin", b"bogus")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})

    mw = cors(allowed_origins=["https://A.example/"], expose_headers=["X-Request-ID", "X-Span-ID"])
    res = await call(mw(app), http_scope(headers=[(b"origin", b"https://a.example")]))
    assert res.headers("access-control-allow-origin") == ["https://a.example"]
    assert res.header("access-control-expose-headers") == "X-Request-ID, X-Span-ID"
    assert res.header("access-control-allow-credentials") is None
    assert res.headers("vary") == ["Accept-Encoding, Origin"]


async def test_star_with_credentials_echoes_origin() -> None:
    res = await call(
        cors(allow_credentials=True)(text_app()), http_scope(headers=[(b"origin", b"https://b.example")])
    )
    assert res.header("access-control-allow-origin") == "https://b.example"
    assert res.header("access-control-allow-credentials") == "true"
    assert res.header("vary") == "Origin"


async def test_disallowed_origin_simple_request_gets_no_cors_headers() -> None:
    app = cors(allowed_origins=["https://a.example"])(text_app())
    res = await call(app, http_scope(headers=[(b"origin", b"https://evil.example")]))
    assert res.status == 200 and res.body == b"hello"
    assert res.header("access-control-allow-origin") is None
    assert res.header("vary") == "Origin"


async def test_options_without_request_method_is_not_a_preflight() -> None:
    app = cors()(text_app(b"opts"))
    res = await call(app, http_scope("OPTIONS", headers=[(b"origin", b"https://a.example")]))
    assert res.status == 200 and res.body == b"opts"
    assert res.header("access-control-allow-origin") == "*"
