"""proxy_headers: the one trust setting for forwarded addresses, and the abuse guard keyed on what it resolves."""

from __future__ import annotations

from typing import Any

import pytest

from plumego.contract import Receive, Scope, Send
from plumego.middleware import abuse_guard, parse_forwarded_address, proxy_headers
from plumego.security import AbuseGuardConfig, TokenBucketLimiter

from mw_harness import call, http_scope, text_app


def seen_scope() -> tuple[Any, list[Scope]]:
    seen: list[Scope] = []
    inner = text_app()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(dict(scope))
        await inner(scope, receive, send)

    return app, seen


async def resolved(mw: Any, peer: str, *headers: tuple[bytes, bytes], kind: str = "http") -> Scope:
    app, seen = seen_scope()
    await call(mw(app), http_scope(client=(peer, 5000), headers=list(headers), type=kind))
    return seen[0]


XFF = b"x-forwarded-for"


async def test_without_a_setting_forwarded_headers_are_ignored() -> None:
    app = text_app()
    assert proxy_headers()(app) is app  # not even a wrapper
    with pytest.raises(ValueError):
        proxy_headers(trusted_proxies=["10.0.0.0/8"], hops=1)
    with pytest.raises(ValueError):
        proxy_headers(trusted_proxies=["not-an-ip"])
    with pytest.raises(ValueError):
        proxy_headers(hops=33)  # only the rightmost 32 entries are ever read


async def test_trusted_proxies_take_the_rightmost_untrusted_entry() -> None:
    mw = proxy_headers(trusted_proxies=["10.0.0.0/8", "127.0.0.1"])
    scope = await resolved(mw, "127.0.0.1", (XFF, b"6.6.6.6, 203.0.113.7, 10.1.2.3"), (b"x-forwarded-proto", b"https"))
    assert scope["client"] == ("203.0.113.7", 0) and scope["scheme"] == "https"
    # The same header from a peer that is not a trusted proxy is the client's own claim: ignored.
    scope = await resolved(mw, "198.51.100.9", (XFF, b"203.0.113.7"), (b"x-forwarded-proto", b"https"))
    assert scope["client"] == ("198.51.100.9", 5000) and scope["scheme"] == "http"
    # Garbage where an address should be stops the walk at the last trusted hop; it never becomes the client.
    scope = await resolved(mw, "127.0.0.1", (XFF, b"203.0.113.7, " + b"x" * 100_000))
    assert scope["client"] == ("127.0.0.1", 5000)
    scope = await resolved(mw, "127.0.0.1", (XFF, b"junk, 10.9.9.9"))
    assert scope["client"] == ("10.9.9.9", 0)
    # Several header lines are one list; ports and brackets are tolerated.
    scope = await resolved(mw, "127.0.0.1", (XFF, b"[2001:db8::1]:443"), (XFF, b"10.0.0.1"))
    assert scope["client"] == ("2001:db8::1", 0)


async def test_hop_count_takes_the_nth_entry_from_the_right() -> None:
    mw = proxy_headers(hops=2)
    scope = await resolved(mw, "10.0.0.2", (XFF, b"6.6.6.6, 203.0.113.7, 10.0.0.1"),
                           (b"x-forwarded-proto", b"http, https, http"))
    assert scope["client"] == ("203.0.113.7", 0) and scope["scheme"] == "https"
    short = await resolved(mw, "10.0.0.2", (XFF, b"203.0.113.7"))  # fewer entries than hops: not through our proxies
    assert short["client"] == ("10.0.0.2", 5000)
    ws = await resolved(proxy_headers(hops=1), "10.0.0.2", (XFF, b"203.0.113.8"), (b"x-forwarded-proto", b"https"),
                        kind="websocket")
    assert ws["client"] == ("203.0.113.8", 0) and ws["scheme"] == "wss"


def test_parse_forwarded_address() -> None:
    assert str(parse_forwarded_address(" 203.0.113.7:8080 ")) == "203.0.113.7"
    assert str(parse_forwarded_address("::ffff:203.0.113.7")) == "203.0.113.7"
    for bad in ("", "unknown", "203.0.113.7x", "[::1", "1" * 1000, "٣.٣.٣.٣"):
        assert parse_forwarded_address(bad) is None


async def test_abuse_guard_buckets_follow_the_resolved_client() -> None:
    """Forged X-Forwarded-For values from one peer share that peer's bucket unless the peer is a trusted proxy."""
    limiter = TokenBucketLimiter(AbuseGuardConfig(rate=0.001, capacity=1))
    guarded = abuse_guard(limiter)(text_app())
    statuses = [(await call(guarded, http_scope(client=("127.0.0.1", 1), headers=[(XFF, b"198.51.100.%d" % i)]))).status
                for i in range(3)]
    assert statuses == [200, 429, 429]
    behind = proxy_headers(trusted_proxies=["127.0.0.1"])(abuse_guard(TokenBucketLimiter(
        AbuseGuardConfig(rate=0.001, capacity=1)))(text_app()))
    statuses = [(await call(behind, http_scope(client=("127.0.0.1", 1), headers=[(XFF, b"198.51.100.%d" % i)]))).status
                for i in (1, 2, 1)]
    assert statuses == [200, 200, 429]


async def test_abuse_guard_proxy_header_takes_addresses_only() -> None:
    """The guard's own header option no longer turns arbitrary header text into a bucket key."""
    limiter = TokenBucketLimiter(AbuseGuardConfig(rate=0.001, capacity=1))
    guarded = abuse_guard(limiter, trusted_proxy_header="X-Forwarded-For")(text_app())
    for value in (b"a" * 1_000_000, b"b" * 1_000_000):
        await call(guarded, http_scope(client=("127.0.0.1", 1), headers=[(XFF, value)]))
    assert limiter.stats().buckets == 1  # both fell back to the peer's bucket


def test_limiter_bounds_key_size() -> None:
    limiter = TokenBucketLimiter(AbuseGuardConfig(rate=1, capacity=1, max_entries=16, shards=1))
    for index in range(100):
        limiter.allow(f"{index:04d}" + "k" * 1_000_000)
    stored = [key for shard in limiter._shards for key in shard.buckets]
    assert len(stored) == 16 and all(len(key) <= 128 for key in stored)
    assert not limiter.allow("0099" + "k" * 1_000_000).allowed  # the digest is the same bucket every time
    with pytest.raises(ValueError):
        AbuseGuardConfig(max_key_length=10)
