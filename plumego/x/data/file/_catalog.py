"""Tenant-scoped files: blobs in a :class:`Storage`, records in a :class:`MetadataStore` (Go's Storage + metadata).

Owns :class:`FileCatalog` and :class:`PutOptions`: random ids (128 bits from ``secrets``), keys
``<tenant>/<yyyy>/<mm>/<dd>/<id>.<ext>`` that never contain client text except a vetted extension, the size limit
while streaming, per-tenant SHA-256 dedupe (a second upload of the same bytes returns the first record and leaves
no second blob, even when two workers race: the metadata store's unique index decides), and cleanup so a failed
upload leaves neither a blob nor a record. Imports the standard library, plumego.store and this package.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from plumego.store import FileNotFoundInStoreError, ValueTooLargeError

from ._types import (
    DuplicateFileError,
    FilePage,
    FileQuery,
    FileRecord,
    MetadataStore,
    Storage,
    safe_file_name,
    validate_tenant_id,
)

__all__ = ["FileCatalog", "PutOptions"]

_EXT = re.compile(r"[a-z0-9]{1,10}")
_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class PutOptions:
    """What to store (Go's ``PutOptions``); ``content_type`` empty: guessed from the name."""

    tenant_id: str
    file_name: str
    content_type: str = ""
    uploaded_by: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    generate_thumbnail: bool = False
    thumbnail_size: tuple[int, int] = (200, 200)


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    ext = ext.lower()
    return ext if dot and stem and _EXT.fullmatch(ext) else ""


class FileCatalog:
    """Put, read, list, soft-delete and purge one tenant's files. ``storage_name`` is recorded on each file."""

    def __init__(self, storage: Storage, metadata: MetadataStore, *, storage_name: str = "",
                 max_size: int | None = None, clock: Callable[[], float] = time.time) -> None:
        if max_size is not None and max_size < 0:
            raise ValueError("max_size must be >= 0 or None")
        self.storage = storage
        self.metadata = metadata
        self.storage_name = storage_name or type(storage).__name__.removesuffix("Storage").lower()
        self.max_size = max_size
        self._clock = clock

    def new_key(self, tenant_id: str, file_id: str, name: str, now: float) -> str:
        day = datetime.fromtimestamp(now, tz=timezone.utc)
        ext = _extension(name)
        return f"{tenant_id}/{day:%Y/%m/%d}/{file_id}{'.' + ext if ext else ''}"

    async def _limited(self, content: AsyncIterable[bytes] | bytes) -> AsyncIterator[bytes]:
        if isinstance(content, (bytes, bytearray, memoryview)):
            content = _once(bytes(content))
        size = 0
        async for chunk in content:
            size += len(chunk)
            if self.max_size is not None and size > self.max_size:
                raise ValueTooLargeError(f"file exceeds the limit of {self.max_size} bytes")
            yield chunk

    async def put(self, options: PutOptions, content: AsyncIterable[bytes] | bytes) -> FileRecord:
        """Store a file; returns its record, or the tenant's existing record for the same bytes (dedupe).

        Raises ValueTooLargeError past ``max_size``, InvalidTenantError, and whatever the content stream raises
        (a truncated upload): in each case nothing is left behind.
        """
        tenant_id = validate_tenant_id(options.tenant_id)
        name = safe_file_name(options.file_name)
        content_type = options.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        now = self._clock()
        file_id = secrets.token_hex(16)
        key = self.new_key(tenant_id, file_id, name, now)
        blob = await self.storage.put(key, self._limited(content), content_type=content_type)
        assert blob.sha256 is not None
        try:
            existing = await self.metadata.get_by_hash(tenant_id, blob.sha256)
            if existing is not None:
                await self.storage.delete(key)
                return existing
            width = height = None
            thumbnail_path = None
            if options.generate_thumbnail and content_type.startswith("image/"):
                from ._thumbnail import make_thumbnail

                made = await make_thumbnail(self.storage, key, f"{key}.thumb.png", options.thumbnail_size)
                if made is not None:
                    width, height, thumbnail_path = made
            record = FileRecord(id=file_id, tenant_id=tenant_id, name=name, path=key, size=blob.size,
                                mime_type=content_type, sha256=blob.sha256, uploaded_by=options.uploaded_by,
                                created_at=now, updated_at=now, width=width, height=height,
                                thumbnail_path=thumbnail_path, storage=self.storage_name, metadata=options.metadata)
            try:
                await self.metadata.save(record)
            except DuplicateFileError:
                existing = await self.metadata.get_by_hash(tenant_id, blob.sha256)   # lost a race to a twin
                if existing is None:
                    raise
                await self._remove_blobs(key, thumbnail_path)
                return existing
        except BaseException:
            await self._remove_blobs(key, None)
            raise
        return record

    async def _remove_blobs(self, key: str, thumbnail_path: str | None) -> None:
        for path in (key, thumbnail_path):
            if path is not None:
                try:
                    await self.storage.delete(path)
                except Exception:  # noqa: BLE001 - best effort: the original error is what the caller needs
                    pass

    async def get(self, tenant_id: str, file_id: str) -> FileRecord:
        """The tenant's live file, else FileNotFoundInStoreError (also for another tenant's id or a bad id)."""
        validate_tenant_id(tenant_id)
        record = await self.metadata.get(tenant_id, file_id) if _ID.fullmatch(file_id) else None
        if record is None:
            raise FileNotFoundInStoreError(file_id)
        return record

    def open(self, record: FileRecord, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        return self.storage.open(record.path, start=start, end=end)

    async def read(self, record: FileRecord) -> bytes:
        return b"".join([chunk async for chunk in self.open(record)])

    async def touch(self, record: FileRecord) -> None:
        await self.metadata.touch(record.tenant_id, record.id, self._clock())

    async def list(self, query: FileQuery) -> FilePage:
        return await self.metadata.list(query)

    async def delete(self, tenant_id: str, file_id: str) -> bool:
        """Soft delete (Go's behaviour): the record is hidden, the blob stays until :meth:`purge`."""
        validate_tenant_id(tenant_id)
        return await self.metadata.delete(tenant_id, file_id, at=self._clock()) if _ID.fullmatch(file_id) else False

    async def purge(self, tenant_id: str, file_id: str) -> bool:
        """Remove the blob, its thumbnail and the record for good, deleted or not."""
        validate_tenant_id(tenant_id)
        if not _ID.fullmatch(file_id):
            return False
        record = await self.metadata.get(tenant_id, file_id, include_deleted=True)
        if record is None:
            return False
        await self.storage.delete(record.path)
        if record.thumbnail_path:
            await self.storage.delete(record.thumbnail_path)
        return await self.metadata.purge(tenant_id, file_id)

    async def presigned_url(self, record: FileRecord, expires_in: int) -> str | None:
        return await self.storage.presigned_url(record.path, expires_in, filename=record.name,
                                                content_type=record.mime_type)

    async def close(self) -> None:
        await self.storage.close()
        await self.metadata.close()


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
