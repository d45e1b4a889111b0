"""Inbound webhook verification: Go Plumego's generic HMAC check, GitHub's and Stripe's.

Owns the checks only (pure functions over headers, body, client address and time) and the nonce stores that make
replay detection work across workers. Every failure raises :class:`WebhookVerificationError` with one of the
codes in :data:`ERROR_CODES`; comparisons are constant-time. Imports only the standard library (Redis for the
shared nonce store is imported when that store is created).
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "ERROR_CODES",
    "HMACConfig",
    "MemoryNonceStore",
    "NonceStore",
    "RedisNonceStore",
    "SignedFormat",
    "VerifiedWebhook",
    "WebhookVerificationError",
    "verify_github",
    "verify_hmac",
    "verify_stripe",
]

ERROR_CODES = ("missing_signature", "invalid_signature", "invalid_encoding", "body_too_large", "missing_timestamp",
               "invalid_timestamp", "timestamp_out_of_range", "missing_nonce", "replay_detected", "ip_denied")


class WebhookVerificationError(Exception):
    """A webhook that must not be processed. ``code`` is one of ERROR_CODES; answer 401 (403 for ip_denied)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def status(self) -> int:
        return 403 if self.code == "ip_denied" else 413 if self.code == "body_too_large" else 401


class SignedFormat(enum.StrEnum):
    """What the HMAC covers (Go's SignedFormat); the parts are joined with ``.``."""

    RAW = "raw"                                      # body
    TIMESTAMP_BODY = "timestamp_body"                # <unix>.<body>
    TIMESTAMP_NONCE_BODY = "timestamp_nonce_body"    # <unix>.<nonce>.<body>  (Go's default)
    NONCE_BODY = "nonce_body"                        # <nonce>.<body>


class NonceStore(Protocol):
    async def add_if_absent(self, nonce: str, ttl: float) -> bool:
        """Remember ``nonce`` for ``ttl`` seconds; False when it was seen already (a replay)."""
        ...


class MemoryNonceStore:
    """Per process: with several workers a replay sent to another worker is not caught — use RedisNonceStore."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._max = max_entries

    async def add_if_absent(self, nonce: str, ttl: float) -> bool:
        now = time.monotonic()
        while self._seen and next(iter(self._seen.values())) <= now:
            self._seen.popitem(last=False)
        expires = self._seen.get(nonce)
        if expires is not None and expires > now:
            return False
        self._seen[nonce] = now + ttl
        self._seen.move_to_end(nonce)
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return True


class RedisNonceStore:
    """Shared by every worker and machine: ``SET key NX PX ttl``."""

    def __init__(self, client: Any, prefix: str = "plumego:webhook:nonce:") -> None:
        self._r = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "plumego:webhook:nonce:") -> RedisNonceStore:
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError("RedisNonceStore needs redis-py: pip install 'plumego[redis]'") from exc
        return cls(aioredis.Redis.from_url(url), prefix)

    async def add_if_absent(self, nonce: str, ttl: float) -> bool:
        return bool(await self._r.set(self._prefix + nonce, b"1", nx=True, px=max(1, int(ttl * 1000))))


@dataclass(frozen=True)
class HMACConfig:
    """Go's HMACConfig. ``encoding`` is hex, base64, base64raw, base64url or base64urlraw; ``algorithm`` sha256 or
    sha512. ``timestamp_header``/``nonce_header`` are needed by the signed formats that use them; with a
    ``nonce_store`` a nonce is accepted once within ``tolerance``."""

    secret: str | bytes
    header: str = "X-Signature"
    prefix: str = ""
    max_body: int = 1 << 20
    algorithm: str = "sha256"
    encoding: str = "hex"
    signed_format: SignedFormat = SignedFormat.TIMESTAMP_NONCE_BODY
    timestamp_header: str = "X-Timestamp"
    nonce_header: str = "X-Nonce"
    tolerance: float = 300.0
    nonce_store: NonceStore | None = None
    ip_allowlist: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("a webhook secret must not be empty")
        if self.algorithm not in ("sha256", "sha512"):
            raise ValueError("algorithm must be sha256 or sha512")
        if self.encoding not in _DECODERS:
            raise ValueError(f"encoding must be one of {', '.join(_DECODERS)}")
        for cidr in self.ip_allowlist:
            ipaddress.ip_network(cidr, strict=False)


@dataclass(frozen=True, slots=True)
class VerifiedWebhook:
    body: bytes
    timestamp: int | None
    nonce: str | None


def _b64(text: str, alt: bytes | None, pad: bool) -> bytes:
    if not pad:
        if "=" in text:
            raise ValueError("padding where none is expected")
        text += "=" * (-len(text) % 4)
    return base64.b64decode(text, altchars=alt, validate=True)


def _hex(text: str) -> bytes:
    if len(text) % 2 or not all(c in "0123456789abcdefABCDEF" for c in text):
        raise ValueError("not hex")
    return bytes.fromhex(text)


_DECODERS: dict[str, Callable[[str], bytes]] = {
    "hex": _hex,
    "base64": lambda s: _b64(s, None, True),
    "base64raw": lambda s: _b64(s, None, False),
    "base64url": lambda s: _b64(s, b"-_", True),
    "base64urlraw": lambda s: _b64(s, b"-_", False),
}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for k, v in headers.items():
        if k.lower() == lowered:
            return v
    return None


def _timestamp(raw: str | None, tolerance: float, now: float) -> int:
    if raw is None or raw == "":
        raise WebhookVerificationError("missing_timestamp", "the timestamp header is missing")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise WebhookVerificationError("invalid_timestamp", "the timestamp is not Unix seconds")
    ts = int(raw)
    if abs(now - ts) > tolerance:
        raise WebhookVerificationError("timestamp_out_of_range", "the timestamp is outside the tolerance")
    return ts


async def verify_hmac(headers: Mapping[str, str], body: bytes, config: HMACConfig, *, client_ip: str | None = None,
                      now: float | None = None) -> VerifiedWebhook:
    """Go's ``VerifyHMAC``: IP allow list, body size, signature header and encoding, timestamp window, HMAC over the
    signed format, then (last, so forged requests cannot burn nonces) the nonce's first use."""
    now = time.time() if now is None else now
    if config.ip_allowlist:
        try:
            addr = ipaddress.ip_address(client_ip or "")
        except ValueError:
            raise WebhookVerificationError("ip_denied", "the client address is not allowed") from None
        if not any(addr in ipaddress.ip_network(c, strict=False) for c in config.ip_allowlist):
            raise WebhookVerificationError("ip_denied", "the client address is not allowed")
    if len(body) > config.max_body:
        raise WebhookVerificationError("body_too_large", "the body is larger than the limit")
    raw_sig = _header(headers, config.header)
    if not raw_sig:
        raise WebhookVerificationError("missing_signature", f"the {config.header} header is missing")
    if config.prefix:
        if not raw_sig.startswith(config.prefix):
            raise WebhookVerificationError("invalid_signature", "the signature has the wrong prefix")
        raw_sig = raw_sig[len(config.prefix):]
    try:
        given = _DECODERS[config.encoding](raw_sig.strip())
    except (ValueError, binascii.Error):
        raise WebhookVerificationError("invalid_encoding", f"the signature is not {config.encoding}") from None
    fmt = config.signed_format
    ts: int | None = None
    nonce: str | None = None
    if fmt in (SignedFormat.TIMESTAMP_BODY, SignedFormat.TIMESTAMP_NONCE_BODY):
        ts = _timestamp(_header(headers, config.timestamp_header), config.tolerance, now)
    if fmt in (SignedFormat.TIMESTAMP_NONCE_BODY, SignedFormat.NONCE_BODY):
        nonce = _header(headers, config.nonce_header)
        if not nonce:
            raise WebhookVerificationError("missing_nonce", f"the {config.nonce_header} header is missing")
    parts = [str(ts).encode()] if ts is not None else []
    if nonce is not None:
        parts.append(nonce.encode("utf-8"))
    message = b".".join([*parts, body])
    expected = hmac.new(config.secret.encode() if isinstance(config.secret, str) else config.secret, message,
                        getattr(hashlib, config.algorithm)).digest()
    if not hmac.compare_digest(expected, given):
        raise WebhookVerificationError("invalid_signature", "the signature does not match")
    if nonce is not None and config.nonce_store is not None:
        if not await config.nonce_store.add_if_absent(nonce, config.tolerance * 2):
            raise WebhookVerificationError("replay_detected", "this nonce was used already")
    return VerifiedWebhook(body, ts, nonce)


