"""plumego.x.fileapi (experimental): the HTTP API for files over plumego.x.data.file.

Upload (streaming multipart, 413 while streaming), download (streamed, Range, ETag), info, list with Go's filters
and paging, soft delete and expiring URLs (S3 presigned, or HMAC-signed links for the local disk). The tenant
always comes from the request scope (:func:`tenant_id_from_scope`: x/tenant's ``plumego.tenant_id`` or the
authenticated principal), never from the body or path; engine errors are never shown to clients. Install with
``pip install 'plumego[fileapi]'``. Imports the standard library, plumego.contract, plumego.store and
plumego.x.data.file; never plumego.core, middleware or security.
"""

from ._handler import DEFAULT_MAX_SIZE, DEFAULT_URL_EXPIRY, FileHandler, register_routes
from ._identity import (
    SCOPE_TENANT_ID,
    SCOPE_USER_ID,
    tenant_id_from_scope,
    user_id_from_scope,
    with_tenant_id,
    with_user_id,
)
from ._multipart import MalformedUploadError, MultipartUpload, UploadTooLargeError
from ._ranges import RangeNotSatisfiable, etag_matches, parse_range
from ._signing import InvalidLinkError, LinkExpiredError, LinkSigner

__all__ = [
    "DEFAULT_MAX_SIZE",
    "DEFAULT_URL_EXPIRY",
    "FileHandler",
    "InvalidLinkError",
    "LinkExpiredError",
    "LinkSigner",
    "MalformedUploadError",
    "MultipartUpload",
    "RangeNotSatisfiable",
    "SCOPE_TENANT_ID",
    "SCOPE_USER_ID",
    "UploadTooLargeError",
    "etag_matches",
    "parse_range",
    "register_routes",
    "tenant_id_from_scope",
    "user_id_from_scope",
    "with_tenant_id",
    "with_user_id",
]
