"""Proxy-headers middleware: the client address and scheme a trusted proxy reported, written into the scope.

Owns the one trust decision for forwarded headers: ``scope["client"]`` (from ``X-Forwarded-For``) and
``scope["scheme"]`` (from ``X-Forwarded-Proto``) are replaced only for requests that came through proxies
the operator named, so everything downstream (abuse guard, access log, handlers) reads one answer.
Imports only the standard library and plumego.contract.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Final

from plumego.contract import ASGIApp, Middleware, Receive, Scope, Send

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_FORWARDED_ENTRIES: Final = 32
"""Only the rightmost entries of a forwarding header are read; anything left of them is client-supplied."""

_SCHEMES: Final = {"http": ("http", "ws"), "https": ("https", "wss")}


def parse_forwarded_address(entry: str) -> _Address | None:
    """One ``X-Forwarded-For`` entry (``ip``, ``ip:port``, ``[ipv6]`` or ``[ipv6]:port``) as an address, or None."""
    entry = entry.strip()
    if entry.startswith("["):
        end = entry.find("]")
        if end < 0:
            return None
        entry = entry[1:end]
    elif entry.count(":") == 1:
        entry = entry.partition(":")[0]
    if not entry or len(entry) > 45:  # the longest textual IPv6 address
        return None
    try:
        address = ipaddress.ip_address(entry)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _entries(scope: Scope, name: bytes) -> list[str]:
    """The rightmost comma-separated entries of every ``name`` header line, in order (lines are concatenated)."""
    values = [bytes(value) for key, value in scope.get("headers") or () if key == name]
    if not values:
        return []
    joined = b",".join(values)
    parts = joined.rsplit(b",", MAX_FORWARDED_ENTRIES)[-MAX_FORWARDED_ENTRIES:]
    return [part.decode("latin-1").strip() for part in parts]


def proxy_headers(*, trusted_proxies: Iterable[str] = (), hops: int = 0) -> Middleware:
    """Resolve the real client of requests that came through your proxies; with neither setting, a no-op.

    ``trusted_proxies`` (IPs or CIDRs): when the peer is one of them, ``X-Forwarded-For`` is read from the right,
    skipping entries that are trusted proxies too; the first other entry is the client. ``hops`` (N proxies that
    each append the address they saw): the N-th entry from the right is the client, whoever the peer is (use it
    only when the app is reachable through those proxies alone). An entry that is not an IP address, or a header
    shorter than ``hops``, leaves the peer address in place: a forged or garbled header never yields a key of the
    attacker's choosing. ``X-Forwarded-Proto`` at the same position (or a single value) sets ``scope["scheme"]``
    (``http``/``https``; ``ws``/``wss`` for websockets). ``scope["client"]`` becomes ``(ip, 0)``.
    """
    networks = tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in trusted_proxies)
    if not 0 <= hops <= MAX_FORWARDED_ENTRIES:
        raise ValueError(f"hops must be between 0 and {MAX_FORWARDED_ENTRIES}")
    if networks and hops:
        raise ValueError("set trusted_proxies or hops, not both")

    def trusted(address: _Address | None) -> bool:
        return address is not None and any(address in network for network in networks)

    def resolve(scope: Scope) -> tuple[str, int] | None:
        """(client address, its position from the right in X-Forwarded-For, 1-based) or None."""
        if hops:
            entries = _entries(scope, b"x-forwarded-for")
            if len(entries) < hops:
                return None
            address = parse_forwarded_address(entries[-hops])
            return (str(address), hops) if address is not None else None
        client = scope.get("client")
        if not client or not trusted(parse_forwarded_address(str(client[0]))):
            return None
        entries = _entries(scope, b"x-forwarded-for")
        chosen: tuple[str, int] | None = None
        for position, entry in enumerate(reversed(entries), start=1):
            address = parse_forwarded_address(entry)
            if address is None:
                break  # garbage where a proxy should have written an address: stop at the last good hop
            chosen = (str(address), position)
            if not trusted(address):
                break
        return chosen

    def wrap(app: ASGIApp) -> ASGIApp:
        if not networks and not hops:
            return app

        async def proxy_headers_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] in ("http", "websocket"):
                found = resolve(scope)
                if found is not None:
                    address, position = found
                    scope["client"] = (address, 0)
                    protos = _entries(scope, b"x-forwarded-proto")
                    proto = protos[0] if len(protos) == 1 else (protos[-position] if len(protos) >= position else "")
                    schemes = _SCHEMES.get(proto.lower())
                    if schemes is not None:
                        scope["scheme"] = schemes[0] if scope["type"] == "http" else schemes[1]
            await app(scope, receive, send)

        return proxy_headers_app

    return wrap
