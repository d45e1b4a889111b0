"""Blob storage on any S3-compatible service (AWS S3, MinIO, Ceph, moto) through boto3.

Owns :class:`S3Storage` and :class:`S3Config`. Where Go signs requests with its own SigV4 code and spools every
upload to a temp file, we use boto3 (the maintained signer and retry logic) and stream: a body shorter than one
part goes up in one PUT, a longer one as a multipart upload whose parts are sent as they fill, so memory holds at
most one part (8 MiB by default) whatever the file size, and a failed or abandoned stream aborts the upload, so no
half object is ever published. boto3 is synchronous; every call runs in a worker thread. Install with
``pip install 'plumego[data]'`` (boto3 is imported when a storage is created). Imports the standard library,
plumego.store and, lazily, boto3.
"""

from __future__ import annotations

import builtins
import asyncio
import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from plumego.store import FileNotFoundInStoreError, normalize_store_path

from ._types import BlobInfo, FileBackendError, StorageCapabilities, content_disposition

__all__ = ["S3Config", "S3Storage"]

_T = TypeVar("_T")
_MIN_PART = 5 * 1024 * 1024          # S3's minimum size of every part but the last
_READ_CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class S3Config:
    """Where the objects live (Go's ``S3Config``). Empty credentials use boto3's chain (environment, profile, IAM).

    ``endpoint`` is the service URL for anything other than AWS (``http://127.0.0.1:9000``); ``path_style``
    addresses ``endpoint/bucket/key`` instead of ``bucket.endpoint/key`` (MinIO and moto want it).
    """

    bucket: str
    endpoint: str = ""
    region: str = "us-east-1"
    access_key: str = ""
    secret_key: str = ""
    path_style: bool = True
    prefix: str = ""
    part_size: int = 8 * 1024 * 1024
    create_bucket: bool = False

    @classmethod
    def from_url(cls, url: str) -> S3Config:
        """``s3://[key:secret@]bucket[/prefix]?endpoint=http://host:port&region=R&path_style=1&create_bucket=1``."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.hostname:
            raise ValueError("an S3 storage URL looks like s3://bucket[/prefix]?endpoint=http://host:9000")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}

        def flag(name: str, default: str) -> bool:
            return query.get(name, default).lower() in ("1", "true", "yes")

        return cls(
            bucket=parts.hostname,
            endpoint=query.get("endpoint", ""),
            region=query.get("region", "us-east-1"),
            access_key=unquote(parts.username or ""),
            secret_key=unquote(parts.password or ""),
            path_style=flag("path_style", "1"),
            prefix=parts.path.strip("/"),
            part_size=int(query.get("part_size", str(8 * 1024 * 1024))),
            create_bucket=flag("create_bucket", "0"),
        )


def _boto3() -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("S3 storage needs boto3: pip install 'plumego[data]'") from exc
    return boto3, Config


class S3Storage:
    """A :class:`Storage` on one bucket (and optional key prefix); implements presigned GET URLs."""

    capabilities = StorageCapabilities(presigned_urls=True, shared=True)

    def __init__(self, config: S3Config, *, client: Any = None) -> None:
        if config.part_size < _MIN_PART:
            raise ValueError(f"part_size must be at least {_MIN_PART} bytes (S3's minimum part size)")
        self.config = config
        self._prefix = normalize_store_path(config.prefix) + "/" if config.prefix else ""
        if client is None:
            boto3, botocore_config = _boto3()
            client = boto3.client(  # boto3 ships no types

                "s3",
                endpoint_url=config.endpoint or None,
                region_name=config.region,
                aws_access_key_id=config.access_key or None,
                aws_secret_access_key=config.secret_key or None,
                config=botocore_config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path" if config.path_style else "auto"},
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )
        self._client = client
        self._bucket_checked = not config.create_bucket

    @classmethod
    def from_url(cls, url: str) -> S3Storage:
        return cls(S3Config.from_url(url))

    # -- plumbing -------------------------------------------------------------------------------------------------

    def _key(self, key: str) -> str:
        return self._prefix + normalize_store_path(key)

    async def _call(self, fn: Callable[..., _T], /, *args: Any, missing: str | None = None, **kwargs: Any) -> _T:
        """Run a boto3 call in a thread; map "no such key" to FileNotFoundInStoreError, the rest to
        FileBackendError (whose text may name the endpoint: for logs, never for clients)."""
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except Exception as exc:
            raise self._map(exc, missing) from exc

    def _map(self, exc: Exception, missing: str | None) -> Exception:
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            code = str(response.get("Error", {}).get("Code", ""))
            if missing is not None and code in ("NoSuchKey", "404", "NotFound"):
                return FileNotFoundInStoreError(missing)
            return FileBackendError(f"S3 {code or 'error'}: {exc}")
        if type(exc).__module__.startswith(("botocore", "boto3", "urllib3")) or isinstance(exc, OSError):
            return FileBackendError(f"S3 unreachable: {exc}")
        return exc

    async def _ensure_bucket(self) -> None:
        if self._bucket_checked:
            return
        try:
            await self._call(self._client.head_bucket, Bucket=self.config.bucket)
        except FileBackendError:
            await self._call(self._client.create_bucket, Bucket=self.config.bucket)
        self._bucket_checked = True

    # -- Storage --------------------------------------------------------------------------------------------------

    async def put(
        self, key: str, content: AsyncIterable[bytes] | bytes, *, content_type: str = "application/octet-stream"
    ) -> BlobInfo:
        full = self._key(key)
        await self._ensure_bucket()
        bucket = self.config.bucket
        digest = hashlib.sha256()
        if isinstance(content, (bytes, bytearray, memoryview)):
            data = bytes(content)
            digest.update(data)
            await self._call(self._client.put_object, Bucket=bucket, Key=full, Body=data, ContentType=content_type,
                             Metadata={"sha256": digest.hexdigest()})
            return BlobInfo(key=key, size=len(data), sha256=digest.hexdigest(), content_type=content_type)
        buffer = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in content:
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                if len(buffer) >= self.config.part_size:
                    if upload_id is None:
                        created = await self._call(self._client.create_multipart_upload, Bucket=bucket, Key=full,
                                                   ContentType=content_type)
                        upload_id = str(created["UploadId"])
                    part = bytes(buffer)
                    buffer.clear()
                    sent = await self._call(self._client.upload_part, Bucket=bucket, Key=full, UploadId=upload_id,
                                            PartNumber=len(parts) + 1, Body=part)
                    parts.append({"PartNumber": len(parts) + 1, "ETag": sent["ETag"]})
            if upload_id is None:
                await self._call(self._client.put_object, Bucket=bucket, Key=full, Body=bytes(buffer),
                                 ContentType=content_type, Metadata={"sha256": digest.hexdigest()})
            else:
                if buffer:
                    sent = await self._call(self._client.upload_part, Bucket=bucket, Key=full, UploadId=upload_id,
                                            PartNumber=len(parts) + 1, Body=bytes(buffer))
                    parts.append({"PartNumber": len(parts) + 1, "ETag": sent["ETag"]})
                    buffer.clear()
                await self._call(self._client.complete_multipart_upload, Bucket=bucket, Key=full,
                                 UploadId=upload_id, MultipartUpload={"Parts": parts})
                upload_id = None
        except BaseException:
            if upload_id is not None:
                try:
                    await asyncio.shield(self._call(self._client.abort_multipart_upload, Bucket=bucket, Key=full,
                                                    UploadId=upload_id))
                except Exception:  # noqa: BLE001 - the original error matters more; S3 lifecycle rules reap leftovers
                    pass
            raise
        return BlobInfo(key=key, size=size, sha256=digest.hexdigest(), content_type=content_type)

    async def open(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        if start < 0 or (end is not None and end < start):
            raise ValueError("invalid byte range")
        full = self._key(key)
        if end is not None and end == start:
            await self.stat(key)  # still raise for a missing key
            return
        kwargs: dict[str, Any] = {"Bucket": self.config.bucket, "Key": full}
        if start or end is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = await self._call(self._client.get_object, missing=key, **kwargs)
        except FileBackendError as exc:
            if "InvalidRange" in str(exc):   # start at or past the end: nothing to send
                return
            raise
        body = response["Body"]
        try:
            while True:
                chunk = await self._call(body.read, _READ_CHUNK)
                if not chunk:
                    break
                yield chunk
        finally:
            await asyncio.to_thread(body.close)

    async def stat(self, key: str) -> BlobInfo:
        head = await self._call(self._client.head_object, Bucket=self.config.bucket, Key=self._key(key), missing=key)
        modified = head.get("LastModified")
        return BlobInfo(
            key=key,
            size=int(head["ContentLength"]),
            sha256=head.get("Metadata", {}).get("sha256"),
            modified_at=modified.timestamp() if modified is not None else 0.0,
            content_type=head.get("ContentType"),
        )

    async def exists(self, key: str) -> bool:
        try:
            await self.stat(key)
        except FileNotFoundInStoreError:
            return False
        return True

    async def delete(self, key: str) -> bool:
        if not await self.exists(key):
            return False
        await self._call(self._client.delete_object, Bucket=self.config.bucket, Key=self._key(key))
        return True

    async def list(self, prefix: str = "", limit: int | None = None) -> builtins.list[BlobInfo]:
        if prefix:
            normalize_store_path(prefix.rstrip("/") or "x")
        found: list[BlobInfo] = []
        token: str | None = None
        while limit is None or len(found) < limit:
            kwargs: dict[str, Any] = {"Bucket": self.config.bucket, "Prefix": self._prefix + prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = await self._call(self._client.list_objects_v2, **kwargs)
            for item in page.get("Contents", []):
                found.append(BlobInfo(key=str(item["Key"])[len(self._prefix):], size=int(item["Size"]),
                                      modified_at=item["LastModified"].timestamp()))
            if not page.get("IsTruncated"):
                break
            token = page.get("NextContinuationToken")
        found.sort(key=lambda b: b.key)
        return found if limit is None else found[:limit]

    async def copy(self, src: str, dst: str) -> BlobInfo:
        await self._call(self._client.copy_object, Bucket=self.config.bucket, Key=self._key(dst),
                         CopySource={"Bucket": self.config.bucket, "Key": self._key(src)}, missing=src)
        info = await self.stat(dst)
        return BlobInfo(key=dst, size=info.size, sha256=info.sha256, modified_at=info.modified_at,
                        content_type=info.content_type)

    async def presigned_url(
        self, key: str, expires_in: int, *, filename: str | None = None, content_type: str | None = None
    ) -> str | None:
        if not 1 <= expires_in <= 7 * 24 * 3600:
            raise ValueError("expires_in must be between 1 second and 7 days (SigV4's limit)")
        params: dict[str, Any] = {"Bucket": self.config.bucket, "Key": self._key(key)}
        if filename is not None:
            params["ResponseContentDisposition"] = content_disposition(filename)
        if content_type is not None:
            params["ResponseContentType"] = content_type
        url = await self._call(self._client.generate_presigned_url, "get_object", Params=params,
                               ExpiresIn=expires_in)
        return str(url)

    async def close(self) -> None:
        close = getattr(self._client, "close", None)
        if close is not None:
            await asyncio.to_thread(close)
