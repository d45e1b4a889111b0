"""Integers in the store: only ASCII-digit values increment, and no limit reaches SQLite past int64."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumego.store import MemoryCache, NotIntegerError, SQLiteKVStore


@pytest.mark.parametrize("stored", [b" 5", b"5 ", b"+5", b"1_0", "٥".encode(), b"0x5", b""])
def test_incr_refuses_what_redis_refuses(stored: bytes) -> None:
    cache = MemoryCache()
    cache.set_sync("n", stored)
    with pytest.raises(NotIntegerError):
        cache.incr_sync("n")
    assert cache.get_sync("n") == stored  # left as it was


def test_incr_accepts_decimal_integers() -> None:
    cache = MemoryCache()
    cache.set_sync("n", b"-7")
    assert cache.incr_sync("n", 10) == 3


def test_kv_limit_past_int64_is_not_an_overflow(tmp_path: Path) -> None:
    kv = SQLiteKVStore(tmp_path / "kv.db")
    try:
        kv.set_sync("a", b"1")
        assert kv.keys_sync(limit=1 << 64) == ["a"]  # OverflowError from sqlite3 before
        assert kv.scan_sync(limit=10**30) == [("a", b"1")]
    finally:
        kv.close_sync()
