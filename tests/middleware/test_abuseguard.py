"""abuseguard: per-client token buckets, X-RateLimit-* headers, 429 envelopes, proxy keys and exempt paths."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import httpx
import pytest

from plumego.contract import Receive, Request, Response, Scope, Send
from plumego.core import App
from plumego.middleware import UNKNOWN_CLIENT_KEY, abuse_guard, request_id
from plumego.security import AbuseGuardConfig, TokenBucketLimiter

from mw_harness import call, http_scope, text_app


class FrozenClock:
    """Monotonic clock the test advances by hand, so buckets never refill behind the test's back."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(rate: float = 1.0, capacity: float = 2.0, clock: FrozenClock | None = None) -> TokenBucketLimiter:
    return TokenBucketLimiter(AbuseGuardConfig(rate=rate, capacity=capacity), clock=clock or FrozenClock())


def peer(ip: str, **extra: Any) -> dict[str, Any]:
    return http_scope(client=(ip, 40000), **extra)


async def test_allowed_responses_carry_rate_limit_headers_then_429() -> None:
    app = abuse_guard(limiter(rate=1.0, capacity=2.0))(text_app())
    before = time.time()
    first = await call(app, peer("198.51.100.1"))
    second = await call(app, peer("198.51.100.1"))
    after = time.time()
    assert first.status == 200 and first.body == b"hello"
    assert first.header("x-ratelimit-limit") == "2"
    assert first.header("x-ratelimit-remaining") == "1"
    assert second.header("x-ratelimit-remaining") == "0"
    # one token used -> full again in 1 s; two used -> 2 s (unix seconds, rounded up)
    assert math.ceil(before + 1) <= int(first.header("x-ratelimit-reset") or 0) <= math.ceil(after + 1)
    assert math.ceil(before + 2) <= int(second.header("x-ratelimit-reset") or 0) <= math.ceil(after + 2)

    denied = await call(app, peer("198.51.100.1"))
    assert denied.status == 429
    assert denied.header("content-type") == "application/json"
    assert denied.header("retry-after") == "1"
    assert denied.header("x-ratelimit-limit") == "2"
    assert denied.header("x-ratelimit-remaining") == "0"
    reset_at = int(denied.header("x-ratelimit-reset") or 0)
    body = denied.json()
    assert body == {
        "error": {
            "code": "RATE_LIMITED",
            "message": "too many requests",
            "category": "rate_limit_error",
            "type": "rate_limited",
            "details": {"limit": 2, "remaining": 0, "retry_after": 1.0, "reset_at": reset_at},
        }
    }
    assert int(denied.header("content-length") or 0) == len(denied.body)


@pytest.mark.parametrize(("rate", "retry_after", "header"), [(0.5, 2.0, "2"), (3.0, 0.333, "1"), (0.4, 2.5, "3")])
async def test_retry_after_is_whole_seconds_rounded_up(rate: float, retry_after: float, header: str) -> None:
    app = abuse_guard(limiter(rate=rate, capacity=1.0))(text_app())
    assert (await call(app, peer("192.0.2.1"))).status == 200
    denied = await call(app, peer("192.0.2.1"))
    assert denied.status == 429
    assert denied.header("retry-after") == header
    assert denied.json()["error"]["details"]["retry_after"] == retry_after


async def test_buckets_refill_with_time() -> None:
    clock = FrozenClock()
    app = abuse_guard(limiter(rate=1.0, capacity=1.0, clock=clock))(text_app())
    assert (await call(app, peer("192.0.2.2"))).status == 200
    assert (await call(app, peer("192.0.2.2"))).status == 429
    clock.now += 1.0
    assert (await call(app, peer("192.0.2.2"))).status == 200


async def test_each_client_has_its_own_bucket() -> None:
    app = abuse_guard(limiter(capacity=1.0))(text_app())
    assert (await call(app, peer("192.0.2.10"))).status == 200
    assert (await call(app, peer("192.0.2.10"))).status == 429
    assert (await call(app, peer("192.0.2.11"))).status == 200


async def test_forwarded_for_is_ignored_without_a_trusted_header() -> None:
    app = abuse_guard(limiter(capacity=1.0))(text_app())
    spoof = [(b"x-forwarded-for", b"203.0.113.99")]
    assert (await call(app, peer("192.0.2.20", headers=spoof))).status == 200
    other = [(b"x-forwarded-for", b"203.0.113.100")]
    assert (await call(app, peer("192.0.2.20", headers=other))).status == 429  # same peer, same bucket


async def test_trusted_proxy_header_uses_the_rightmost_untrusted_entry() -> None:
    guard = abuse_guard(limiter(capacity=1.0), trusted_proxy_header="X-Forwarded-For", trusted_proxies=["10.0.0.0/8"])
    app = guard(text_app())
    # The client claims 1.1.1.1; our proxies (10.x) appended the real address 203.0.113.7.
    claimed = [(b"x-forwarded-for", b"1.1.1.1, 203.0.113.7, 10.0.0.5")]
    assert (await call(app, peer("10.0.0.9", headers=claimed))).status == 200
    again = [(b"x-forwarded-for", b"9.9.9.9, 203.0.113.7")]
    assert (await call(app, peer("10.0.0.9", headers=again))).status == 429  # same real client
    fresh = [(b"x-forwarded-for", b"203.0.113.8")]
    assert (await call(app, peer("10.0.0.9", headers=fresh))).status == 200


