"""securityheaders: policy headers on every response, HSTS only over HTTPS, the app's own values win."""

from __future__ import annotations

import httpx
import pytest

from plumego.contract import ASGIApp, Receive, Request, Response, Scope, Send
from plumego.core import App
from plumego.middleware import security_headers
from plumego.security import HSTS, HeaderPolicy, InvalidPolicyError, strict_csp, strict_policy

from mw_harness import call, http_scope, text_app

STRICT_EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "geolocation=(), camera=(), microphone=()",
    "content-security-policy": strict_csp(),
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
}
HSTS_VALUE = "max-age=31536000; includeSubDomains; preload"


async def test_default_policy_exact_headers_over_http() -> None:
    res = await call(security_headers()(text_app()), http_scope())
    assert res.status == 200 and res.body == b"hello"
    added = [(k.decode(), v.decode()) for k, v in res.raw_headers[2:]]
    assert added == [
        ("x-frame-options", "SAMEORIGIN"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
    ]


async def test_strict_policy_over_http_has_no_hsts() -> None:
    res = await call(security_headers(strict_policy())(text_app()), http_scope())
    for name, value in STRICT_EXPECTED.items():
        assert res.headers(name) == [value]
    assert res.header("strict-transport-security") is None


async def test_strict_policy_over_https_scheme_adds_hsts() -> None:
    res = await call(security_headers(strict_policy())(text_app()), http_scope(scheme="https"))
    assert res.headers("strict-transport-security") == [HSTS_VALUE]


@pytest.mark.parametrize(
    ("headers", "trusted", "expect_hsts"),
    [
        ([(b"x-forwarded-proto", b"https")], True, True),
        ([(b"x-forwarded-proto", b"https")], False, False),  # untrusted proxy headers are ignored
        ([(b"x-forwarded-proto", b"https, http")], True, False),  # every hop must be https
        ([(b"forwarded", b'for=1.2.3.4;proto="https"')], True, True),
        ([(b"forwarded", b"proto=http")], True, False),
        ([], True, False),
    ],
)
async def test_hsts_behind_a_proxy(headers: list[tuple[bytes, bytes]], trusted: bool, expect_hsts: bool) -> None:
    mw = security_headers(strict_policy(), trust_forwarded=trusted)
    res = await call(mw(text_app()), http_scope(headers=headers))
    assert (res.header("strict-transport-security") == HSTS_VALUE) is expect_hsts
    assert res.header("x-frame-options") == "DENY"


async def test_app_value_wins_and_is_not_duplicated() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"X-Frame-Options", b"ALLOW-FROM https://a.example"), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    res = await call(security_headers()(app), http_scope())
    assert res.status == 201
    assert res.headers("x-frame-options") == ["ALLOW-FROM https://a.example"]
    assert res.headers("x-content-type-options") == ["nosniff"]


async def test_additional_headers_and_custom_hsts() -> None:
    policy = HeaderPolicy(hsts=HSTS(max_age=60, include_subdomains=False), additional={"X-Robots-Tag": "noindex"})
    res = await call(security_headers(policy)(text_app()), http_scope(scheme="https"))
    assert res.header("strict-transport-security") == "max-age=60"
    assert res.header("x-robots-tag") == "noindex"
    assert res.header("x-frame-options") is None


def test_invalid_policy_rejected_at_construction() -> None:
    with pytest.raises(InvalidPolicyError):
        security_headers(HeaderPolicy(frame_options="ALLOWALL"))
    with pytest.raises(InvalidPolicyError):
        security_headers(HeaderPolicy(additional={"X-Bad": "a\r\nSet-Cookie: x=1"}))


async def test_empty_policy_is_a_passthrough() -> None:
    inner = text_app()
    assert security_headers(HeaderPolicy())(inner) is inner


async def test_websocket_scope_passes_through() -> None:
    seen: list[str] = []

    async def ws_app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    wrapped: ASGIApp = security_headers()(ws_app)

    async def receive() -> dict[str, object]:
        return {"type": "websocket.connect"}

    async def send(message: object) -> None:
        raise AssertionError("nothing should be sent")

    await wrapped({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert seen == ["websocket"]


async def test_with_app_covers_routed_404_and_errors() -> None:
    app = App()
    app.use(security_headers(strict_policy()))

    async def ok(request: Request) -> Response:
        return Response(b"ok")

    app.get("/ok", ok)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as client:
        res = await client.get("/ok")
        missing = await client.get("/missing")
    assert res.status_code == 200 and res.text == "ok"
    assert res.headers["strict-transport-security"] == HSTS_VALUE
    assert res.headers["content-security-policy"] == strict_csp()
    assert missing.status_code == 404
    assert missing.headers["x-frame-options"] == "DENY"
