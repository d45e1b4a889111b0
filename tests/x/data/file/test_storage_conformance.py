"""Blob storage conformance: the same assertions on the local disk and on S3 (see conftest.STORAGES).

Differences are capability flags (``storage.capabilities``), never skipped assertions.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from urllib.request import urlopen

import pytest

from plumego.store import FileNotFoundInStoreError, InvalidPathError
from plumego.x.data.file import Storage

from .conftest import SMALL_PART


async def chunks(data: bytes, size: int = 100_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def read(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([c async for c in storage.open(key, start=start, end=end)])


async def test_put_stat_read_delete(storage: Storage) -> None:
    info = await storage.put("acme/2026/a.txt", b"hello world", content_type="text/plain")
    assert (info.key, info.size, info.sha256) == ("acme/2026/a.txt", 11, hashlib.sha256(b"hello world").hexdigest())
    assert await storage.exists("acme/2026/a.txt")
    stat = await storage.stat("acme/2026/a.txt")
    assert stat.size == 11 and stat.key == "acme/2026/a.txt"
    assert await read(storage, "acme/2026/a.txt") == b"hello world"
    assert await storage.delete("acme/2026/a.txt") is True
    assert await storage.delete("acme/2026/a.txt") is False
    assert not await storage.exists("acme/2026/a.txt")
    with pytest.raises(FileNotFoundInStoreError):
        await storage.stat("acme/2026/a.txt")
    with pytest.raises(FileNotFoundInStoreError):
        await read(storage, "acme/2026/a.txt")


async def test_streamed_put_larger_than_one_part(storage: Storage) -> None:
    data = os.urandom(SMALL_PART * 2 + 12_345)          # two full parts and a short last one on S3
    info = await storage.put("t/big.bin", chunks(data, 1 << 20))
    assert info.size == len(data) and info.sha256 == hashlib.sha256(data).hexdigest()
    assert (await storage.stat("t/big.bin")).size == len(data)
    assert hashlib.sha256(await read(storage, "t/big.bin")).digest() == hashlib.sha256(data).digest()


async def test_ranged_reads(storage: Storage) -> None:
    data = bytes(range(256)) * 4
    await storage.put("t/r.bin", data)
    assert await read(storage, "t/r.bin", 10, 20) == data[10:20]
    assert await read(storage, "t/r.bin", 1000) == data[1000:]
    assert await read(storage, "t/r.bin", 5, 5) == b""
    assert await read(storage, "t/r.bin", 1024) == b""
    with pytest.raises(ValueError):
        await read(storage, "t/r.bin", 10, 5)


async def test_failed_stream_leaves_nothing(storage: Storage) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield os.urandom(SMALL_PART + 10)       # S3: past one part, so a multipart upload was started
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.put("t/half.bin", broken())
    assert not await storage.exists("t/half.bin")
    assert await storage.list("t/") == []


async def test_list_prefix_limit_and_copy(storage: Storage) -> None:
    for name in ("b/2.txt", "a/1.txt", "a/3.txt"):
        await storage.put(name, name.encode())
    assert [b.key for b in await storage.list()] == ["a/1.txt", "a/3.txt", "b/2.txt"]
    assert [b.key for b in await storage.list("a/")] == ["a/1.txt", "a/3.txt"]
    assert [b.key for b in await storage.list("", limit=1)] == ["a/1.txt"]
    copied = await storage.copy("a/1.txt", "c/1.txt")
    assert copied.size == 7 and await read(storage, "c/1.txt") == b"a/1.txt"
    with pytest.raises(FileNotFoundInStoreError):
        await storage.copy("missing.txt", "d.txt")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "a//b", "a\\b", "", "a/./b", "x\x00y"])
async def test_keys_are_contained(storage: Storage, key: str) -> None:
    with pytest.raises(InvalidPathError):
        await storage.put(key, b"x")
    with pytest.raises(InvalidPathError):
        await storage.stat(key)


async def test_presigned_urls_per_capability(storage: Storage) -> None:
    await storage.put("t/doc.pdf", b"%PDF-1.4 fake", content_type="application/pdf")
    url = await storage.presigned_url("t/doc.pdf", 60, filename="report é.pdf", content_type="application/pdf")
    if not storage.capabilities.presigned_urls:
        assert url is None
        return
    assert url is not None and "Signature" in url and "Expires" in url
    with urlopen(url, timeout=10) as response:           # a client without credentials can fetch it
        assert response.read() == b"%PDF-1.4 fake"
        assert "filename*=UTF-8''report%20%C3%A9.pdf" in response.headers["Content-Disposition"]
