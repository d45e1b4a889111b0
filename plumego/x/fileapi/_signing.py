"""Expiring download links for storage engines without presigned URLs (the local disk).

Owns :class:`LinkSigner`: a token ``base64url(tenant \\n id \\n expires).base64url(HMAC-SHA256)`` that the
download-by-link route verifies in constant time. The tenant sits inside the signed token, chosen by the server
when the link was issued, never by the client. Imports the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

__all__ = ["InvalidLinkError", "LinkExpiredError", "LinkSigner"]


class InvalidLinkError(ValueError):
    """Malformed token or bad signature."""


class LinkExpiredError(ValueError):
    """A genuine token past its expiry."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, key: bytes, *, clock: Callable[[], float] = time.time) -> None:
        if len(key) < 32:
            raise ValueError("the link signing key must be at least 32 bytes")
        self._key = key
        self._clock = clock

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, b"plumego.fileapi.link\n" + payload, hashlib.sha256).digest()

    def sign(self, tenant_id: str, file_id: str, expires_in: int) -> str:
        payload = f"{tenant_id}\n{file_id}\n{int(self._clock()) + expires_in}".encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def verify(self, token: str) -> tuple[str, str]:
        """(tenant id, file id) of a valid, unexpired token."""
        try:
            body, mac = token.split(".")
            payload = _unb64(body)
            ok = hmac.compare_digest(_unb64(mac), self._mac(payload))
            tenant_id, file_id, expires = payload.decode().split("\n")
            expires_at = int(expires)
        except (ValueError, UnicodeDecodeError):
            raise InvalidLinkError("malformed download link") from None
        if not ok:
            raise InvalidLinkError("bad download link signature")
        if expires_at < self._clock():
            raise LinkExpiredError("the download link has expired")
        return tenant_id, file_id
