"""The engines of the file conformance suites: every storage test runs on the local disk and on a real S3 API
server (moto's server mode, started once per session by ``s3_endpoint``); every metadata test on SQLite and on
PostgreSQL (marked ``services``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plumego.x.data.file import LocalStorage, MetadataStore, S3Config, S3Storage, Storage, open_metadata

STORAGES = ["local", "s3"]
METADATA = ["sqlite", pytest.param("postgres", marks=pytest.mark.services)]
SMALL_PART = 5 * 1024 * 1024    # S3's minimum part size: multipart paths run with the least data


@pytest.fixture(params=STORAGES)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    engine: Storage
    if request.param == "local":
        engine = LocalStorage(tmp_path / "blobs")
    else:
        endpoint, bucket = request.getfixturevalue("s3_bucket")
        engine = S3Storage(S3Config(bucket=bucket, endpoint=endpoint, access_key="test", secret_key="test",
                                    prefix="app", part_size=SMALL_PART))
    yield engine
    await engine.close()


@pytest.fixture(params=METADATA)
async def metadata(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MetadataStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'files.db'}"
    else:
        base, schema = request.getfixturevalue("pg_schema")
        url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    store = await open_metadata(url)
    yield store
    await store.close()
