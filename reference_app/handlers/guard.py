"""The ``X-Write-Key`` guard: per-route ASGI middleware protecting mutations when a key is configured.

Constant-time comparison of SHA-256 digests (no early exit, no length leak); a wrong or missing key
answers 401 ``unauthorized_request`` with code ``auth.key.invalid``. Imports plumego.contract only.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from plumego.contract import APIError, ASGIApp, ErrorResponse, ErrorType, Middleware, Receive, Scope, Send

WRITE_KEY_HEADER: Final = "X-Write-Key"
CODE_INVALID_KEY: Final = "auth.key.invalid"

_HEADER: Final = WRITE_KEY_HEADER.lower().encode("latin-1")


def require_write_key(key: str) -> Middleware:
    """Middleware for one route; a no-op (the route app is returned unchanged) when ``key`` is empty."""
    expected = hashlib.sha256(key.encode("utf-8")).digest()

    def wrap(app: ASGIApp) -> ASGIApp:
        if not key:
            return app

        async def write_key_guard(scope: Scope, receive: Receive, send: Send) -> None:
            supplied = b""
            for name, value in scope.get("headers", ()):
                if name == _HEADER:
                    supplied = bytes(value)
                    break
            if not hmac.compare_digest(hashlib.sha256(supplied).digest(), expected):
                err = APIError(ErrorType.UNAUTHORIZED, "invalid or missing write key", code=CODE_INVALID_KEY)
                await ErrorResponse(err)(scope, receive, send)
                return
            await app(scope, receive, send)

        return write_key_guard

    return wrap
