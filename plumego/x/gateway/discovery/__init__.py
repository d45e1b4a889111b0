"""plumego.x.gateway.discovery (experimental): where the gateway's backends come from — a static table,
DNS SRV records (dnspython) or etcd v3 (its JSON gateway, over httpx).

::

    discovery = EtcdDiscovery("http://127.0.0.1:2379", prefix="/services/")
    await discovery.register(Instance(id="api-1", name="api", address="10.0.0.5", port=8080), ttl=10)
    gateway = Gateway(GatewayConfig(), discovery=discovery, service="api")   # follows the instances as they change

The DNS and etcd backends need ``pip install 'plumego[gateway]'`` and are imported lazily. Imports follow the
x/gateway family's rules in specs/dependency-rules.yaml.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._instance import Discovery, Instance, NotSupportedError
from ._static import StaticDiscovery

if TYPE_CHECKING:
    from ._dns import DNSSRVDiscovery
    from ._etcd import EtcdDiscovery, EtcdError

__all__ = ["DNSSRVDiscovery", "Discovery", "EtcdDiscovery", "EtcdError", "Instance", "NotSupportedError",
           "StaticDiscovery"]


def __getattr__(name: str) -> Any:
    if name == "DNSSRVDiscovery":
        from ._dns import DNSSRVDiscovery

        return DNSSRVDiscovery
    if name in ("EtcdDiscovery", "EtcdError"):
        from . import _etcd

        return getattr(_etcd, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
