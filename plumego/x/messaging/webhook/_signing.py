"""Outbound webhook signatures, byte for byte as Go Plumego makes them.

``X-Webhook-Signature: v1=hex(HMAC-SHA256(secret, timestamp + "." + raw_body))`` with the delivery headers
``X-Webhook-Id`` (the target), ``-Event``, ``-Delivery``, ``-Timestamp`` (Unix seconds) and ``-Attempt``. A receiver
written for a Go Plumego sender verifies ours, and ours verifies theirs. Imports only the standard library.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = [
    "HEADER_ATTEMPT",
    "HEADER_DELIVERY",
    "HEADER_EVENT",
    "HEADER_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "outbound_headers",
    "sign_v1",
    "verify_v1",
]

HEADER_ID = "X-Webhook-Id"
HEADER_EVENT = "X-Webhook-Event"
HEADER_DELIVERY = "X-Webhook-Delivery"
HEADER_TIMESTAMP = "X-Webhook-Timestamp"
HEADER_SIGNATURE = "X-Webhook-Signature"
HEADER_ATTEMPT = "X-Webhook-Attempt"


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign_v1(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The hex signature (Go's ``SignV1``)."""
    return hmac.new(_key(secret), str(int(timestamp)).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify_v1(secret: str | bytes, timestamp: int, body: bytes, header: str, *, tolerance: float | None = 300.0,
              now: float | None = None) -> bool:
    """Check an ``X-Webhook-Signature`` value (``v1=<hex>``; several comma-separated values are accepted, for secret
    rotation) in constant time, and that ``timestamp`` is within ``tolerance`` seconds of now (None: no check)."""
    if tolerance is not None and abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign_v1(secret, timestamp, body).encode("ascii")
    ok = False
    for part in header.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == "v1":
            ok |= hmac.compare_digest(expected, value.strip().lower().encode("ascii", "replace"))
    return ok


def outbound_headers(*, target_id: str, event: str, delivery_id: str, attempt: int, body: bytes,
                     secret: str | bytes, timestamp: int | None = None) -> dict[str, str]:
    """Every header of one delivery attempt, signature included."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "Content-Type": "application/json",
        HEADER_ID: target_id,
        HEADER_EVENT: event,
        HEADER_DELIVERY: delivery_id,
        HEADER_TIMESTAMP: str(ts),
        HEADER_ATTEMPT: str(attempt),
        HEADER_SIGNATURE: "v1=" + sign_v1(secret, ts, body),
    }
