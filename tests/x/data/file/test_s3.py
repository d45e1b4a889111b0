"""S3-only behaviour: a long stream goes up as a multipart upload (parts sent as they fill), a failed stream aborts
it (no orphaned upload), and configuration from a URL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import boto3
import pytest

from plumego.x.data.file import S3Config, S3Storage

from .conftest import SMALL_PART


async def stream(total: int, *, fail: bool = False) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        chunk = os.urandom(min(1 << 20, total - sent))
        sent += len(chunk)
        yield chunk
    if fail:
        raise ConnectionResetError("client went away")


async def test_multipart_upload_and_abort(s3_bucket: tuple[str, str]) -> None:
    endpoint, bucket = s3_bucket
    storage = S3Storage(S3Config(bucket=bucket, endpoint=endpoint, access_key="t", secret_key="t",
                                 part_size=SMALL_PART))
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="t",
                          aws_secret_access_key="t")
    try:
        await storage.put("big.bin", stream(2 * SMALL_PART + 1))
        etag = client.head_object(Bucket=bucket, Key="big.bin")["ETag"]
        assert etag.strip('"').endswith("-3")                     # three parts: a multipart upload
        with pytest.raises(ConnectionResetError):
            await storage.put("broken.bin", stream(SMALL_PART + 1, fail=True))
        assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
        assert not await storage.exists("broken.bin")
    finally:
        client.close()
        await storage.close()


def test_config_from_url() -> None:
    cfg = S3Config.from_url("s3://AK%2B:SK%2F@media/tenants/files?endpoint=http://127.0.0.1:9000&region=eu-west-1"
                            "&path_style=0&create_bucket=1")
    assert (cfg.bucket, cfg.prefix, cfg.endpoint, cfg.region) == ("media", "tenants/files", "http://127.0.0.1:9000",
                                                                 "eu-west-1")
    assert (cfg.access_key, cfg.secret_key, cfg.path_style, cfg.create_bucket) == ("AK+", "SK/", False, True)
    with pytest.raises(ValueError):
        S3Config.from_url("http://bucket")
    with pytest.raises(ValueError):
        S3Storage(S3Config(bucket="b", part_size=1024))
