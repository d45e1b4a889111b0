"""etcd v3 discovery over etcd's JSON gateway (``/v3/kv/range``, ``/v3/kv/put``, ``/v3/kv/deleterange``,
``/v3/lease/*``) with httpx, as Go does: instances are JSON values under ``<prefix><service>/<id>``.
``register(ttl=...)`` attaches a lease kept alive in the background, so a crashed instance disappears by itself
(Go puts plain keys). ``watch`` polls every ``interval``. Install with ``pip install 'plumego[gateway]'``.
Imports the standard library, httpx and this package.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

try:
    import httpx
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("etcd discovery needs httpx: pip install 'plumego[gateway]'") from exc

from ._instance import Instance, instances_changed

__all__ = ["EtcdDiscovery", "EtcdError"]

_log = logging.getLogger("plumego.x.gateway.discovery")


class EtcdError(RuntimeError):
    """etcd answered with an error, or could not be reached."""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _prefix_end(prefix: str) -> str:
    raw = bytearray(prefix.encode())
    raw[-1] += 1  # the first key after every key starting with prefix (prefixes here end in "/", never 0xff)
    return base64.b64encode(bytes(raw)).decode()


class EtcdDiscovery:
    """``EtcdDiscovery("http://127.0.0.1:2379", prefix="/services/")``."""

    def __init__(self, endpoint: str, *, prefix: str = "/services/", interval: float = 5.0,
                 timeout: float = 5.0) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"the etcd endpoint is an http(s) URL, got {endpoint!r}")
        self._prefix = prefix if prefix.endswith("/") else prefix + "/"
        self._interval = interval
        self._client = httpx.AsyncClient(base_url=endpoint.rstrip("/"), timeout=timeout, trust_env=False)
        self._leases: dict[tuple[str, str], tuple[str, asyncio.Task[None]]] = {}

    def _key(self, service: str, instance_id: str = "") -> str:
        if not service or "/" in service or "/" in instance_id:
            raise ValueError("service names and instance ids cannot be empty or contain '/'")
        return f"{self._prefix}{service}/{instance_id}"

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise EtcdError(f"etcd {path}: {exc!r}") from exc
        if response.status_code != 200:
            raise EtcdError(f"etcd {path}: {response.status_code} {response.text[:200]}")
        data: dict[str, Any] = response.json()
        return data

    async def resolve(self, service: str) -> list[Instance]:
        key = self._key(service)
        data = await self._post("/v3/kv/range", {"key": _b64(key), "range_end": _prefix_end(key)})
        out: list[Instance] = []
        for kv in data.get("kvs", []):
            try:
                instance = Instance.from_json(json.loads(base64.b64decode(kv["value"])))
            except (ValueError, KeyError, TypeError) as exc:
                _log.warning("etcd discovery: skipping malformed instance %s: %s",
                             base64.b64decode(kv.get("key", "")).decode(errors="replace"), exc)
                continue
            if instance.healthy:
                out.append(instance)
        return sorted(out, key=lambda i: i.id)

    async def watch(self, service: str) -> AsyncIterator[list[Instance]]:
        last: list[Instance] | None = None
        while True:
            current = await self.resolve(service)
            if instances_changed(last, current):
                last = current
                yield current
            await asyncio.sleep(self._interval)

    async def register(self, instance: Instance, *, ttl: int = 0) -> None:
        """Put the instance; with ``ttl`` seconds it lives on a lease renewed every ttl/3 until deregistered."""
        body: dict[str, Any] = {"key": _b64(self._key(instance.name, instance.id)),
                                "value": _b64(json.dumps(instance.to_json()))}
        if ttl > 0:
            lease = (await self._post("/v3/lease/grant", {"TTL": ttl}))["ID"]
            body["lease"] = lease
            task = asyncio.create_task(self._keepalive(lease, ttl), name=f"etcd-lease-{instance.id}")
            old = self._leases.pop((instance.name, instance.id), None)
            if old:
                old[1].cancel()
            self._leases[(instance.name, instance.id)] = (lease, task)
        await self._post("/v3/kv/put", body)

    async def _keepalive(self, lease: str, ttl: int) -> None:
        while True:
            await asyncio.sleep(max(ttl / 3, 0.5))
            try:
                await self._post("/v3/lease/keepalive", {"ID": lease})
            except EtcdError as exc:
                _log.warning("etcd discovery: lease keepalive failed: %s", exc)

    async def deregister(self, service: str, instance_id: str) -> None:
        held = self._leases.pop((service, instance_id), None)
        if held:
            held[1].cancel()
            with contextlib.suppress(EtcdError):
                await self._post("/v3/lease/revoke", {"ID": held[0]})
        await self._post("/v3/kv/deleterange", {"key": _b64(self._key(service, instance_id))})

    async def health(self) -> None:
        try:
            response = await self._client.get("/health")
        except httpx.HTTPError as exc:
            raise EtcdError(f"etcd is unreachable: {exc!r}") from exc
        if response.status_code != 200 or response.json().get("health") != "true":
            raise EtcdError(f"etcd is unhealthy: {response.text[:200]}")

    async def delete_prefix(self) -> None:
        """Remove every key under this discovery's prefix (tests and teardown)."""
        await self._post("/v3/kv/deleterange", {"key": _b64(self._prefix), "range_end": _prefix_end(self._prefix)})

    async def close(self) -> None:
        for _, task in self._leases.values():
            task.cancel()
        self._leases.clear()
        await self._client.aclose()
