"""KV conformance: the stable SQLiteKVStore and RedisKVStore pass the same assertions (time from a fake clock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from plumego.store import InvalidKeyError, KVStore, ValueTooLargeError
from plumego.x.data.kv import open_kv


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.services)])
def kv_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kv.db'}"
    base, prefix = request.getfixturevalue("redis_namespace")
    return f"{base}{'&' if '?' in base else '?'}prefix={prefix}"


@pytest.fixture
async def kv_and_clock(kv_url: str) -> AsyncIterator[tuple[KVStore, FakeClock]]:
    clock = FakeClock()
    store = await open_kv(kv_url, clock=clock)
    yield store, clock
    await _close(store)


async def _close(store: Any) -> None:
    close = getattr(store, "close", None)
    if close is not None:
        await close()


async def test_round_trip(kv_and_clock: tuple[KVStore, FakeClock]) -> None:
    kv, _ = kv_and_clock
    assert await kv.get("a") is None and not await kv.exists("a")
    await kv.set("a", b"\x00one\xff")
    assert await kv.get("a") == b"\x00one\xff" and await kv.exists("a")
    await kv.set("a", b"two")
    assert await kv.get("a") == b"two" and await kv.count() == 1
    assert await kv.delete("a") is True and await kv.delete("a") is False
    assert await kv.get("a") is None and await kv.count() == 0


async def test_ttl_hides_and_set_if_absent_reclaims(kv_and_clock: tuple[KVStore, FakeClock]) -> None:
    kv, clock = kv_and_clock
    await kv.set("t", b"v", ttl=10)
    assert await kv.set_if_absent("t", b"other") is False
    clock.now += 9.9
    assert await kv.get("t") == b"v"
    clock.now += 0.2
    assert await kv.get("t") is None and not await kv.exists("t")
    assert await kv.keys() == [] and await kv.count() == 0
    assert await kv.set_if_absent("t", b"new", ttl=0) is True            # expired: reclaimable; ttl 0 = forever
    clock.now += 10_000
    assert await kv.get("t") == b"new"


async def test_prefix_scans_are_literal_and_ordered(kv_and_clock: tuple[KVStore, FakeClock]) -> None:
    kv, _ = kv_and_clock
    await kv.set_many({"user:%": b"1", "user:_": b"2", "user:b": b"3", "user:a": b"4", "userx": b"5", "é": b"6",
                       "User:a": b"7"})
    assert await kv.keys("user:") == ["user:%", "user:_", "user:a", "user:b"]
    assert await kv.keys("user:", limit=2) == ["user:%", "user:_"]
    assert await kv.scan("user:a") == [("user:a", b"4")]
    assert await kv.keys() == sorted(["user:%", "user:_", "user:b", "user:a", "userx", "é", "User:a"])
    assert await kv.keys("zz") == [] and await kv.keys(limit=0) == []


async def test_set_many_and_bad_input(kv_and_clock: tuple[KVStore, FakeClock]) -> None:
    kv, _ = kv_and_clock
    with pytest.raises(InvalidKeyError):
        await kv.set_many({"ok": b"1", "": b"2"})
    assert await kv.get("ok") is None                                    # all or nothing
    with pytest.raises(InvalidKeyError):
        await kv.get("bad\x00key")
    with pytest.raises(ValueTooLargeError):
        await kv.set("big", b"x" * (16 * 1024 * 1024 + 1))
    with pytest.raises(TypeError):
        await kv.set("s", "not bytes")  # type: ignore[arg-type]


async def test_two_handles_one_set_if_absent_winner(kv_url: str) -> None:
    clock = FakeClock()
    stores = [await open_kv(kv_url, clock=clock) for _ in range(6)]
    try:
        won = await asyncio.gather(*(s.set_if_absent("leader", f"w{i}".encode(), ttl=30) for i, s in
                                     enumerate(stores)))
        assert sorted(won) == [False] * 5 + [True]
        winner = won.index(True)
        assert all([await s.get("leader") == f"w{winner}".encode() for s in stores])
    finally:
        for s in stores:
            await _close(s)
