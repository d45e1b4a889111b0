"""FileCatalog over each storage engine (local, S3) with SQLite metadata, and S3 + PostgreSQL as several workers
would share them: tenant-scoped keys, random ids, per-tenant dedupe, size limits, no leftovers on failure."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plumego.store import FileNotFoundInStoreError, ValueTooLargeError
from plumego.x.data.file import (
    FileCatalog,
    FileQuery,
    InvalidTenantError,
    PutOptions,
    S3Config,
    S3Storage,
    SQLiteMetadataStore,
    Storage,
    open_metadata,
)


@pytest.fixture
async def catalog(storage: Storage, tmp_path: Path) -> AsyncIterator[FileCatalog]:
    cat = FileCatalog(storage, SQLiteMetadataStore(tmp_path / "meta.db"), max_size=1 << 20,
                      clock=lambda: 1_780_000_000.0)
    yield cat
    await cat.metadata.close()


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_put_get_read(catalog: FileCatalog) -> None:
    record = await catalog.put(PutOptions(tenant_id="acme", file_name="../../Report é.PDF", uploaded_by="ada"),
                               chunks(b"%PDF", b"-1.4"))
    assert re.fullmatch(r"[0-9a-f]{32}", record.id)
    assert record.path == f"acme/2026/05/28/{record.id}.pdf"            # tenant-scoped, no client text but .pdf
    assert record.name == "Report é.PDF" and record.extension == "pdf" and record.mime_type == "application/pdf"
    assert record.sha256 == hashlib.sha256(b"%PDF-1.4").hexdigest() and record.size == 8
    assert record.storage in ("local", "s3")
    assert await catalog.get("acme", record.id) == record
    assert await catalog.read(record) == b"%PDF-1.4"
    with pytest.raises(FileNotFoundInStoreError):
        await catalog.get("other", record.id)                           # another tenant's id is simply not found
    with pytest.raises(FileNotFoundInStoreError):
        await catalog.get("acme", "../x")


async def test_dedupe_per_tenant(catalog: FileCatalog) -> None:
    first = await catalog.put(PutOptions(tenant_id="acme", file_name="a.txt"), b"same bytes")
    again = await catalog.put(PutOptions(tenant_id="acme", file_name="b.txt"), b"same bytes")
    assert again == first
    other = await catalog.put(PutOptions(tenant_id="globex", file_name="a.txt"), b"same bytes")
    assert other.id != first.id and other.path.startswith("globex/")
    assert [b.key for b in await catalog.storage.list("acme/")] == [first.path]     # no second blob


async def test_size_limit_and_failed_stream_leave_nothing(catalog: FileCatalog) -> None:
    with pytest.raises(ValueTooLargeError):
        await catalog.put(PutOptions(tenant_id="acme", file_name="big.bin"), chunks(b"x" * (1 << 20), b"y"))

    async def truncated() -> AsyncIterator[bytes]:
        yield b"part of a file"
        raise ConnectionResetError("client disconnected")

    with pytest.raises(ConnectionResetError):
        await catalog.put(PutOptions(tenant_id="acme", file_name="half.bin"), truncated())
    assert await catalog.storage.list("acme/") == []
    assert (await catalog.list(FileQuery(tenant_id="acme"))).total == 0


@pytest.mark.parametrize("tenant", ["", "..", ".", "a/b", "a b", "x" * 256, "é"])
async def test_invalid_tenants_refused(catalog: FileCatalog, tenant: str) -> None:
    with pytest.raises(InvalidTenantError):
        await catalog.put(PutOptions(tenant_id=tenant, file_name="a.txt"), b"x")


async def test_soft_delete_then_purge(catalog: FileCatalog) -> None:
    record = await catalog.put(PutOptions(tenant_id="acme", file_name="a.txt"), b"abc")
    assert await catalog.delete("other", record.id) is False
    assert await catalog.delete("acme", record.id) is True
    with pytest.raises(FileNotFoundInStoreError):
        await catalog.get("acme", record.id)
    assert await catalog.storage.exists(record.path)                    # soft: the blob stays
    assert await catalog.purge("acme", record.id) is True
    assert not await catalog.storage.exists(record.path)
    assert await catalog.purge("acme", record.id) is False


async def test_thumbnail(catalog: FileCatalog) -> None:
    image = pytest.importorskip("PIL.Image", reason="Pillow is not installed (pip install 'plumego[thumbnails]')")
    buf = io.BytesIO()
    image.new("RGB", (640, 320), (200, 30, 30)).save(buf, format="JPEG")
    record = await catalog.put(PutOptions(tenant_id="acme", file_name="cat.jpg", generate_thumbnail=True),
                               buf.getvalue())
    assert (record.width, record.height) == (640, 320) and record.thumbnail_path is not None
    thumb = b"".join([c async for c in catalog.storage.open(record.thumbnail_path)])
    with image.open(io.BytesIO(thumb)) as opened:
        assert opened.size == (200, 100)
    not_image = await catalog.put(PutOptions(tenant_id="acme", file_name="fake.png", generate_thumbnail=True),
                                  b"not really a png")
    assert not_image.thumbnail_path is None and not_image.width is None
    await catalog.purge("acme", record.id)
    assert [b.key for b in await catalog.storage.list("acme/")] == [not_image.path]
    assert not await catalog.storage.exists(record.thumbnail_path)


@pytest.mark.services
async def test_two_workers_on_s3_and_postgres_dedupe(s3_bucket: tuple[str, str],
                                                     pg_schema: tuple[str, str]) -> None:
    """Two catalogs (as two uvicorn workers would hold) upload the same bytes at once: one record, one blob."""
    endpoint, bucket = s3_bucket
    base, schema = pg_schema
    url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    config = S3Config(bucket=bucket, endpoint=endpoint, access_key="test", secret_key="test")
    workers = [FileCatalog(S3Storage(config), await open_metadata(url)) for _ in range(2)]
    try:
        data = os.urandom(50_000)
        records = await asyncio.gather(*(w.put(PutOptions(tenant_id="acme", file_name="x.bin"), data)
                                         for w in workers for _ in range(3)))
        assert len({r.id for r in records}) == 1
        assert [b.key for b in await workers[0].storage.list("acme/")] == [records[0].path]
        assert (await workers[1].list(FileQuery(tenant_id="acme"))).total == 1
    finally:
        for w in workers:
            await w.close()
