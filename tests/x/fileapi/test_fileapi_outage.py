"""PostgreSQL (the metadata store) goes away mid-run for one app (a cut proxy; the shared server keeps running):
requests get a clean 503 without engine details, a failed upload leaves no blob, and once the server is back
every acknowledged file is still there and uploads work again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from plumego.core import App
from plumego.x.data.file import FileCatalog, LocalStorage, open_metadata
from plumego.x.fileapi import FileHandler, register_routes, with_tenant_id

from ..tcp_proxy import CuttableProxy

BOUNDARY = "outageboundary"
HEADERS = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def body(name: str, data: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n").encode() \
        + data + f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.mark.services
async def test_metadata_outage_is_a_clean_503_and_loses_nothing(pg_schema: tuple[str, str], tmp_path: Path) -> None:
    base, schema = pg_schema
    parts = urlsplit(base)
    proxy = CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    url = urlunsplit((parts.scheme, f"{user}127.0.0.1:{proxy.port}", parts.path, parts.query, ""))
    metadata = await open_metadata(f"{url}{'&' if '?' in url else '?'}schema={schema}&pool_timeout=1")
    catalog = FileCatalog(LocalStorage(tmp_path / "blobs"), metadata)
    app = App()

    def tenant(inner):  # type: ignore[no-untyped-def]
        async def middleware(scope, receive, send):  # type: ignore[no-untyped-def]
            with_tenant_id(scope, "acme")
            await inner(scope, receive, send)
        return middleware

    app.use(tenant)
    register_routes(app, FileHandler(catalog))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    try:
        first = await client.post("/files", content=body("a.txt", b"acknowledged"), headers=HEADERS)
        assert first.status_code == 201
        proxy.cut()
        failed = await client.post("/files", content=body("b.txt", b"during the outage"), headers=HEADERS)
        assert failed.status_code == 503
        assert failed.json()["error"]["message"] == "file storage is unavailable, try again later"
        assert "127.0.0.1" not in failed.text and "psycopg" not in failed.text.lower()
        assert (await client.get(f"/files/{first.json()['id']}")).status_code == 503
        assert len(list((tmp_path / "blobs").rglob("*.txt"))) == 1           # the failed upload left no blob
        proxy.restore()
        for _ in range(60):      # the pool reconnects in the background with back-off: 503 until it has
            again = await client.get(f"/files/{first.json()['id']}/download")
            if again.status_code != 503:
                break
            await asyncio.sleep(0.25)
        assert again.status_code == 200 and again.content == b"acknowledged"
        second = await client.post("/files", content=body("b.txt", b"after the outage"), headers=HEADERS)
        assert second.status_code == 201
        assert (await client.get("/files")).json()["total"] == 2
    finally:
        await client.aclose()
        await catalog.close()
        await proxy.close()
