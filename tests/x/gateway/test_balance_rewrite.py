"""Load balancers and path rewrites as pure functions over backends and paths."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from plumego.x.gateway import (
    Backend,
    HeaderList,
    IPHash,
    LeastConnections,
    Random,
    RoundRobin,
    WeightedRoundRobin,
    add_prefix,
    chain,
    chain_modifiers,
    delete_header,
    replace_prefix,
    rewrite_map,
    rewrite_regex,
    set_header,
    strip_prefix,
)


@pytest.fixture
async def pool() -> AsyncIterator[list[Backend]]:
    backends = [Backend(f"http://10.0.0.{i}:80", weight=w) for i, w in ((1, 5), (2, 1), (3, 1))]
    yield backends
    for b in backends:
        await b.aclose()


def names(picks: list[Backend]) -> str:
    return "".join("abc"[int(b.url.split(".")[-1].split(":")[0]) - 1] for b in picks)


async def test_round_robin_and_random(pool: list[Backend]) -> None:
    rr = RoundRobin()
    assert names([rr.pick(pool, "") for _ in range(6)]) == "abcabc"
    rnd = Random(random.Random(7))
    assert set(names([rnd.pick(pool, "") for _ in range(60)])) == {"a", "b", "c"}


async def test_smooth_weighted_round_robin_is_nginx_order(pool: list[Backend]) -> None:
    wrr = WeightedRoundRobin()
    assert names([wrr.pick(pool, "") for _ in range(7)]) == "aabacaa"          # nginx's sequence for 5,1,1
    assert Counter(names([wrr.pick(pool, "") for _ in range(700)])) == {"a": 500, "b": 100, "c": 100}


async def test_ip_hash_is_sticky(pool: list[Backend]) -> None:
    h = IPHash()
    first = {ip: h.pick(pool, ip) for ip in (f"192.0.2.{i}" for i in range(50))}
    assert all(h.pick(pool, ip) is b for ip, b in first.items())
    assert len(set(first.values())) == 3


async def test_least_connections(pool: list[Backend]) -> None:
    lc = LeastConnections()
    pool[0].active, pool[1].active, pool[2].active = 3, 1, 2
    assert lc.pick(pool, "") is pool[1]
    pool[1].active = 3
    assert lc.pick(pool, "") is pool[2]


def test_rewrites() -> None:
    assert strip_prefix("/api")("/api/users") == "/users"
    assert strip_prefix("/api/")("/api") == "/"
    assert strip_prefix("/api")("/apix/users") == "/apix/users"
    assert add_prefix("/v2")("/users") == "/v2/users"
    assert replace_prefix("/old", "/new")("/old/x") == "/new/x"
    assert replace_prefix("/old", "/")("/old") == "/"
    assert rewrite_map({"/a": "/b"})("/a") == "/b" and rewrite_map({"/a": "/b"})("/c") == "/c"
    assert rewrite_regex(r"^/v1/(.*)$", r"/api/\1")("/v1/items/3") == "/api/items/3"
    assert chain(strip_prefix("/gw"), add_prefix("/svc"))("/gw/x") == "/svc/x"
    with pytest.raises(ValueError):
        strip_prefix("api")


def test_header_modifiers() -> None:
    headers = HeaderList([("X-A", "1"), ("x-a", "2"), ("X-B", "b")])
    chain_modifiers(set_header("X-A", "3"), delete_header("x-b"))(headers)
    assert list(headers) == [("x-a", "3")]
    with pytest.raises(ValueError):
        set_header("X-Bad", "a\r\nInjected: 1")
    with pytest.raises(ValueError):
        set_header("bad name", "v")