async def test_proxy_header_from_an_untrusted_peer_is_ignored() -> None:
    guard = abuse_guard(limiter(capacity=1.0), trusted_proxy_header="X-Real-IP", trusted_proxies=["10.0.0.0/8"])
    app = guard(text_app())
    assert (await call(app, peer("198.51.100.50", headers=[(b"x-real-ip", b"203.0.113.1")]))).status == 200
    # Direct client rotating X-Real-IP still lands in its peer bucket.
    assert (await call(app, peer("198.51.100.50", headers=[(b"x-real-ip", b"203.0.113.2")]))).status == 429


async def test_trusted_header_without_proxy_list_trusts_the_rightmost_entry() -> None:
    app = abuse_guard(limiter(capacity=1.0), trusted_proxy_header="X-Forwarded-For")(text_app())
    assert (await call(app, peer("10.0.0.1", headers=[(b"x-forwarded-for", b"a, 203.0.113.3")]))).status == 200
    assert (await call(app, peer("10.0.0.2", headers=[(b"x-forwarded-for", b"b, 203.0.113.3")]))).status == 429
    assert (await call(app, peer("10.0.0.1"))).status == 200  # no header: the peer's own bucket


async def test_custom_key_function_and_empty_key_fallback() -> None:
    def by_api_key(scope: Scope) -> str:
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                return str(value.decode())
        return ""

    app = abuse_guard(limiter(capacity=1.0), key=by_api_key)(text_app())
    assert (await call(app, peer("192.0.2.30", headers=[(b"x-api-key", b"k1")]))).status == 200
    assert (await call(app, peer("192.0.2.31", headers=[(b"x-api-key", b"k1")]))).status == 429
    assert (await call(app, peer("192.0.2.30"))).status == 200  # empty key -> peer bucket
    assert (await call(app, peer("192.0.2.30"))).status == 429


async def test_no_peer_address_shares_one_bucket() -> None:
    shared = limiter(capacity=1.0)
    app = abuse_guard(shared)(text_app())
    assert (await call(app, http_scope(client=None))).status == 200
    assert (await call(app, http_scope(client=None))).status == 429
    assert shared.stats().buckets == 1
    assert shared.allow(UNKNOWN_CLIENT_KEY).allowed is False


async def test_exempt_paths_take_no_token_and_get_no_headers() -> None:
    app = abuse_guard(limiter(capacity=1.0), exempt_paths=["/healthz", "/static/*"])(text_app())
    for path in ("/healthz", "/static/app.js", "/static/", "/healthz", "/static/x/y.css"):
        res = await call(app, peer("192.0.2.40", path=path))
        assert res.status == 200 and res.header("x-ratelimit-limit") is None
    assert (await call(app, peer("192.0.2.40", path="/healthz/deep"))).status == 200
    assert (await call(app, peer("192.0.2.40", path="/api"))).status == 429


async def test_headers_can_be_turned_off_but_429_keeps_them() -> None:
    app = abuse_guard(limiter(capacity=1.0), rate_limit_headers=False)(text_app())
    ok = await call(app, peer("192.0.2.50"))
    assert ok.status == 200 and ok.header("x-ratelimit-limit") is None
    denied = await call(app, peer("192.0.2.50"))
    assert denied.status == 429 and denied.header("retry-after") == "1" and denied.header("x-ratelimit-limit") == "1"


async def test_app_set_rate_limit_headers_win() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"X-RateLimit-Limit", b"50")]})
        await send({"type": "http.response.body", "body": b""})

    res = await call(abuse_guard(limiter())(app), peer("192.0.2.60"))
    assert res.headers("x-ratelimit-limit") == ["50"]
    assert res.header("x-ratelimit-remaining") == "1"


async def test_head_429_has_no_body() -> None:
    app = abuse_guard(limiter(capacity=1.0))(text_app())
    await call(app, peer("192.0.2.70", method="HEAD"))
    denied = await call(app, peer("192.0.2.70", method="HEAD"))
    assert denied.status == 429 and denied.body == b"" and denied.header("retry-after") == "1"


async def test_with_app_429_envelope_carries_the_request_id() -> None:
    app = App()
    app.use(request_id(), abuse_guard(limiter(capacity=1.0)))

    async def hello(request: Request) -> Response:
        return Response(b"hi")

    app.get("/hello", hello)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.80", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ok = await client.get("/hello")
        denied = await client.get("/hello", headers={"X-Request-ID": "rl-1"})
    assert ok.status_code == 200 and ok.text == "hi"
    assert ok.headers["x-ratelimit-limit"] == "1" and ok.headers["x-ratelimit-remaining"] == "0"
    assert denied.status_code == 429
    assert denied.headers["retry-after"] == "1" and denied.headers["x-request-id"] == "rl-1"
    body = json.loads(denied.content)
    assert body["request_id"] == "rl-1"
    assert body["error"]["code"] == "RATE_LIMITED" and body["error"]["type"] == "rate_limited"
