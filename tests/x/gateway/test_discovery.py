"""Discovery: the static table, DNS SRV against a real DNS server on loopback (dnspython answering UDP), and
etcd v3 against a real etcd; and a gateway following discovery changes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from plumego.x.gateway import Gateway, GatewayConfig
from plumego.x.gateway.discovery import Instance, NotSupportedError, StaticDiscovery

from .conftest import serve_asgi

dns_message = pytest.importorskip("dns.message")
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402


async def test_static_register_watch_deregister() -> None:
    d = StaticDiscovery({"api": ["http://10.0.0.1:80", Instance("b", "api", "10.0.0.2", 8080, weight=3)]})
    assert [i.url for i in await d.resolve("api")] == ["http://10.0.0.1:80", "http://10.0.0.2:8080"]
    watch = d.watch("api")
    assert len(await anext(watch)) == 2
    await d.register(Instance("c", "api", "10.0.0.3", 80, healthy=False))
    assert len(await asyncio.wait_for(anext(watch), 2)) == 2          # unhealthy instances are not resolved
    await d.deregister("api", "b")
    assert [i.id for i in await asyncio.wait_for(anext(watch), 2)] == ["10.0.0.1:80"]
    assert await d.resolve("other") == []
    with pytest.raises(ValueError):
        StaticDiscovery({"api": ["ftp://x"]})
    with pytest.raises(ValueError):
        Instance("x", "api", "", 80)


class _DNSServer(asyncio.DatagramProtocol):
    """Answers SRV and A queries from a table, NXDOMAIN otherwise."""

    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        self.records = records
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns_message.from_wire(data)
        response = dns_message.make_response(query)
        question = query.question[0]
        name = question.name.to_text()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        values = self.records.get((name, rdtype))
        if values is None:
            response.set_rcode(3 if not any(n == name for n, _ in self.records) else 0)
        else:
            response.answer.append(dns.rrset.from_text_list(question.name, 30, dns.rdataclass.IN, rdtype, values))
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


@pytest.fixture
async def dns_server() -> AsyncIterator[tuple[int, _DNSServer]]:
    server = _DNSServer({})
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(lambda: server,
                                                                             local_addr=("127.0.0.1", 0))
    yield transport.get_extra_info("sockname")[1], server
    transport.close()


async def test_dns_srv(dns_server: tuple[int, _DNSServer]) -> None:
    from plumego.x.gateway.discovery import DNSSRVDiscovery

    port, server = dns_server
    server.records = {
        ("_api._tcp.svc.test.", "SRV"): ["10 60 8080 a.svc.test.", "10 20 8081 b.svc.test.", "20 1 9 c.svc.test."],
        ("a.svc.test.", "A"): ["127.0.0.10"],
        ("b.svc.test.", "A"): ["127.0.0.11", "127.0.0.12"],
    }
    d = DNSSRVDiscovery("svc.test", nameservers=["127.0.0.1"], port=port, interval=0.05, timeout=2)
    found = await d.resolve("api")
    assert sorted((i.url, i.weight) for i in found) == [("http://127.0.0.10:8080", 60), ("http://127.0.0.11:8081", 20),
                                                         ("http://127.0.0.12:8081", 20)]   # priority 20 is a backup
    assert await d.resolve("missing") == []
    watch = d.watch("api")
    assert len(await anext(watch)) == 3
    server.records[("_api._tcp.svc.test.", "SRV")] = ["10 1 8080 a.svc.test."]
    assert [i.url for i in await asyncio.wait_for(anext(watch), 5)] == ["http://127.0.0.10:8080"]
    with pytest.raises(NotSupportedError):
        await d.register(found[0])


@pytest.fixture
async def etcd(etcd_url: str) -> AsyncIterator[Any]:
    from plumego.x.gateway.discovery import EtcdDiscovery

    d = EtcdDiscovery(etcd_url, prefix=f"/t{uuid.uuid4().hex[:10]}/", interval=0.05)
    yield d
    await d.delete_prefix()
    await d.close()


@pytest.mark.services
async def test_etcd_register_resolve_watch_deregister(etcd: Any) -> None:
    await etcd.health()
    await etcd.register(Instance("a", "api", "127.0.0.1", 8001, metadata={"zone": "x"}, tags=("v1",)))
    await etcd.register(Instance("b", "api", "127.0.0.1", 8002, weight=5), ttl=5)
    await etcd.register(Instance("z", "other", "127.0.0.1", 9000))
    found = await etcd.resolve("api")
    assert [(i.id, i.port, i.weight) for i in found] == [("a", 8001, 1), ("b", 8002, 5)]
    assert found[0].metadata == {"zone": "x"} and list(found[0].tags) == ["v1"]
    watch = etcd.watch("api")
    assert len(await anext(watch)) == 2
    await etcd.deregister("api", "b")
    assert [i.id for i in await asyncio.wait_for(anext(watch), 5)] == ["a"]
    with pytest.raises(ValueError):
        await etcd.register(Instance("a/b", "api", "127.0.0.1", 1))


async def test_etcd_unreachable_is_a_clear_error() -> None:
    from plumego.x.gateway.discovery import EtcdDiscovery, EtcdError

    d = EtcdDiscovery("http://127.0.0.1:1", timeout=0.5)
    with pytest.raises(EtcdError):
        await d.resolve("api")
    with pytest.raises(EtcdError):
        await d.health()
    await d.close()


async def test_gateway_follows_discovery(backends: Any) -> None:
    url_a, _ = await backends("a")
    url_b, _ = await backends("b")
    host_a, port_a = url_a.removeprefix("http://").split(":")
    host_b, port_b = url_b.removeprefix("http://").split(":")
    d = StaticDiscovery({"api": [Instance("a", "api", host_a, int(port_a))]})
    gateway = Gateway(GatewayConfig(), discovery=d, service="api")
    await gateway.start()
    try:
        async with serve_asgi(gateway) as url, httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/x")).json()["backend"] == "a"
            await d.register(Instance("b", "api", host_b, int(port_b)))
            await d.deregister("api", "a")
            for _ in range(100):
                if [b.url for b in gateway.backends] == [url_b]:
                    break
                await asyncio.sleep(0.02)
            assert (await client.get("/x")).json()["backend"] == "b"
    finally:
        await gateway.stop()
    with pytest.raises(ValueError):
        Gateway(GatewayConfig(), discovery=d)