async def verify_github(headers: Mapping[str, str], body: bytes, secret: str | bytes, *,
                        nonce_store: NonceStore | None = None, max_body: int = 25 << 20) -> VerifiedWebhook:
    """GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``; with a nonce store, each
    ``X-GitHub-Delivery`` id is accepted once (GitHub redelivers with the same id only when asked to)."""
    delivery = _header(headers, "X-GitHub-Delivery")
    config = HMACConfig(secret=secret, header="X-Hub-Signature-256", prefix="sha256=", max_body=max_body,
                        signed_format=SignedFormat.RAW)
    await verify_hmac(headers, body, config)
    if nonce_store is not None and delivery:
        if not await nonce_store.add_if_absent("github:" + delivery, 7 * 86400):
            raise WebhookVerificationError("replay_detected", "this delivery was received already")
    return VerifiedWebhook(body, None, delivery)


def verify_stripe(header: str | None, body: bytes, secret: str | bytes, *, tolerance: float = 300.0,
                  now: float | None = None) -> int:
    """Stripe: ``Stripe-Signature: t=<ts>,v1=<hex>[,v1=...]`` over ``"<t>.<body>"``; returns the timestamp."""
    if not header:
        raise WebhookVerificationError("missing_signature", "the Stripe-Signature header is missing")
    ts_raw: str | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            ts_raw = value
        elif key == "v1":
            candidates.append(value)
    ts = _timestamp(ts_raw, tolerance, time.time() if now is None else now)
    if not candidates:
        raise WebhookVerificationError("missing_signature", "no v1 signature in Stripe-Signature")
    key_bytes = secret.encode() if isinstance(secret, str) else secret
    expected = hmac.new(key_bytes, f"{ts}.".encode() + body, hashlib.sha256).hexdigest().encode()
    if not any(hmac.compare_digest(expected, c.encode("ascii", "replace")) for c in candidates):
        raise WebhookVerificationError("invalid_signature", "no v1 signature matches")
    return ts
