"""Abuse-guard middleware: per-client token buckets in front of the app, 429 envelopes and X-RateLimit-* headers.

Owns the client key (peer address, optionally a trusted proxy header), exempt paths and the header/envelope
mapping of a plumego.security.RateDecision; the buckets themselves are plumego.security.TokenBucketLimiter.
Imports only the standard library, plumego.contract and plumego.security.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Iterable

from plumego.contract import APIError, ASGIApp, ErrorType, Message, Middleware, Receive, Scope, Send
from plumego.middleware._asgi import header_value, send_error
from plumego.middleware._proxyheaders import parse_forwarded_address
from plumego.security import RateDecision, TokenBucketLimiter

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN_CLIENT_KEY = "unknown-client"
"""Bucket shared by requests with no peer address (e.g. a Unix socket with no proxy header)."""


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    if client:
        return str(client[0])
    return ""


def _in_networks(address: str, networks: tuple[_Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _forwarded_client(value: bytes, networks: tuple[_Network, ...]) -> str:
    """Rightmost entry of a comma-separated forwarding header that is not itself one of our proxies.

    The leftmost entries are whatever the client claimed; only what our own proxies appended is trustworthy,
    and they append to the right. Only IP addresses count: an entry that is not one ends the walk (""), so a
    forged header can never pick an arbitrary (or arbitrarily long) bucket key.
    """
    for part in reversed(value.rsplit(b",", 32)[-32:]):
        address = parse_forwarded_address(part.decode("latin-1"))
        if address is None:
            return ""
        if not _in_networks(str(address), networks):
            return str(address)
    return ""


def abuse_guard(
    limiter: TokenBucketLimiter | None = None,
    *,
    key: Callable[[Scope], str] | None = None,
    trusted_proxy_header: str | None = None,
    trusted_proxies: Iterable[str] = (),
    exempt_paths: Iterable[str] = (),
    rate_limit_headers: bool = True,
) -> Middleware:
    """Allow each client ``limiter``'s token-bucket rate (default ``TokenBucketLimiter()``: 100/s, burst 200).

    Client key: ``key(scope)`` when given; else the peer IP from ``scope["client"]``, which is the real client
    when the App's one proxy-trust setting (``AppConfig.trusted_proxies`` / ``trusted_proxy_hops``, or the
    :func:`proxy_headers` middleware) resolved it; prefer that over the options below. With
    ``trusted_proxy_header`` (e.g. ``"X-Forwarded-For"`` or ``"X-Real-IP"``) the key is that header's rightmost
    entry that is not in ``trusted_proxies`` (IPs or CIDRs); when ``trusted_proxies`` is non-empty the header
    is only believed from a peer inside them. Set it only behind proxies that append to / overwrite the header,
    otherwise any client picks its own bucket. Only IP addresses are taken from the header. An empty key falls
    back to the peer IP, then to one shared ``"unknown-client"`` bucket. The limiter bounds key length and key
    count (:class:`plumego.security.AbuseGuardConfig`).

    ``exempt_paths``: exact paths, or prefixes written with a trailing ``*`` (``"/static/*"``); exempt
    requests take no token and get no headers. WebSocket scopes pass through.

    Allowed responses get ``X-RateLimit-Limit`` (bucket capacity), ``X-RateLimit-Remaining`` (whole tokens
    left) and ``X-RateLimit-Reset`` (unix seconds when the bucket is full again), unless the app set them
    itself or ``rate_limit_headers=False``. A denied request is answered 429 ``rate_limited`` / code
    ``RATE_LIMITED`` / ``"too many requests"``, details ``{limit, remaining, retry_after, reset_at}``
    (``retry_after`` in float seconds, ``reset_at`` in unix seconds), with the same headers plus
    ``Retry-After`` (whole seconds, at least 1). The 429 always carries ``Retry-After``.
    """
    bucket_store = limiter if limiter is not None else TokenBucketLimiter()
    networks = tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted_proxies)
    proxy_header = trusted_proxy_header.lower().encode("latin-1") if trusted_proxy_header else None
    exact: set[str] = set()
    prefixes: list[str] = []
    for path in exempt_paths:
        if path.endswith("*"):
            prefixes.append(path[:-1])
        else:
            exact.add(path)
    prefix_tuple = tuple(prefixes)

    def client_key(scope: Scope) -> str:
        if key is not None:
            chosen = key(scope)
            if chosen:
                return chosen
        elif proxy_header is not None:
            peer = _peer(scope)
            if not networks or _in_networks(peer, networks):
                value = header_value(scope, proxy_header)
                if value:
                    forwarded = _forwarded_client(value, networks)
                    if forwarded:
                        return forwarded
        return _peer(scope) or UNKNOWN_CLIENT_KEY

    def wrap(app: ASGIApp) -> ASGIApp:
        async def abuse_guard_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            path = scope.get("path", "")
            if path in exact or (prefix_tuple and path.startswith(prefix_tuple)):
                await app(scope, receive, send)
                return
            decision = bucket_store.allow(client_key(scope))
            reset_at = math.ceil(time.time() + decision.reset_after)
            if not decision.allowed:
                await _deny(scope, send, decision, reset_at)
                return
            if not rate_limit_headers:
                await app(scope, receive, send)
                return
            lines = _rate_headers(decision, reset_at)

            async def headers_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    existing = list(message.get("headers") or ())
                    present = {bytes(name).lower() for name, _ in existing}
                    missing = [line for line in lines if line[0] not in present]
                    if missing:
                        message = {**message, "headers": existing + missing}
                await send(message)

            await app(scope, receive, headers_send)

        return abuse_guard_app

    return wrap


def _rate_headers(decision: RateDecision, reset_at: int) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-ratelimit-limit", str(decision.limit).encode("ascii")),
        (b"x-ratelimit-remaining", str(decision.remaining).encode("ascii")),
        (b"x-ratelimit-reset", str(reset_at).encode("ascii")),
    ]


async def _deny(scope: Scope, send: Send, decision: RateDecision, reset_at: int) -> None:
    retry = decision.retry_after
    if not math.isfinite(retry):  # a cost above capacity never fits; tell the client to back off a full refill
        retry = decision.reset_after
    retry_after = max(1, math.ceil(retry))
    err = APIError(
        ErrorType.RATE_LIMITED,
        "too many requests",
        details={
            "limit": decision.limit,
            "remaining": decision.remaining,
            "retry_after": round(retry, 3),
            "reset_at": reset_at,
        },
    )
    headers = [*_rate_headers(decision, reset_at), (b"retry-after", str(retry_after).encode("ascii"))]
    await send_error(scope, send, err, headers)
