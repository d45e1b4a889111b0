"""x/data/cache: one Cache conformance suite over the stable MemoryCache, RedisCache and DistributedCache rings
(memory nodes and Redis nodes); the ring's own behaviour; leaderboards on memory and Redis answering identically."""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest

from plumego.store import Cache, MemoryCache, NotIntegerError
from plumego.x.data.cache import (
    CacheClearRefused,
    DistributedCache,
    HashRing,
    Leaderboard,
    NoHealthyNodeError,
    RedisCache,
    open_leaderboard,
)

ENGINES = ["memory", "ring-memory", pytest.param("redis", marks=pytest.mark.services),
           pytest.param("ring-redis", marks=pytest.mark.services)]


@pytest.fixture(params=ENGINES)
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    engine: Any
    if request.param == "memory":
        engine = MemoryCache()
    elif request.param == "ring-memory":
        engine = DistributedCache({f"n{i}": MemoryCache() for i in range(3)}, replication="sync")
    else:
        base, prefix = request.getfixturevalue("redis_namespace")
        if request.param == "redis":
            engine = await RedisCache.open(f"{base}?prefix={{{prefix}}}:c:")
        else:
            engine = DistributedCache({f"r{i}": await RedisCache.open(f"{base}?prefix={{{prefix}}}:r{i}:")
                                       for i in range(2)}, replication="sync")
    yield engine
    close = getattr(engine, "close", None)
    result = close() if close is not None else None
    if inspect.isawaitable(result):
        await result


async def test_cache_conformance(cache: Cache) -> None:
    assert await cache.get("k") is None and not await cache.exists("k")
    await cache.set("k", b"\x00v\xff")
    assert await cache.get("k") == b"\x00v\xff" and await cache.exists("k")
    assert await cache.delete("k") is True and await cache.delete("k") is False
    assert await cache.incr("n") == 1 and await cache.incr("n", 41) == 42 and await cache.incr("n", -2) == 40
    await cache.set("text", b"abc")
    with pytest.raises(NotIntegerError):
        await cache.incr("text")
    await cache.set("big", str(2**63 - 1).encode())
    with pytest.raises(NotIntegerError):
        await cache.incr("big")
    await cache.set("forever", b"x", ttl=math.inf)
    for i in range(20):
        await cache.set(f"many:{i}", str(i).encode())
    await cache.clear()
    assert [await cache.get(f"many:{i}") for i in range(20)] == [None] * 20 and await cache.get("forever") is None


async def test_redis_ttl_and_clear_fails_closed(redis_namespace: tuple[str, str]) -> None:
    base, prefix = redis_namespace
    cache = await RedisCache.open(f"{base}?prefix={{{prefix}}}:ttl*[x]:", default_ttl=60)
    other = await RedisCache.open(f"{base}?prefix={{{prefix}}}:ttl-other:")
    bare = await RedisCache.open(base)
    try:
        await cache.set("a", b"1", ttl=0.05)
        await cache.set("b", b"2")                              # default_ttl 60 s
        await other.set("keep", b"3")
        await asyncio.sleep(0.2)
        assert await cache.get("a") is None and await cache.get("b") == b"2"
        await cache.clear()                                      # glob characters in the prefix are literal
        assert await cache.get("b") is None and await other.get("keep") == b"3"
        with pytest.raises(CacheClearRefused):
            await bare.clear()
    finally:
        for c in (cache, other, bare):
            await c.close()


def test_ring_weights_and_minimal_remapping() -> None:
    keys = [f"user:{i}" for i in range(6000)]
    ring = HashRing({"a": 1, "b": 1, "c": 2})
    owners = {k: ring.nodes_for(k)[0] for k in keys}
    share = {n: sum(1 for o in owners.values() if o == n) / len(keys) for n in "abc"}
    assert 0.17 < share["a"] < 0.33 and 0.17 < share["b"] < 0.33 and 0.4 < share["c"] < 0.6
    grown = HashRing({"a": 1, "b": 1, "c": 2, "d": 1})
    moved = [k for k in keys if grown.nodes_for(k)[0] != owners[k]]
    assert all(grown.nodes_for(k)[0] == "d" for k in moved)          # only keys that now belong to d move
    assert 0.1 < len(moved) / len(keys) < 0.3
    assert sorted(ring.nodes_for("x")) == ["a", "b", "c"]


