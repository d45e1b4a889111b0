"""MemoryCache: TTL, LRU eviction by entries and bytes (never refusing writes), counters, and a model check."""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plumego.store import (
    Cache,
    InvalidKeyError,
    MemoryCache,
    NotIntegerError,
    StoreClosedError,
    ValueTooLargeError,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_satisfies_contract_and_round_trips() -> None:
    cache = MemoryCache()
    assert isinstance(cache, Cache)
    await cache.set("a", b"1")
    assert await cache.get("a") == b"1"
    assert await cache.exists("a")
    assert await cache.delete("a") is True
    assert await cache.delete("a") is False
    assert await cache.get("a") is None
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (1, 1)


def test_ttl_expires_with_clock_and_default_ttl() -> None:
    clock = FakeClock()
    cache = MemoryCache(default_ttl=10, clock=clock)
    cache.set_sync("default", b"x")
    cache.set_sync("short", b"y", ttl=1)
    cache.set_sync("zero", b"w", ttl=0)  # Go: ttl <= 0 means the default TTL
    cache.set_sync("negative", b"v", ttl=-5)
    cache.set_sync("forever", b"z", ttl=math.inf)
    clock.now += 1
    assert cache.get_sync("short") is None
    assert cache.get_sync("default") == b"x"
    assert cache.get_sync("zero") == b"w"
    clock.now += 9
    assert cache.get_sync("default") is None
    assert cache.get_sync("zero") is None
    assert cache.get_sync("negative") is None
    assert cache.get_sync("forever") == b"z"
    assert cache.stats().expirations == 4


def test_ttl_zero_without_a_default_never_expires() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    cache.set_sync("k", b"v", ttl=0)
    clock.now += 10**9
    assert cache.get_sync("k") == b"v"


def test_lru_eviction_by_entries_never_refuses() -> None:
    cache = MemoryCache(max_entries=3, max_bytes=0)
    for key in "abc":
        cache.set_sync(key, b"v")
    cache.get_sync("a")  # a becomes most recently used; b is now the LRU victim
    cache.set_sync("d", b"v")
    assert cache.keys() == ["c", "a", "d"]
    assert cache.stats().evictions == 1


def test_lru_eviction_by_bytes() -> None:
    overhead = MemoryCache.ENTRY_OVERHEAD
    cache = MemoryCache(max_entries=0, max_bytes=3 * (1 + 100 + overhead))
    for key in "abc":
        cache.set_sync(key, b"x" * 100)
    cache.set_sync("d", b"x" * 200)  # needs two slots' worth of bytes: evicts a and b
    assert cache.keys() == ["c", "d"]
    assert cache.stats().bytes <= 3 * (1 + 100 + overhead)
    with pytest.raises(ValueTooLargeError):
        cache.set_sync("huge", b"x" * 1000)


def test_incr_keeps_expiry_and_rejects_non_integers() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    assert cache.incr_sync("n") == 1
    cache.set_sync("t", b"41", ttl=5)
    assert cache.incr_sync("t") == 42
    clock.now += 5
    assert cache.get_sync("t") is None
    cache.set_sync("s", b"abc")
    with pytest.raises(NotIntegerError):
        cache.incr_sync("s")
    cache.set_sync("big", str(2**63 - 1).encode())
    with pytest.raises(NotIntegerError):
        cache.incr_sync("big")


def test_keys_validated_and_close() -> None:
    cache = MemoryCache()
    for bad in ["", "a\nb", "x" * 2000, "\ud800"]:
        with pytest.raises(InvalidKeyError):
            cache.set_sync(bad, b"v")
    cache.close()
    with pytest.raises(StoreClosedError):
        asyncio.run(cache.get("a"))


ops = st.lists(
    st.tuples(
        st.sampled_from(["set", "get", "delete", "tick"]),
        st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        st.integers(min_value=0, max_value=40),
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(ops=ops, max_entries=st.integers(min_value=1, max_value=4), max_bytes=st.integers(min_value=0, max_value=300))
def test_matches_lru_model(ops: list[tuple[str, str, int]], max_entries: int, max_bytes: int) -> None:
    """Against a plain OrderedDict LRU model with TTLs: same reads, same contents, bounds always respected."""
    overhead = MemoryCache.ENTRY_OVERHEAD
    max_bytes = max_bytes and max_bytes + overhead + 50  # every generated entry fits on its own
    clock = FakeClock()
    cache = MemoryCache(max_entries=max_entries, max_bytes=max_bytes, clock=clock)
    model: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()

    def live(key: str) -> bool:
        exp = model[key][1]
        return exp is None or exp > clock.now

    for op, key, n in ops:
        if op == "tick":
            clock.now += n / 10
            continue
        if key in model and not live(key):
            del model[key]
        if op == "set":
            value = bytes(n)
            ttl = None if n % 3 else 1.5
            model.pop(key, None)
            model[key] = (value, None if ttl is None else clock.now + ttl)
            cache.set_sync(key, value, ttl=ttl)
            while len(model) > max_entries or (
                max_bytes and sum(1 + len(v) + overhead for v, _ in model.values()) > max_bytes
            ):
                model.popitem(last=False)
        elif op == "get":
            expected = model[key][0] if key in model else None
            if key in model:
                model.move_to_end(key)
            assert cache.get_sync(key) == expected
        else:
            assert cache.delete_sync(key) == (key in model)
            model.pop(key, None)
        stats = cache.stats()
        assert stats.entries <= max_entries
        assert not max_bytes or stats.bytes <= max_bytes
    assert cache.keys() == [k for k in model if live(k)]
