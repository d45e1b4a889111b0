"""plumego.x.messaging.webhook (experimental): webhook signatures that interoperate with Go Plumego, GitHub and
Stripe.

Outbound: :func:`outbound_headers` / :func:`sign_v1` make Go's ``X-Webhook-*`` headers and
``X-Webhook-Signature: v1=hex(HMAC-SHA256(secret, ts + "." + body))``. Inbound: :func:`verify_hmac` (Go's
HMACConfig: algorithms, encodings, signed formats, timestamp tolerance, nonce replay store, IP allow list),
:func:`verify_github` and :func:`verify_stripe`. Delivery: :class:`WebhookService` fans events out to targets as
durable queue tasks and POSTs them through :class:`SSRFGuard` with Go's retry policy, logging each delivery in
:class:`WebhookStore`. Imports the standard library (httpx for delivery); never plumego.core.
"""

from typing import TYPE_CHECKING, Any

from ._inbound import (
    ERROR_CODES,
    HMACConfig,
    MemoryNonceStore,
    NonceStore,
    RedisNonceStore,
    SignedFormat,
    VerifiedWebhook,
    WebhookVerificationError,
    verify_github,
    verify_hmac,
    verify_stripe,
)
from ._routes import register_inbound_routes, register_management_routes
from ._signing import (
    HEADER_ATTEMPT,
    HEADER_DELIVERY,
    HEADER_EVENT,
    HEADER_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    outbound_headers,
    sign_v1,
    verify_v1,
)
from ._ssrf import BlockedTargetError, ResolvedTarget, SSRFGuard
from ._store import Delivery, DeliveryStatus, Target, WebhookStore

__all__ = [
    "BlockedTargetError",
    "DELIVERY_TOPIC",
    "Delivery",
    "DeliveryStatus",
    "ResolvedTarget",
    "SSRFGuard",
    "Target",
    "WebhookService",
    "WebhookStore",
    "ERROR_CODES",
    "HEADER_ATTEMPT",
    "HEADER_DELIVERY",
    "HEADER_EVENT",
    "HEADER_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "HMACConfig",
    "MemoryNonceStore",
    "NonceStore",
    "RedisNonceStore",
    "SignedFormat",
    "VerifiedWebhook",
    "WebhookVerificationError",
    "outbound_headers",
    "register_inbound_routes",
    "register_management_routes",
    "sign_v1",
    "verify_github",
    "verify_hmac",
    "verify_stripe",
    "verify_v1",
]

if TYPE_CHECKING:
    from ._delivery import DELIVERY_TOPIC, WebhookService


def __getattr__(name: str) -> Any:
    """Delivery needs httpx; signing and verification do not, so it is imported on first use."""
    if name in ("WebhookService", "DELIVERY_TOPIC"):
        from . import _delivery

        return getattr(_delivery, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
