"""plumego.x.data.file (beta): tenant-scoped file storage on the local disk or any S3-compatible service, with file
metadata on SQLite (default) or PostgreSQL.

Blobs (:class:`Storage`: :class:`LocalStorage`, :class:`S3Storage`) and records (:class:`MetadataStore`:
:class:`SQLiteMetadataStore`, :class:`PostgresMetadataStore`) meet in :class:`FileCatalog` (random ids, per-tenant
SHA-256 dedupe, size limit while streaming, no leftovers on failure). Beyond Go: streaming S3 multipart uploads
instead of spooling to a temp file, ranged reads, SQLite metadata, and the maintained boto3 signer instead of a
hand-written SigV4. Engines' libraries are optional extras, imported when used. Imports the standard library,
plumego.store and this package; never plumego.core, router, middleware or security.
"""

from typing import TYPE_CHECKING, Any

from ._catalog import FileCatalog, PutOptions
from ._local import LocalStorage
from ._meta_sqlite import SQLiteMetadataStore
from ._open import open_metadata, open_storage
from ._s3 import S3Config, S3Storage
from ._types import (
    ORDER_FIELDS,
    BlobInfo,
    DuplicateFileError,
    FileBackendError,
    FilePage,
    FileQuery,
    FileRecord,
    InvalidTenantError,
    MetadataStore,
    Storage,
    StorageCapabilities,
    content_disposition,
    safe_file_name,
    validate_tenant_id,
)

if TYPE_CHECKING:
    from ._meta_postgres import PostgresMetadataStore

__all__ = [
    "BlobInfo",
    "DuplicateFileError",
    "FileBackendError",
    "FileCatalog",
    "FilePage",
    "FileQuery",
    "FileRecord",
    "InvalidTenantError",
    "LocalStorage",
    "MetadataStore",
    "ORDER_FIELDS",
    "PostgresMetadataStore",
    "PutOptions",
    "S3Config",
    "S3Storage",
    "SQLiteMetadataStore",
    "Storage",
    "StorageCapabilities",
    "content_disposition",
    "open_metadata",
    "open_storage",
    "safe_file_name",
    "validate_tenant_id",
]


def __getattr__(name: str) -> Any:
    if name == "PostgresMetadataStore":   # psycopg is imported only when PostgreSQL is used
        from ._meta_postgres import PostgresMetadataStore

        return PostgresMetadataStore
    raise AttributeError(name)
