"""Static discovery: a mutable in-process table of services (Go ``Static``), with watchers woken on change.
Per process. Imports only the standard library and this package.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping

from ._instance import Instance

__all__ = ["StaticDiscovery"]


class StaticDiscovery:
    def __init__(self, services: Mapping[str, Iterable[Instance | str]] | None = None) -> None:
        self._services: dict[str, dict[str, Instance]] = {}
        self._changed = asyncio.Condition()
        self._version = 0
        for name, entries in (services or {}).items():
            for entry in entries:
                self._put(_as_instance(name, entry))

    def _put(self, instance: Instance) -> None:
        self._services.setdefault(instance.name, {})[instance.id] = instance

    async def _notify(self) -> None:
        self._version += 1
        async with self._changed:
            self._changed.notify_all()

    async def resolve(self, service: str) -> list[Instance]:
        return [i for i in self._services.get(service, {}).values() if i.healthy]

    async def watch(self, service: str) -> AsyncIterator[list[Instance]]:
        while True:
            seen = self._version
            yield await self.resolve(service)
            async with self._changed:  # a change made while the caller held the last answer counts too
                await self._changed.wait_for(lambda: self._version != seen)

    async def register(self, instance: Instance) -> None:
        self._put(instance)
        await self._notify()

    async def deregister(self, service: str, instance_id: str) -> None:
        self._services.get(service, {}).pop(instance_id, None)
        await self._notify()

    async def health(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _as_instance(name: str, entry: Instance | str) -> Instance:
    if isinstance(entry, Instance):
        return entry
    from urllib.parse import urlsplit

    parts = urlsplit(entry)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"a static instance is an Instance or an http(s)://host:port URL, got {entry!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Instance(id=f"{parts.hostname}:{port}", name=name, address=parts.hostname, port=port,
                    scheme=parts.scheme)
