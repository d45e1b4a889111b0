"""plumego.x.messaging.webhook (experimental): webhook signatures that interoperate with Go Plumego, GitHub and
Stripe.

Outbound: :func:`outbound_headers` / :func:`sign_v1` make Go's ``X-Webhook-*`` headers and
``X-Webhook-Signature: v1=hex(HMAC-SHA256(secret, ts + "." + body))``. Inbound: :func:`verify_hmac` (Go's
HMACConfig: algorithms, encodings, signed formats, timestamp tolerance, nonce replay store, IP allow list),
:func:`verify_github` and :func:`verify_stripe`. Delivery through the task queue, the delivery log and the routes
are not built yet. Imports only the standard library; never plumego.core.
"""

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

__all__ = [
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
    "sign_v1",
    "verify_github",
    "verify_hmac",
    "verify_stripe",
    "verify_v1",
]
