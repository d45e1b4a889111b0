"""The file family's vocabulary: the blob Storage protocol, file records, list queries and errors.

Owns the data types and protocols every backend shares (local and S3 blob storage, SQLite and PostgreSQL metadata)
and the tenant-id and file-name rules that keep paths contained. Imports the standard library and plumego.store
(whose error classes the backends raise, so callers catch one family whatever the engine).
"""

from __future__ import annotations

import builtins
import re
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, runtime_checkable
from urllib.parse import quote

from plumego.store import StoreError

__all__ = [
    "BlobInfo",
    "DuplicateFileError",
    "FileBackendError",
    "FilePage",
    "FileQuery",
    "FileRecord",
    "InvalidTenantError",
    "MetadataStore",
    "ORDER_FIELDS",
    "Storage",
    "StorageCapabilities",
    "content_disposition",
    "safe_file_name",
    "validate_tenant_id",
]

_TENANT_RE = re.compile(r"[A-Za-z0-9._-]{1,255}")
#: The ``order_by`` values a list accepts (``-`` prefix: descending).
ORDER_FIELDS = ("created_at", "name", "size", "mime_type")


class InvalidTenantError(StoreError, ValueError):
    """A tenant id outside Go's rule (1-255 bytes of ``[A-Za-z0-9._-]``) or one that names a directory (``.``)."""


class FileBackendError(StoreError):
    """The storage or metadata engine failed (network, permissions, server down). The message is for logs only:
    it may name hosts or buckets, so HTTP layers must never show it to a client."""


class DuplicateFileError(StoreError):
    """A record with the same id, or the same live (tenant, sha256), already exists."""


def validate_tenant_id(tenant_id: str) -> str:
    """Return ``tenant_id`` if valid (Go's ``ValidateTenantID``), else raise :class:`InvalidTenantError`.

    Go accepts ``.`` and ``..``; we refuse them because tenant ids become path segments.
    """
    if not isinstance(tenant_id, str) or not _TENANT_RE.fullmatch(tenant_id) or tenant_id in (".", ".."):
        raise InvalidTenantError("tenant id must be 1-255 characters of [A-Za-z0-9._-] and not '.' or '..'")
    return tenant_id


def safe_file_name(name: str, *, max_length: int = 255) -> str:
    """A client-supplied file name reduced to its last path component, NFC-normalised, control characters and
    quotes dropped. Only ever used as a display name and an extension: storage keys never contain it."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"')
    name = name.strip().strip(".") or "file"
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: max_length - len(ext) - 1] + "." + ext) if dot and len(ext) < 16 else name[:max_length]
    return name


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''percent-encoded`` (RFC 6266): safe for any name."""
    name = safe_file_name(filename)
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    value = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """One stored object. ``sha256`` is known after a put and when the engine keeps it (local always does)."""

    key: str
    size: int
    sha256: str | None = None
    modified_at: float = 0.0
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class StorageCapabilities:
    """What differs between engines: ``presigned_urls`` (the engine itself serves a time-limited URL, as S3 does)
    and ``shared`` (several machines see the same objects)."""

    presigned_urls: bool
    shared: bool


