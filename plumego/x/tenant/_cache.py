"""A tenant's view of a shared cache: every key is prefixed ``tenant:<id>:`` so tenants never read each other's
entries. Owns the key scheme only; any plumego.store ``Cache`` (memory, or a Redis cache from x/data) works.
Imports the standard library and plumego.store.
"""

from __future__ import annotations

from plumego.store import Cache

from ._core import validate_tenant_id

__all__ = ["TenantCache"]


class TenantCache:
    """``TenantCache(cache).for_tenant("acme")`` is an object with the Cache methods (``get``, ``set``, ``delete``,
    ``exists``, ``incr``) scoped to one tenant. ``clear`` is not offered: on a shared cache it would drop every
    tenant's entries."""

    def __init__(self, cache: Cache, *, prefix: str = "tenant", separator: str = ":") -> None:
        if not prefix or not separator:
            raise ValueError("prefix and separator must not be empty")
        self._cache = cache
        self._prefix = prefix
        self._sep = separator

    def key(self, tenant_id: str, key: str) -> str:
        validate_tenant_id(tenant_id)
        if not key:
            raise ValueError("cache key must not be empty")
        return f"{self._prefix}{self._sep}{tenant_id}{self._sep}{key}"

    def for_tenant(self, tenant_id: str) -> TenantCacheView:
        return TenantCacheView(self, validate_tenant_id(tenant_id))

    async def get(self, tenant_id: str, key: str) -> bytes | None:
        return await self._cache.get(self.key(tenant_id, key))

    async def set(self, tenant_id: str, key: str, value: bytes, ttl: float | None = None) -> None:
        await self._cache.set(self.key(tenant_id, key), value, ttl)

    async def delete(self, tenant_id: str, key: str) -> bool:
        return await self._cache.delete(self.key(tenant_id, key))

    async def exists(self, tenant_id: str, key: str) -> bool:
        return await self._cache.exists(self.key(tenant_id, key))

    async def incr(self, tenant_id: str, key: str, delta: int = 1) -> int:
        return await self._cache.incr(self.key(tenant_id, key), delta)


class TenantCacheView:
    def __init__(self, owner: TenantCache, tenant_id: str) -> None:
        self._owner = owner
        self.tenant_id = tenant_id

    async def get(self, key: str) -> bytes | None:
        return await self._owner.get(self.tenant_id, key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self._owner.set(self.tenant_id, key, value, ttl)

    async def delete(self, key: str) -> bool:
        return await self._owner.delete(self.tenant_id, key)

    async def exists(self, key: str) -> bool:
        return await self._owner.exists(self.tenant_id, key)

    async def incr(self, key: str, delta: int = 1) -> int:
        return await self._owner.incr(self.tenant_id, key, delta)
