"""DNS SRV discovery (dnspython): ``_<service>._tcp.<domain>`` SRV records give the instances; the lowest
priority group is used (RFC 2782) with the SRV weights; targets are resolved to addresses with the same resolver
(so a private DNS server works without the system resolver knowing it). ``watch`` polls every ``interval``.
Read-only: register/deregister raise :class:`NotSupportedError`. Install with ``pip install 'plumego[gateway]'``.
Imports the standard library, dnspython and this package.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

try:
    import dns.asyncresolver
    import dns.exception
    import dns.rdatatype
    import dns.resolver
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("DNS SRV discovery needs dnspython: pip install 'plumego[gateway]'") from exc

from ._instance import Instance, NotSupportedError, instances_changed

__all__ = ["DNSSRVDiscovery"]


class DNSSRVDiscovery:
    """``DNSSRVDiscovery(domain="svc.internal", nameservers=["10.0.0.2"])``; ``resolve("api")`` asks for
    ``_api._tcp.svc.internal``. A service name containing a dot is used as the full SRV name."""

    def __init__(self, domain: str = "", *, nameservers: Sequence[str] = (), port: int = 53, protocol: str = "tcp",
                 scheme: str = "http", interval: float = 30.0, timeout: float = 5.0,
                 resolve_addresses: bool = True) -> None:
        self._domain = domain.strip(".")
        self._protocol, self._scheme, self._interval = protocol, scheme, interval
        self._resolve_addresses = resolve_addresses
        if nameservers:
            self._resolver = dns.asyncresolver.Resolver(configure=False)
            self._resolver.nameservers = list(nameservers)
            self._resolver.port = port
        else:
            self._resolver = dns.asyncresolver.Resolver()
        self._resolver.lifetime = timeout

    def srv_name(self, service: str) -> str:
        if "." in service:
            return service
        return f"_{service}._{self._protocol}" + (f".{self._domain}" if self._domain else "")

    async def resolve(self, service: str) -> list[Instance]:
        try:
            answer = await self._resolver.resolve(self.srv_name(service), "SRV")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        records = list(answer)
        if not records:
            return []
        best = min(r.priority for r in records)
        out: list[Instance] = []
        for r in records:
            if r.priority != best:
                continue
            target = r.target.to_text().rstrip(".")
            addresses = [target]
            if self._resolve_addresses:
                addresses = await self._addresses(target)
            for address in addresses:
                out.append(Instance(id=f"{target}:{r.port}/{address}", name=service, address=address, port=r.port,
                                    scheme=self._scheme, weight=max(1, r.weight)))
        return out

    async def _addresses(self, host: str) -> list[str]:
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                found += [r.to_text() for r in await self._resolver.resolve(host, rdtype)]
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
        return found or [host]

    async def watch(self, service: str) -> AsyncIterator[list[Instance]]:
        last: list[Instance] | None = None
        while True:
            current = await self.resolve(service)
            if instances_changed(last, current):
                last = current
                yield current
            await asyncio.sleep(self._interval)

    async def register(self, instance: Instance) -> None:
        raise NotSupportedError("DNS SRV discovery is read-only: publish records in your DNS server")

    async def deregister(self, service: str, instance_id: str) -> None:
        raise NotSupportedError("DNS SRV discovery is read-only: remove records in your DNS server")

    async def health(self) -> None:
        try:
            await self._resolver.resolve(self.srv_name("health-probe"), "SRV")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None

    async def close(self) -> None:
        return None
