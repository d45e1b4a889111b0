"""The file HTTP API (Go's ``fileapi.Handler``): upload, download, info, list, soft delete and expiring URLs.

Owns :class:`FileHandler` and :func:`register_routes`. The tenant always comes from the request scope
(:func:`tenant_id_from_scope`), never from the body, query or path. Beyond Go: uploads stream through a real
multipart parser to storage (413 as soon as the limit is passed, nothing stored for a truncated body), downloads
stream with ``Range`` (206/416), a strong ``ETag`` (the SHA-256) and ``If-None-Match``/``If-Range``, and storage
without presigned URLs gets HMAC-signed expiring links. Engine errors are logged and answered with a generic 503;
their text (hosts, buckets, SQL) never reaches a client. Imports the standard library, plumego.contract,
plumego.store and plumego.x.data.file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, Protocol

from plumego.contract import APIError, ErrorType, JSONResponse, Request, Response, StreamingResponse
from plumego.store import FileNotFoundInStoreError, ValueTooLargeError
from plumego.x.data.file import (
    ORDER_FIELDS,
    FileBackendError,
    FileCatalog,
    FileQuery,
    FileRecord,
    InvalidTenantError,
    PutOptions,
    content_disposition,
    validate_tenant_id,
)

from ._identity import tenant_id_from_scope, user_id_from_scope
from ._multipart import MalformedUploadError, MultipartUpload, UploadTooLargeError
from ._ranges import RangeNotSatisfiable, etag_matches, parse_range
from ._signing import InvalidLinkError, LinkExpiredError, LinkSigner

__all__ = ["DEFAULT_MAX_SIZE", "DEFAULT_URL_EXPIRY", "FileHandler", "register_routes"]

DEFAULT_MAX_SIZE = 100 * 1024 * 1024          # Go's default
DEFAULT_URL_EXPIRY = 15 * 60                  # Go's default: 15 minutes
_MAX_URL_EXPIRY = 7 * 24 * 3600
_LOG = logging.getLogger("plumego.x.fileapi")



class Routes(Protocol):
    def get(self, path: str, handler: Any, **options: Any) -> Any: ...
    def post(self, path: str, handler: Any, **options: Any) -> Any: ...
    def delete(self, path: str, handler: Any, **options: Any) -> Any: ...


def _invalid(field: str, message: str) -> APIError:
    return APIError(ErrorType.VALIDATION, message, details={"field": field})


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise _invalid(name, f"{name} must be a whole number")
    value = int(raw)
    if not low <= value <= high:
        raise _invalid(name, f"{name} must be between {low} and {high}")
    return value


def _time_param(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return float(raw) if raw.replace(".", "", 1).isdigit() else datetime.fromisoformat(raw).timestamp()
    except ValueError:
        raise _invalid(name, f"{name} must be Unix seconds or an RFC 3339 time") from None


class FileHandler:
    """Handlers over a :class:`FileCatalog`; bind them yourself or with :func:`register_routes`.

    ``link_key`` (>= 32 bytes) enables signed download links where the storage has no presigned URLs;
    ``link_path`` is where :meth:`download_link` is mounted (``register_routes`` sets it).
    """

    def __init__(self, catalog: FileCatalog, *, max_size: int = DEFAULT_MAX_SIZE, link_key: bytes | None = None,
                 link_path: str = "/files/links", tenant_from: Callable[[Request], str] | None = None,
                 logger: logging.Logger | None = None, clock: Callable[[], float] = time.time) -> None:
        if max_size <= 0:
            raise ValueError("max_size must be > 0")
        self.catalog = catalog
        self.max_size = max_size
        self.link_path = link_path.rstrip("/")
        self._signer = LinkSigner(link_key, clock=clock) if link_key is not None else None
        self._tenant_from = tenant_from or (lambda request: tenant_id_from_scope(request.scope))
        self._log = logger or _LOG

    def with_max_size(self, size: int) -> FileHandler:
        """Go's ``WithMaxSize``: this handler with another upload limit."""
        if size <= 0:
            raise ValueError("max_size must be > 0")
        self.max_size = size
        return self

    # -- helpers ------------------------------------------------------------------------------------------------

    def _tenant(self, request: Request) -> str:
        tenant = self._tenant_from(request)
        if not tenant:
            raise APIError(ErrorType.UNAUTHORIZED, "a tenant is required", code="tenant_required")
        try:
            return validate_tenant_id(tenant)
        except InvalidTenantError:
            raise APIError(ErrorType.BAD_REQUEST, "invalid tenant id", code="tenant_invalid_id") from None

    def _backend_failure(self, exc: Exception, action: str) -> APIError:
        self._log.error("fileapi: %s failed: %s", action, exc, exc_info=exc)
        return APIError(ErrorType.UNAVAILABLE, "file storage is unavailable, try again later")

    async def _record(self, tenant: str, file_id: str) -> FileRecord:
        try:
            return await self.catalog.get(tenant, file_id)
        except FileNotFoundInStoreError:
            raise APIError(ErrorType.NOT_FOUND, "file not found") from None
        except FileBackendError as exc:
            raise self._backend_failure(exc, "metadata read") from None

    # -- handlers -----------------------------------------------------------------------------------------------

    async def upload(self, request: Request) -> JSONResponse:
        """``POST`` multipart with a ``file`` part -> 201 and the file's record."""
        tenant = self._tenant(request)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_size + 64 * 1024:
            raise APIError(ErrorType.PAYLOAD_TOO_LARGE, f"the file exceeds the limit of {self.max_size} bytes")
        try:
            upload = MultipartUpload(request, max_size=self.max_size)
            part = await upload.file_part()
            record = await self.catalog.put(
                PutOptions(tenant_id=tenant, file_name=part.filename, content_type=part.content_type
                           if part.content_type not in ("", "application/octet-stream") else "",
                           uploaded_by=user_id_from_scope(request.scope)),
                upload.chunks())
        except (UploadTooLargeError, ValueTooLargeError):
            raise APIError(ErrorType.PAYLOAD_TOO_LARGE,
                           f"the file exceeds the limit of {self.max_size} bytes") from None
        except MalformedUploadError as exc:
            raise APIError(ErrorType.BAD_REQUEST, str(exc), code="INVALID_MULTIPART") from None
        except FileBackendError as exc:
            raise self._backend_failure(exc, "upload") from None
        return JSONResponse(record.to_json(), status=201)

    async def info(self, request: Request) -> JSONResponse:
        """``GET /files/:id`` -> the record."""
        record = await self._record(self._tenant(request), request.param("id"))
        return JSONResponse(record.to_json())

    async def download(self, request: Request) -> Response | StreamingResponse:
        """``GET /files/:id/download``: streamed, with Range, ETag and conditional requests."""
        record = await self._record(self._tenant(request), request.param("id"))
        return await self._stream(request, record)

    async def download_link(self, request: Request) -> Response | StreamingResponse:
        """``GET <link_path>/:token``: a signed, expiring link issued by :meth:`url` (no tenant context needed)."""
        if self._signer is None:
            raise APIError(ErrorType.NOT_FOUND, "file not found")
        try:
            tenant, file_id = self._signer.verify(request.param("token"))
        except LinkExpiredError:
            raise APIError(ErrorType.FORBIDDEN, "the download link has expired", code="LINK_EXPIRED") from None
        except InvalidLinkError:
            raise APIError(ErrorType.FORBIDDEN, "invalid download link", code="INVALID_SIGNATURE") from None
        return await self._stream(request, await self._record(tenant, file_id))

    async def _stream(self, request: Request, record: FileRecord) -> Response | StreamingResponse:
        headers = {"ETag": record.etag, "Accept-Ranges": "bytes", "Cache-Control": "public, max-age=31536000",
                   "Last-Modified": _http_date(record.created_at)}
        if etag_matches(request.headers.get("if-none-match"), record.etag):
            return Response(b"", status=304, headers=headers)
        range_header = request.headers.get("range")
        if_range = request.headers.get("if-range")
        if if_range is not None and not etag_matches(if_range, record.etag, weak=False):
            range_header = None                                        # changed since: send it all
        try:
            byte_range = parse_range(range_header, record.size)
        except RangeNotSatisfiable:
            return Response(b"", status=416, headers={**headers, "Content-Range": f"bytes */{record.size}"})
        start, end = byte_range if byte_range is not None else (0, record.size)
        chunks = self.catalog.open(record, start=start, end=end)
        try:
            first = await anext(chunks, b"")                           # engine errors still get a clean answer
        except FileNotFoundInStoreError:
            self._log.error("fileapi: blob %s of file %s is missing", record.path, record.id)
            raise APIError(ErrorType.NOT_FOUND, "file not found") from None
        except FileBackendError as exc:
            raise self._backend_failure(exc, "download") from None
        try:
            await self.catalog.touch(record)
        except FileBackendError as exc:                                # access time is best effort
            self._log.warning("fileapi: could not record access to %s: %s", record.id, exc)
        headers.update({"Content-Type": record.mime_type, "Content-Length": str(end - start),
                        "Content-Disposition": content_disposition(record.name)})
        status = 200
        if byte_range is not None:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{record.size}"
        return StreamingResponse(_prepend(first, chunks), status=status, headers=headers)

    async def list(self, request: Request) -> JSONResponse:
        """``GET /files?page&page_size&mime_type&uploaded_by&order_by&start_time&end_time``."""
        tenant = self._tenant(request)
        order_by = request.query_params.get("order_by") or "-created_at"
        if order_by.lstrip("-") not in ORDER_FIELDS:
            raise _invalid("order_by", f"order_by must be one of {', '.join(ORDER_FIELDS)} (- for descending)")
        try:
            query = FileQuery(tenant_id=tenant, page=_int_param(request, "page", 1, 1, 1_000_000),
                              page_size=_int_param(request, "page_size", 20, 1, 100),
                              mime_type=request.query_params.get("mime_type") or None,
                              uploaded_by=request.query_params.get("uploaded_by") or None,
                              start_time=_time_param(request, "start_time"),
                              end_time=_time_param(request, "end_time"), order_by=order_by)
            page = await self.catalog.list(query)
        except FileBackendError as exc:
            raise self._backend_failure(exc, "list") from None
        return JSONResponse(page.to_json())

    async def delete(self, request: Request) -> Response:
        """``DELETE /files/:id``: soft delete -> 204; 404 when the tenant has no such live file."""
        tenant = self._tenant(request)
        try:
            deleted = await self.catalog.delete(tenant, request.param("id"))
        except FileBackendError as exc:
            raise self._backend_failure(exc, "delete") from None
        if not deleted:
            raise APIError(ErrorType.NOT_FOUND, "file not found")
        return Response(b"", status=204)

    async def url(self, request: Request) -> JSONResponse:
        """``GET /files/:id/url?expiry=<seconds>`` (default 15 min) -> ``{url, expires_in}``."""
        tenant = self._tenant(request)
        expiry = _int_param(request, "expiry", DEFAULT_URL_EXPIRY, 1, _MAX_URL_EXPIRY)
        record = await self._record(tenant, request.param("id"))
        try:
            url = await self.catalog.presigned_url(record, expiry)
        except FileBackendError as exc:
            raise self._backend_failure(exc, "presign") from None
        if url is None:
            if self._signer is None:
                raise APIError(ErrorType.NOT_IMPLEMENTED, "expiring URLs are not configured for this storage")
            host = request.headers.get("host", "localhost")
            url = (f"{request.scheme}://{host}{request.root_path}{self.link_path}/"
                   f"{self._signer.sign(tenant, record.id, expiry)}")
        return JSONResponse({"url": url, "expires_in": expiry})


def register_routes(routes: Routes, handler: FileHandler, *, prefix: str = "/files") -> None:
    """POST/GET ``prefix``, GET/DELETE ``prefix/:id``, GET ``prefix/:id/download``, GET ``prefix/:id/url`` and
    GET ``prefix/links/:token``. Put the tenant-resolving middleware in front of them."""
    p = prefix.rstrip("/")
    handler.link_path = f"{p}/links"
    routes.post(p, handler.upload)
    routes.get(p, handler.list)
    routes.get(f"{p}/links/:token", handler.download_link)
    routes.get(f"{p}/:id", handler.info)
    routes.delete(f"{p}/:id", handler.delete)
    routes.get(f"{p}/:id/download", handler.download)
    routes.get(f"{p}/:id/url", handler.url)


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        async for chunk in rest:
            yield chunk
    finally:
        aclose = getattr(rest, "aclose", None)
        if aclose is not None:
            await aclose()


def _http_date(timestamp: float) -> str:
    from email.utils import formatdate

    return formatdate(timestamp, usegmt=True)