@runtime_checkable
class Storage(Protocol):
    """Blob storage by key (slash-separated, no ``..``): what the local and S3 engines implement.

    ``put`` streams ``content`` without holding it in memory, computes SHA-256 and publishes the object only when
    the whole stream was read (an exception from the stream leaves nothing behind). ``open`` yields the bytes of
    ``[start, end)`` (``end`` None: to the end). Missing keys raise ``FileNotFoundInStoreError``; engine failures
    raise :class:`FileBackendError`.
    """

    capabilities: StorageCapabilities

    async def put(
        self, key: str, content: AsyncIterable[bytes] | bytes, *, content_type: str = "application/octet-stream"
    ) -> BlobInfo: ...

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]: ...

    async def stat(self, key: str) -> BlobInfo: ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> bool: ...

    async def list(self, prefix: str = "", limit: int | None = None) -> builtins.list[BlobInfo]: ...

    async def copy(self, src: str, dst: str) -> BlobInfo: ...

    async def presigned_url(
        self, key: str, expires_in: int, *, filename: str | None = None, content_type: str | None = None
    ) -> str | None:
        """A time-limited GET URL, or None when the engine has none (the HTTP layer then signs its own)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class FileRecord:
    """The metadata of one file (Go's ``File``). ``path`` is the storage key; ``deleted_at`` marks a soft delete."""

    id: str
    tenant_id: str
    name: str
    path: str
    size: int
    mime_type: str
    sha256: str
    uploaded_by: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    last_access_at: float | None = None
    deleted_at: float | None = None
    width: int | None = None
    height: int | None = None
    thumbnail_path: str | None = None
    storage: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @property
    def extension(self) -> str:
        stem, dot, ext = self.name.rpartition(".")
        return ext.lower() if dot and stem else ""

    @property
    def etag(self) -> str:
        """A strong validator: the content hash (the same bytes always give the same tag)."""
        return f'"{self.sha256}"'

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "name": self.name,
            "size": self.size,
            "mime_type": self.mime_type,
            "extension": self.extension,
            "hash": self.sha256,
            "width": self.width,
            "height": self.height,
            "has_thumbnail": self.thumbnail_path is not None,
            "storage_type": self.storage,
            "uploaded_by": self.uploaded_by,
            "metadata": dict(self.metadata),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_access_at": self.last_access_at,
        }


@dataclass(frozen=True, slots=True)
class FileQuery:
    """A page of one tenant's live files (Go's ``Query``). Times are Unix seconds, ``end_time`` exclusive."""

    tenant_id: str
    page: int = 1
    page_size: int = 20
    mime_type: str | None = None
    uploaded_by: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    order_by: str = "-created_at"

    def __post_init__(self) -> None:
        validate_tenant_id(self.tenant_id)
        if self.page < 1:
            raise ValueError("page must be >= 1")
        if not 1 <= self.page_size <= 100:
            raise ValueError("page_size must be between 1 and 100")
        if self.order_by.lstrip("-") not in ORDER_FIELDS:
            raise ValueError(f"order_by must be one of {', '.join(ORDER_FIELDS)} (prefix - for descending)")

    @property
    def order(self) -> tuple[str, bool]:
        """(column, descending)."""
        return self.order_by.lstrip("-"), self.order_by.startswith("-")


@dataclass(frozen=True, slots=True)
class FilePage:
    items: list[FileRecord]
    total: int
    page: int
    page_size: int

    @property
    def total_pages(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size

    def to_json(self) -> dict[str, object]:
        return {
            "items": [item.to_json() for item in self.items],
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "total_page": self.total_pages,
        }


@runtime_checkable
class MetadataStore(Protocol):
    """File records (Go's ``MetadataManager``): SQLite by default, PostgreSQL to share between machines.

    Reads by tenant never return another tenant's record. ``get``/``get_by_hash``/``list`` skip soft-deleted
    records; ``save`` raises :class:`DuplicateFileError` when the id or the live (tenant, sha256) pair exists.
    """

    async def save(self, record: FileRecord) -> None: ...

    async def get(self, tenant_id: str, file_id: str, *, include_deleted: bool = False) -> FileRecord | None: ...

    async def get_by_hash(self, tenant_id: str, sha256: str) -> FileRecord | None: ...

    async def get_by_path(self, path: str) -> FileRecord | None: ...

    async def list(self, query: FileQuery) -> FilePage: ...

    async def list_all(
        self, *, limit: int = 100, offset: int = 0, include_deleted: bool = False
    ) -> builtins.list[FileRecord]:
        ...

    async def delete(self, tenant_id: str, file_id: str, *, at: float | None = None) -> bool:
        """Soft delete; True when a live record was marked."""
        ...

    async def purge(self, tenant_id: str, file_id: str) -> bool:
        """Remove the record for good (after its blob is gone)."""
        ...

    async def touch(self, tenant_id: str, file_id: str, at: float) -> None:
        """Update the last-access time (Go's ``UpdateAccessTime``)."""
        ...

    async def close(self) -> None: ...
