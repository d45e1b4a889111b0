"""File store contract and the local-filesystem implementation with atomic, contained, streaming writes.

Go Plumego's stable file store is an interface only (backends live in x/data/file). This root ships a working
local backend: temp file + fsync + rename + directory fsync (a reader never sees a half-written file), SHA-256 of
every write, and containment (no escape through ``..``, absolute paths or symlinks). Imports only the stdlib.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import stat as stat_mod
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from ._errors import (
    FileExistsInStoreError,
    FileNotFoundInStoreError,
    IntegrityError,
    InvalidPathError,
    ValueTooLargeError,
)

__all__ = ["FileInfo", "FileStore", "LocalFileStore", "normalize_store_path", "FileContent"]

_TEMP_PREFIX = ".plumego-tmp-"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)

#: What ``put`` accepts: a whole payload, a sync stream of chunks, an async stream of chunks, or a binary file.
FileContent = bytes | bytearray | memoryview | Iterable[bytes] | AsyncIterable[bytes] | BinaryIO


@dataclass(frozen=True, slots=True)
class FileInfo:
    """Metadata of a stored file. ``sha256`` is the hex digest when known (always after ``put``/``copy``)."""

    path: str
    size: int
    modified_at: float
    content_type: str | None
    sha256: str | None = None


@runtime_checkable
class FileStore(Protocol):
    """What a file backend provides; an S3 or database backend in x/data implements the same methods.

    Paths are relative, slash-separated and normalised by :func:`normalize_store_path`.
    """

    async def put(
        self,
        path: str,
        content: FileContent,
        *,
        overwrite: bool = True,
        expected_sha256: str | None = None,
    ) -> FileInfo: ...

    def open(self, path: str, chunk_size: int = 65536) -> AsyncIterator[bytes]: ...

    async def read(self, path: str) -> bytes: ...

    async def stat(self, path: str) -> FileInfo: ...

    async def exists(self, path: str) -> bool: ...

    async def delete(self, path: str) -> bool: ...

    async def list(self, prefix: str = "", limit: int | None = None) -> list[FileInfo]: ...

    async def copy(self, src: str, dst: str, *, overwrite: bool = True) -> FileInfo: ...


def normalize_store_path(path: str) -> str:
    """Validate a store path and return it unchanged, or raise :class:`InvalidPathError`.

    Rejects empty paths, absolute paths (``/x``, ``C:...``, ``\\\\server``), backslashes, empty, ``.`` and ``..``
    segments, control characters and our temp-file prefix. Strict on purpose: no normalisation means no
    ambiguity about which file a path names.
    """
    if not isinstance(path, str) or not path:
        raise InvalidPathError("path must be a non-empty string")
    if "\\" in path or path.startswith("/") or (len(path) >= 2 and path[1] == ":"):
        raise InvalidPathError(f"absolute or backslash path not allowed: {path!r}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        raise InvalidPathError("path contains control characters")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidPathError(f"path segment {segment!r} not allowed in {path!r}")
        if segment.startswith(_TEMP_PREFIX):
            raise InvalidPathError("reserved file name")
    return path


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _AtomicWrite:
    """A temp file in the target's directory that becomes the target only on :meth:`commit`."""

    def __init__(self, target: Path, max_size: int | None) -> None:
        self.target = target
        self._max_size = max_size
        fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=target.parent)
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._max_size is not None and self.size > self._max_size:
            raise ValueTooLargeError(f"file exceeds max_size={self._max_size} bytes")
        self._hash.update(chunk)
        self._file.write(chunk)

    def commit(self, *, overwrite: bool, expected_sha256: str | None) -> str:
        digest = self._hash.hexdigest()
        if expected_sha256 is not None and expected_sha256.lower() != digest:
            raise IntegrityError(f"sha256 mismatch: expected {expected_sha256}, got {digest}")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        if overwrite:
            os.replace(self._tmp, self.target)
        else:
            try:  # link() never clobbers: atomic create-if-absent
                os.link(self._tmp, self.target)
            except FileExistsError as exc:
                raise FileExistsInStoreError(f"file exists: {self.target.name}") from exc
            os.unlink(self._tmp)
        _fsync_dir(self.target.parent)
        return digest

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass


