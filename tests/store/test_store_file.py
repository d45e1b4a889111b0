"""LocalFileStore: atomic writes with hashes, containment against .., absolute paths and symlinks, streaming."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plumego.store import (
    FileExistsInStoreError,
    FileNotFoundInStoreError,
    FileStore,
    IntegrityError,
    InvalidPathError,
    LocalFileStore,
    ValueTooLargeError,
    normalize_store_path,
)


async def test_put_read_stat_list_copy_delete(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "root")
    assert isinstance(store, FileStore)
    info = await store.put("docs/a.txt", b"hello")
    assert info.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert (info.size, info.content_type) == (5, "text/plain")
    assert await store.read("docs/a.txt") == b"hello"
    assert (await store.stat("docs/a.txt")).size == 5
    assert await store.sha256("docs/a.txt") == info.sha256
    copied = await store.copy("docs/a.txt", "b.txt")
    assert copied.sha256 == info.sha256
    assert [i.path for i in await store.list()] == ["b.txt", "docs/a.txt"]
    assert [i.path for i in await store.list("docs/")] == ["docs/a.txt"]
    assert await store.delete("docs/a.txt") is True
    assert await store.delete("docs/a.txt") is False
    assert not await store.exists("docs/a.txt")
    with pytest.raises(FileNotFoundInStoreError):
        await store.read("docs/a.txt")


async def test_streaming_write_and_read(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    chunks = [os.urandom(50_000) for _ in range(8)]

    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    info = await store.put("big.bin", source())
    whole = b"".join(chunks)
    assert info.sha256 == hashlib.sha256(whole).hexdigest()
    got = [c async for c in store.open("big.bin", chunk_size=65536)]
    assert max(len(c) for c in got) <= 65536
    assert b"".join(got) == whole
    assert store.put_sync("iter.bin", iter(chunks)).size == len(whole)


async def test_failed_writes_leave_nothing_behind(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path, max_size=10)
    await store.put("keep", b"old")
    with pytest.raises(IntegrityError):
        await store.put("keep", b"new", expected_sha256="0" * 64)
    with pytest.raises(ValueTooLargeError):
        await store.put("keep", b"x" * 11)

    async def failing() -> AsyncIterator[bytes]:
        yield b"part"
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        await store.put("keep", failing())
    assert await store.read("keep") == b"old"
    assert sorted(os.listdir(tmp_path)) == ["keep"]  # no temp files left
    with pytest.raises(FileExistsInStoreError):
        await store.put("keep", b"new", overwrite=False)
    assert (await store.put("fresh", b"new", overwrite=False)).size == 3


@pytest.mark.parametrize(
    "bad", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", "C:/x", "a\x00b", ".plumego-tmp-x"]
)
def test_path_validation(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidPathError):
        normalize_store_path(bad)
    with pytest.raises(InvalidPathError):
        LocalFileStore(tmp_path).put_sync(bad, b"x")


def test_symlinks_cannot_escape(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"s3cret")
    root = tmp_path / "root"
    store = LocalFileStore(root)
    os.symlink(outside, root / "linkdir")
    os.symlink(outside / "secret", root / "linkfile")
    for path in ["linkdir/secret", "linkfile"]:
        with pytest.raises(InvalidPathError):
            store.read_sync(path)
    with pytest.raises(InvalidPathError):
        store.put_sync("linkdir/new", b"x")
    assert not (outside / "new").exists()
    assert store.list_sync() == []
    assert (outside / "secret").read_bytes() == b"s3cret"
