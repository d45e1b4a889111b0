"""The SSRF guard for outbound webhooks: which addresses a delivery may connect to.

Owns resolving a target URL and refusing private, loopback, link-local, multicast, reserved and unspecified
addresses (IPv4, IPv6 and IPv4-mapped IPv6) unless allowed. The check runs after DNS resolution, and the caller
connects to the checked address itself (see ``_delivery``), so a name that resolves differently a moment later
(DNS rebinding) cannot slip through; every redirect hop is checked the same way. Imports only the standard
library.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["BlockedTargetError", "ResolvedTarget", "SSRFGuard"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedTargetError(Exception):
    """The URL is not one a webhook may be delivered to (scheme, credentials, or an address the guard refuses)."""


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    scheme: str
    host: str
    port: int
    address: str          # the checked IP address to connect to


def _public(addr: IPAddress) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return not (addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_multicast or addr.is_reserved
                or addr.is_unspecified or (isinstance(addr, ipaddress.IPv4Address) and addr in _CGNAT))


_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class SSRFGuard:
    """``allow_private_network`` turns the address check off (Go's ``AllowPrivateNetwork``); ``allow_cidrs`` admits
    chosen ranges (an internal service) while refusing the rest."""

    def __init__(self, *, allow_private_network: bool = False, allow_cidrs: Sequence[str] = ()) -> None:
        self.allow_private_network = allow_private_network
        self.allow = [ipaddress.ip_network(c, strict=False) for c in allow_cidrs]

    def allowed(self, address: str) -> bool:
        addr = ipaddress.ip_address(address.split("%", 1)[0])
        if self.allow_private_network or _public(addr):
            return True
        return any(addr in net for net in self.allow)

    async def resolve(self, url: str) -> ResolvedTarget:
        """Check the URL and resolve its host; returns the first allowed address. Raises BlockedTargetError when the
        URL is malformed or every address it resolves to is refused (all of them are checked, so a name with one
        public and one private address is refused too)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise BlockedTargetError(f"webhook URLs must be http or https, not {scheme or 'none'!r}")
        if parts.username or parts.password:
            raise BlockedTargetError("webhook URLs may not carry credentials")
        host = parts.hostname
        if not host:
            raise BlockedTargetError("the webhook URL has no host")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise BlockedTargetError("the webhook URL has an invalid port") from None
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise BlockedTargetError(f"cannot resolve {host!r}: {exc.strerror}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        refused = [a for a in addresses if not self.allowed(a)]
        if not addresses or refused:
            raise BlockedTargetError(f"{host!r} resolves to an address webhooks may not reach ({', '.join(refused)})")
        return ResolvedTarget(scheme, host, port, addresses[0])