class LocalFileStore:
    """Files under one root directory; implements :class:`FileStore`.

    Async methods run disk work in worker threads; ``open`` streams chunk by chunk, ``put`` accepts async or
    sync chunk streams, so memory stays bounded by ``chunk_size`` whatever the file size. ``*_sync`` twins block.
    """

    def __init__(self, root: str | PathLike[str], *, max_size: int | None = None, create: bool = True) -> None:
        if max_size is not None and max_size < 0:
            raise ValueError("max_size must be >= 0 or None")
        root_path = Path(root)
        if create:
            root_path.mkdir(parents=True, exist_ok=True)
        if not root_path.is_dir():
            raise NotADirectoryError(str(root_path))
        self.root = Path(os.path.realpath(root_path))
        self._max_size = max_size

    # -- path resolution ------------------------------------------------------------------------------------

    def _resolve(self, path: str) -> Path:
        """Map a store path onto the disk, refusing any existing symlink on the way."""
        rel = normalize_store_path(path)
        current = self.root
        for segment in rel.split("/"):
            current = current / segment
            try:
                st = os.lstat(current)
            except FileNotFoundError:
                break
            if stat_mod.S_ISLNK(st.st_mode):
                raise InvalidPathError(f"symlink in path: {path!r}")
        return self.root / rel

    def _ensure_parent(self, target: Path) -> None:
        """Create missing parent directories one by one, fsyncing each new entry's directory."""
        missing: list[Path] = []
        parent = target.parent
        while parent != self.root and not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for directory in reversed(missing):
            try:
                os.mkdir(directory)
            except FileExistsError:
                pass
            _fsync_dir(directory.parent)
        if not target.parent.is_dir() or target.parent.is_symlink():
            raise InvalidPathError("parent is not a directory")

    def _info(self, path: str, target: Path, sha256: str | None = None) -> FileInfo:
        st = os.lstat(target)
        if not stat_mod.S_ISREG(st.st_mode):
            raise FileNotFoundInStoreError(path)
        return FileInfo(
            path=path,
            size=st.st_size,
            modified_at=st.st_mtime,
            content_type=mimetypes.guess_type(path)[0],
            sha256=sha256,
        )

    # -- blocking twins ---------------------------------------------------------------------------------------

    def put_sync(
        self,
        path: str,
        content: bytes | bytearray | memoryview | Iterable[bytes] | BinaryIO,
        *,
        overwrite: bool = True,
        expected_sha256: str | None = None,
    ) -> FileInfo:
        writer = self._begin(path)
        try:
            for chunk in _sync_chunks(content):
                writer.write(chunk)
            digest = writer.commit(overwrite=overwrite, expected_sha256=expected_sha256)
        except BaseException:
            writer.abort()
            raise
        return self._info(path, writer.target, digest)

    def _begin(self, path: str) -> _AtomicWrite:
        target = self._resolve(path)
        self._ensure_parent(target)
        if target.is_dir():
            raise InvalidPathError(f"{path!r} is a directory")
        return _AtomicWrite(target, self._max_size)

    def open_sync(self, path: str) -> BinaryIO:
        """Open for reading without following a symlink at the final component."""
        target = self._resolve(path)
        try:
            fd = os.open(target, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
        except FileNotFoundError as exc:
            raise FileNotFoundInStoreError(path) from exc
        except OSError as exc:  # ELOOP from O_NOFOLLOW, EISDIR, ...
            raise InvalidPathError(f"cannot open {path!r}: {exc.strerror}") from exc
        if not stat_mod.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise FileNotFoundInStoreError(path)
        return os.fdopen(fd, "rb")

    def read_sync(self, path: str) -> bytes:
        with self.open_sync(path) as handle:
            return handle.read()

    def stat_sync(self, path: str) -> FileInfo:
        target = self._resolve(path)
        try:
            return self._info(path, target)
        except FileNotFoundError as exc:
            raise FileNotFoundInStoreError(path) from exc

    def sha256_sync(self, path: str, chunk_size: int = 65536) -> str:
        digest = hashlib.sha256()
        with self.open_sync(path) as handle:
            while chunk := handle.read(chunk_size):
                digest.update(chunk)
        return digest.hexdigest()

    def exists_sync(self, path: str) -> bool:
        try:
            self.stat_sync(path)
        except FileNotFoundInStoreError:
            return False
        return True

    def delete_sync(self, path: str) -> bool:
        target = self._resolve(path)
        try:
            if not stat_mod.S_ISREG(os.lstat(target).st_mode):
                return False
            os.unlink(target)
        except FileNotFoundError:
            return False
        _fsync_dir(target.parent)
        return True

    def list_sync(self, prefix: str = "", limit: int | None = None) -> list[FileInfo]:
        """Regular files whose store path starts with ``prefix``, sorted by path; symlinks and temp files skipped."""
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            base = Path(dirpath).relative_to(self.root).as_posix()
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
            for name in filenames:
                if name.startswith(_TEMP_PREFIX):
                    continue
                rel = name if base == "." else f"{base}/{name}"
                if rel.startswith(prefix) and os.path.isfile(os.path.join(dirpath, name)) and not os.path.islink(
                    os.path.join(dirpath, name)
                ):
                    found.append(rel)
        found.sort()
        if limit is not None:
            found = found[:limit]
        infos: list[FileInfo] = []
        for rel in found:
            try:
                infos.append(self.stat_sync(rel))
            except (FileNotFoundInStoreError, InvalidPathError):
                continue  # removed or replaced concurrently
        return infos

    def copy_sync(self, src: str, dst: str, *, overwrite: bool = True) -> FileInfo:
        with self.open_sync(src) as handle:
            return self.put_sync(dst, handle, overwrite=overwrite)

    # -- async contract ---------------------------------------------------------------------------------------

    async def put(
        self,
        path: str,
        content: FileContent,
        *,
        overwrite: bool = True,
        expected_sha256: str | None = None,
    ) -> FileInfo:
        if not isinstance(content, AsyncIterable):
            return await asyncio.to_thread(
                self.put_sync, path, content, overwrite=overwrite, expected_sha256=expected_sha256
            )
        writer = await asyncio.to_thread(self._begin, path)
        try:
            async for chunk in content:
                await asyncio.to_thread(writer.write, bytes(chunk))
            digest = await asyncio.to_thread(writer.commit, overwrite=overwrite, expected_sha256=expected_sha256)
        except BaseException:
            await asyncio.to_thread(writer.abort)
            raise
        return await asyncio.to_thread(self._info, path, writer.target, digest)

    async def open(self, path: str, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """Stream a file's bytes in chunks of at most ``chunk_size``."""
        if chunk_size <= 0:
            raise ValueError("chunk_size must be > 0")
        handle = await asyncio.to_thread(self.open_sync, path)
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def read(self, path: str) -> bytes:
        return await asyncio.to_thread(self.read_sync, path)

    async def stat(self, path: str) -> FileInfo:
        return await asyncio.to_thread(self.stat_sync, path)

    async def sha256(self, path: str) -> str:
        return await asyncio.to_thread(self.sha256_sync, path)

    async def exists(self, path: str) -> bool:
        return await asyncio.to_thread(self.exists_sync, path)

    async def delete(self, path: str) -> bool:
        return await asyncio.to_thread(self.delete_sync, path)

    async def list(self, prefix: str = "", limit: int | None = None) -> list[FileInfo]:
        return await asyncio.to_thread(self.list_sync, prefix, limit)

    async def copy(self, src: str, dst: str, *, overwrite: bool = True) -> FileInfo:
        return await asyncio.to_thread(self.copy_sync, src, dst, overwrite=overwrite)


def _sync_chunks(
    content: bytes | bytearray | memoryview | Iterable[bytes] | BinaryIO, chunk_size: int = 65536
) -> Iterable[bytes]:
    if isinstance(content, (bytes, bytearray, memoryview)):
        yield bytes(content)
        return
    read = getattr(content, "read", None)
    if callable(read):
        while chunk := read(chunk_size):
            yield bytes(chunk)
        return
    for chunk in content:
        yield bytes(chunk)
