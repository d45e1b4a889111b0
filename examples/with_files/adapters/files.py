"""The app's file service, and its implementation on plumego.x.fileapi and plumego.x.data.file (experimental, so
they stay here).

Owns ``FileService`` (what the app needs: a tenant middleware, routes, start and stop) and ``PlumegoFiles``: blobs
on the local disk or on S3 (chosen by URL), metadata on SQLite or PostgreSQL (chosen by URL), the tenant taken
from ``X-Tenant-ID`` by a stand-in for x/tenant's resolve middleware. Imports plumego's file APIs only here.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Protocol

from plumego.contract import APIError, ASGIApp, ErrorType, Receive, Request, Scope, Send
from plumego.x.data.file import FileCatalog, open_metadata, open_storage
from plumego.x.fileapi import FileHandler, with_tenant_id, with_user_id


class Routes(Protocol):
    def get(self, path: str, handler: Any, **options: Any) -> Any: ...
    def post(self, path: str, handler: Any, **options: Any) -> Any: ...
    def delete(self, path: str, handler: Any, **options: Any) -> Any: ...


class FileService(Protocol):
    def tenant_middleware(self, app: ASGIApp) -> ASGIApp: ...
    def register(self, routes: Routes, prefix: str) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def _link_key(data_dir: Path, configured: str) -> bytes:
    """The key that signs local download links: configured, else one kept in the data directory (so links
    survive a restart and every worker on this host shares it)."""
    if configured:
        return configured.encode()
    path = data_dir / "link.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass                                   # another worker made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


class PlumegoFiles:
    def __init__(self, storage_url: str, metadata_url: str, data_dir: Path, *, max_size: int,
                 link_key: str = "") -> None:
        self._storage_url = storage_url
        self._metadata_url = metadata_url
        self._max_size = max_size
        self._link_key = _link_key(data_dir, link_key)
        self._handler: FileHandler | None = None

    async def start(self) -> None:
        storage = open_storage(self._storage_url)
        catalog = FileCatalog(storage, await open_metadata(self._metadata_url),
                              storage_name="s3" if self._storage_url.startswith("s3://") else "local")
        self._handler = FileHandler(catalog, max_size=self._max_size, link_key=self._link_key)

    async def stop(self) -> None:
        if self._handler is not None:
            await self._handler.catalog.close()

    def tenant_middleware(self, app: ASGIApp) -> ASGIApp:
        """Stand-in for x/tenant's resolve step: ``X-Tenant-ID`` into the scope; 401/400 when missing/invalid is
        answered by the file handlers (the links route needs no tenant)."""
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                for name, value in scope["headers"]:
                    if name == b"x-tenant-id":
                        with_tenant_id(scope, value.decode("latin-1"))
                    elif name == b"x-user-id":
                        with_user_id(scope, value.decode("latin-1"))
            await app(scope, receive, send)
        return middleware

    def _h(self) -> FileHandler:
        if self._handler is None:
            raise APIError(ErrorType.UNAVAILABLE, "starting up")
        return self._handler

    def register(self, routes: Routes, prefix: str) -> None:
        p = prefix.rstrip("/")

        async def upload(r: Request) -> Any:
            return await self._h().upload(r)

        async def listing(r: Request) -> Any:
            return await self._h().list(r)

        async def link(r: Request) -> Any:
            return await self._h().download_link(r)

        async def info(r: Request) -> Any:
            return await self._h().info(r)

        async def delete(r: Request) -> Any:
            return await self._h().delete(r)

        async def download(r: Request) -> Any:
            return await self._h().download(r)

        async def url(r: Request) -> Any:
            return await self._h().url(r)

        routes.post(p, upload)
        routes.get(p, listing)
        routes.get(f"{p}/links/:token", link)
        routes.get(f"{p}/:id", info)
        routes.delete(f"{p}/:id", delete)
        routes.get(f"{p}/:id/download", download)
        routes.get(f"{p}/:id/url", url)


def check_storage_url(url: str) -> str:
    """'' or a directory or s3://...; raises ValueError otherwise."""
    if url and "://" in url and not url.startswith(("s3://", "file://")):
        raise ValueError("--backend must be a directory, file:///dir or s3://bucket?endpoint=...")
    return url