class Broken(MemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.down = True

    async def get(self, key: str) -> bytes | None:
        self.calls += 1
        if self.down:
            raise ConnectionError("node down")
        return await super().get(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self.calls += 1
        if self.down:
            raise ConnectionError("node down")
        await super().set(key, value, ttl)

    async def exists(self, key: str) -> bool:
        if self.down:
            raise ConnectionError("node down")
        return await super().exists(key)


async def test_failover_marks_down_and_probe_restores() -> None:
    now = [0.0]
    broken, good = Broken(), MemoryCache()
    cache = DistributedCache({"bad": broken, "good": good}, replication="sync", down_for=5, clock=lambda: now[0])
    key = next(f"k{i}" for i in range(1000) if cache.ring.nodes_for(f"k{i}")[0] == "bad")
    await cache.set(key, b"v")                       # primary fails: the next node takes it
    assert await cache.get(key) == b"v" and not cache.healthy("bad") and cache.errors["bad"] >= 1
    calls = broken.calls
    await cache.get(key)
    assert broken.calls == calls                     # marked down: skipped
    broken.down = False
    assert (await cache.probe())["bad"] is True and cache.healthy("bad")
    retry = DistributedCache({"bad": Broken()}, failover="retry")
    with pytest.raises(NoHealthyNodeError):
        await retry.get("x")
    assert retry.nodes["bad"].calls == 3             # type: ignore[attr-defined]


async def test_async_replication_and_drops() -> None:
    nodes = {f"n{i}": MemoryCache() for i in range(3)}
    dropped: list[tuple[str, str]] = []
    cache = DistributedCache(nodes, replication="async", replicas=2, async_queue=1,
                             on_drop=lambda node, key: dropped.append((node, key)))
    await cache.set("k", b"v")                       # two replica writes, a queue of one: one is dropped
    await cache.flush_replication()
    holders = [n for n, c in nodes.items() if await c.get("k") == b"v"]
    assert len(holders) == 2 and len(dropped) == 1
    await cache.close()


LEADERBOARDS = ["memory", pytest.param("redis", marks=pytest.mark.services)]


@pytest.fixture(params=LEADERBOARDS)
async def board(request: pytest.FixtureRequest) -> AsyncIterator[Leaderboard]:
    if request.param == "memory":
        lb = await open_leaderboard("", "game")
    else:
        base, prefix = request.getfixturevalue("redis_namespace")
        lb = await open_leaderboard(f"{base}?prefix={prefix}", "game")
    yield lb
    close = getattr(lb, "close", None)
    if close is not None:
        await close()


async def test_leaderboard_conformance(board: Leaderboard) -> None:
    for member, score in (("ada", 50), ("bob", 70), ("cy", 50), ("dee", 10), ("é", 50)):
        await board.add(member, score)
    assert await board.top(3) == [("bob", 70.0), ("é", 50.0), ("cy", 50.0)]    # ties: member descending
    assert await board.rank("bob") == 0 and await board.rank("ada") == 3 and await board.rank("zed") is None
    assert await board.incr("dee", 100) == 110.0 and await board.rank("dee") == 0
    assert await board.around("cy", 1) == [("é", 50.0), ("cy", 50.0), ("ada", 50.0)]
    assert await board.around("nobody", 2) == []
    assert await board.score("ada") == 50.0 and await board.score("zed") is None
    assert await board.size() == 5 and await board.remove("ada") is True and await board.remove("ada") is False
    assert await board.top(0) == [] and len(await board.top(100)) == 4
    with pytest.raises(ValueError):
        await board.add("", 1)
    with pytest.raises(ValueError):
        await board.add("x", math.nan)


async def test_memory_leaderboard_is_bounded() -> None:
    from plumego.x.data.cache import MemoryLeaderboard

    lb = MemoryLeaderboard(max_members=3)
    for i in range(5):
        await lb.add(f"m{i}", i)
    assert await lb.top(10) == [("m4", 4.0), ("m3", 3.0), ("m2", 2.0)] and await lb.size() == 3
