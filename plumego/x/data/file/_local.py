"""Blob storage on the local filesystem: the stable store's atomic writer plus ranged reads.

Owns :class:`LocalStorage`. Writes go through ``plumego.store.LocalFileStore`` (temp file -> fsync -> rename ->
directory fsync, SHA-256 while streaming, no escape through ``..``, absolute paths or symlinks), so a reader never
sees half a file and a crash leaves at most an ignored temp file. One machine only (``shared=False``): several
workers of one host may share the directory. Imports the standard library and plumego.store.
"""

from __future__ import annotations

import builtins
import asyncio
import os
from collections.abc import AsyncIterable, AsyncIterator
from os import PathLike

from plumego.store import FileInfo, LocalFileStore

from ._types import BlobInfo, StorageCapabilities

__all__ = ["LocalStorage"]

_CHUNK = 1024 * 1024


async def _coalesced(content: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Network-sized chunks (often 64 KiB) gathered into ~1 MiB writes: one worker-thread hop per MiB."""
    buffer = bytearray()
    async for chunk in content:
        buffer += chunk
        if len(buffer) >= _CHUNK:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _blob(info: FileInfo) -> BlobInfo:
    return BlobInfo(key=info.path, size=info.size, sha256=info.sha256, modified_at=info.modified_at,
                    content_type=info.content_type)


class LocalStorage:
    """A :class:`Storage` under one directory. No presigned URLs: the HTTP layer signs its own download links."""

    capabilities = StorageCapabilities(presigned_urls=False, shared=False)

    def __init__(self, root: str | PathLike[str], *, max_size: int | None = None) -> None:
        self._store = LocalFileStore(root, max_size=max_size)
        self.root = self._store.root

    async def put(
        self, key: str, content: AsyncIterable[bytes] | bytes, *, content_type: str = "application/octet-stream"
    ) -> BlobInfo:
        info = await self._store.put(key, content if isinstance(content, bytes) else _coalesced(content),
                                     overwrite=False)
        return _blob(info)

    async def open(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        if start < 0 or (end is not None and end < start):
            raise ValueError("invalid byte range")
        handle = await asyncio.to_thread(self._store.open_sync, key)
        try:
            if start:
                await asyncio.to_thread(handle.seek, start, os.SEEK_SET)
            remaining = None if end is None else end - start
            while remaining is None or remaining > 0:
                size = _CHUNK if remaining is None else min(_CHUNK, remaining)
                chunk = await asyncio.to_thread(handle.read, size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def stat(self, key: str) -> BlobInfo:
        return _blob(await self._store.stat(key))

    async def exists(self, key: str) -> bool:
        return await self._store.exists(key)

    async def delete(self, key: str) -> bool:
        return await self._store.delete(key)

    async def list(self, prefix: str = "", limit: int | None = None) -> builtins.list[BlobInfo]:
        return [_blob(info) for info in await self._store.list(prefix, limit)]

    async def copy(self, src: str, dst: str) -> BlobInfo:
        return _blob(await self._store.copy(src, dst, overwrite=False))

    async def presigned_url(
        self, key: str, expires_in: int, *, filename: str | None = None, content_type: str | None = None
    ) -> str | None:
        return None

    async def close(self) -> None:
        return None
