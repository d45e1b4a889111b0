"""Choose file storage and metadata engines by URL, so an app moves from one machine to many by configuration.

Storage: a directory path or ``file:///abs/dir`` -> :class:`LocalStorage`; ``s3://bucket[/prefix]?endpoint=...``
-> :class:`S3Storage`. Metadata: ``sqlite:///relative.db`` or ``sqlite:////abs.db`` -> :class:`SQLiteMetadataStore`
(the default); ``postgresql://...?schema=S&table=T`` -> :class:`PostgresMetadataStore`. Owns URL parsing only;
an engine's client library is imported when its URL is used. Imports the standard library and this package.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ._types import MetadataStore, Storage

__all__ = ["open_metadata", "open_storage"]


def open_storage(url: str, *, max_size: int | None = None) -> Storage:
    parts = urlsplit(url)
    if parts.scheme == "s3":
        from ._s3 import S3Storage

        return S3Storage.from_url(url)
    if parts.scheme == "file":
        from ._local import LocalStorage

        return LocalStorage(parts.path, max_size=max_size)
    if parts.scheme == "" and url:
        from ._local import LocalStorage

        return LocalStorage(url, max_size=max_size)
    raise ValueError(f"unsupported file storage URL {parts.scheme!r}: use a directory, file:///dir or s3://bucket")


async def open_metadata(url: str) -> MetadataStore:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        from ._meta_sqlite import SQLiteMetadataStore

        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not path:
            raise ValueError("a sqlite metadata URL needs a file path: sqlite:///files.db")
        table = parse_qs(parts.query).get("table", ["files"])[-1]
        return SQLiteMetadataStore(path, table=table)
    if parts.scheme in ("postgresql", "postgres"):
        from ._meta_postgres import PostgresMetadataStore

        return await PostgresMetadataStore.open(url)
    raise ValueError(f"unsupported file metadata URL {parts.scheme!r}: use sqlite:/// or postgresql://")
