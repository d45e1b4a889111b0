"""Tenant configuration managers: the :class:`ConfigManager` protocol, the in-memory one, a TTL+LRU cache in front
of any manager, and the JSON row codec the SQL managers share.

Owns how a :class:`TenantConfig` is looked up, changed and cached. A cached manager serves a config for at most
``ttl`` seconds after another process changed it (changes made through the same manager invalidate at once).
Imports only the standard library.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

from ._core import PolicyConfig, QuotaLimit, QuotaWindow, RateLimitConfig, TenantConfig, TenantNotFoundError

__all__ = ["CachedConfigManager", "ConfigManager", "ConfigProvider", "InMemoryConfigManager", "config_from_row",
           "config_to_row", "config_from_json", "config_to_json"]


@runtime_checkable
class ConfigProvider(Protocol):
    """What the policy, quota and rate-limit steps read. ``get`` raises TenantNotFoundError for an unknown tenant
    and StateUnavailableError when the backend cannot answer."""

    async def get(self, tenant_id: str) -> TenantConfig: ...


@runtime_checkable
class ConfigManager(ConfigProvider, Protocol):
    async def set(self, config: TenantConfig) -> TenantConfig: ...

    async def delete(self, tenant_id: str) -> bool: ...

    async def list(self) -> list[TenantConfig]: ...


class InMemoryConfigManager:
    """Configs in a dict: for tests, single-process apps and the examples' default."""

    def __init__(self, configs: Mapping[str, TenantConfig] | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._configs: dict[str, TenantConfig] = dict(configs or {})
        self._clock = clock

    async def get(self, tenant_id: str) -> TenantConfig:
        found = self._configs.get(tenant_id)
        if found is None:
            raise TenantNotFoundError(tenant_id)
        return found

    async def set(self, config: TenantConfig) -> TenantConfig:
        now = self._clock()
        old = self._configs.get(config.tenant_id)
        stored = replace(config, created_at=old.created_at if old else now, updated_at=now)
        self._configs[config.tenant_id] = stored
        return stored

    async def delete(self, tenant_id: str) -> bool:
        return self._configs.pop(tenant_id, None) is not None

    async def list(self) -> list[TenantConfig]:
        return [self._configs[k] for k in sorted(self._configs)]


class CachedConfigManager:
    """An LRU of at most ``size`` configs, each kept ``ttl`` seconds, in front of ``inner``. Unknown tenants are
    cached too (negative caching), so a flood of bogus ids does not reach the database."""

    def __init__(self, inner: ConfigManager, *, size: int = 1024, ttl: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if size < 1 or ttl <= 0:
            raise ValueError("size must be >= 1 and ttl > 0")
        self._inner = inner
        self._size = size
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, TenantConfig | None]] = OrderedDict()

    async def get(self, tenant_id: str) -> TenantConfig:
        now = self._clock()
        hit = self._entries.get(tenant_id)
        if hit is not None and hit[0] > now:
            self._entries.move_to_end(tenant_id)
            if hit[1] is None:
                raise TenantNotFoundError(tenant_id)
            return hit[1]
        try:
            config: TenantConfig | None = await self._inner.get(tenant_id)
        except TenantNotFoundError:
            config = None
        self._entries[tenant_id] = (now + self._ttl, config)
        self._entries.move_to_end(tenant_id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        if config is None:
            raise TenantNotFoundError(tenant_id)
        return config

    def invalidate(self, tenant_id: str | None = None) -> None:
        if tenant_id is None:
            self._entries.clear()
        else:
            self._entries.pop(tenant_id, None)

    async def set(self, config: TenantConfig) -> TenantConfig:
        self.invalidate(config.tenant_id)
        try:
            return await self._inner.set(config)
        finally:
            self.invalidate(config.tenant_id)

    async def delete(self, tenant_id: str) -> bool:
        try:
            return await self._inner.delete(tenant_id)
        finally:
            self.invalidate(tenant_id)

    async def list(self) -> list[TenantConfig]:
        return await self._inner.list()


def config_to_json(config: TenantConfig) -> dict[str, Any]:
    """The JSON shape the admin API and the SQL rows use."""
    return {
        "tenant_id": config.tenant_id,
        "quota": [{"window": q.window.value, "requests": q.requests, "tokens": q.tokens} for q in config.quota],
        "policy": {"allowed_models": list(config.policy.allowed_models),
                   "allowed_tools": list(config.policy.allowed_tools),
                   "allowed_methods": list(config.policy.allowed_methods),
                   "allowed_paths": list(config.policy.allowed_paths)},
        "rate_limit": {"requests_per_second": config.rate_limit.requests_per_second,
                       "burst": config.rate_limit.burst},
        "metadata": dict(config.metadata),
        "suspended": config.suspended,
        "created_at": config.created_at,
        "updated_at": config.updated_at,
    }


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings")
    return tuple(value)


def config_from_json(data: Any) -> TenantConfig:
    """Parse :func:`config_to_json`'s shape; raise ValueError naming the bad field. Unknown fields are refused."""
    if not isinstance(data, dict):
        raise ValueError("a tenant config must be a JSON object")
    unknown = set(data) - {"tenant_id", "quota", "policy", "rate_limit", "metadata", "suspended", "created_at",
                           "updated_at"}
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if not isinstance(data.get("tenant_id"), str):
        raise ValueError("tenant_id must be a string")
    quota_raw = data.get("quota") or []
    if not isinstance(quota_raw, list):
        raise ValueError("quota must be a list")
    quota = []
    for item in quota_raw:
        if not isinstance(item, dict) or set(item) - {"window", "requests", "tokens"}:
            raise ValueError("each quota limit is {window, requests, tokens}")
        try:
            window = QuotaWindow(item.get("window", "minute"))
        except ValueError:
            raise ValueError("quota window must be minute, hour, day or month") from None
        quota.append(QuotaLimit(window, item.get("requests", 0), item.get("tokens", 0)))
    policy_raw = data.get("policy") or {}
    if not isinstance(policy_raw, dict) or set(policy_raw) - {"allowed_models", "allowed_tools", "allowed_methods",
                                                               "allowed_paths"}:
        raise ValueError("policy holds allowed_models, allowed_tools, allowed_methods and allowed_paths")
    policy = PolicyConfig(*(_strings(policy_raw.get(k), k) for k in ("allowed_models", "allowed_tools",
                                                                     "allowed_methods", "allowed_paths")))
    rate_raw = data.get("rate_limit") or {}
    if not isinstance(rate_raw, dict) or set(rate_raw) - {"requests_per_second", "burst"}:
        raise ValueError("rate_limit is {requests_per_second, burst}")
    rate = RateLimitConfig(rate_raw.get("requests_per_second", 0.0), rate_raw.get("burst", 0))
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValueError("metadata must be an object of strings")
    suspended = data.get("suspended", False)
    if not isinstance(suspended, bool):
        raise ValueError("suspended must be a boolean")
    if metadata.get("status") == "suspended":
        raise ValueError('metadata "status": "suspended" is reserved; set "suspended": true instead')
    stamps = [data.get(k, 0.0) for k in ("created_at", "updated_at")]
    if not all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in stamps):
        raise ValueError("created_at and updated_at must be numbers")
    return TenantConfig(data["tenant_id"], tuple(quota), policy, rate, metadata, suspended,
                        float(stamps[0]), float(stamps[1]))


# -- SQL rows (Go's ``tenants`` table: JSON text columns, plus rate_limit) ---------------------------------------

COLUMNS = ("id", "quota_limits", "allowed_models", "allowed_tools", "allowed_methods", "allowed_paths", "rate_limit",
           "metadata", "created_at", "updated_at")


def config_to_row(config: TenantConfig) -> tuple[Any, ...]:
    data = config_to_json(config)
    metadata = dict(config.metadata)
    if config.suspended:
        metadata["status"] = "suspended"
    elif metadata.get("status") == "suspended":
        raise ValueError('metadata "status": "suspended" is reserved; set suspended=True instead')
    return (config.tenant_id, json.dumps(data["quota"]), *(json.dumps(data["policy"][k]) for k in (
        "allowed_models", "allowed_tools", "allowed_methods", "allowed_paths")),
        json.dumps(data["rate_limit"]), json.dumps(metadata), config.created_at, config.updated_at)


def config_from_row(row: tuple[Any, ...]) -> TenantConfig:
    metadata = json.loads(row[7] or "{}")
    suspended = metadata.get("status") == "suspended"
    if suspended:
        del metadata["status"]
    return config_from_json({
        "tenant_id": row[0], "quota": json.loads(row[1] or "[]"),
        "policy": {k: json.loads(v or "[]") for k, v in zip(
            ("allowed_models", "allowed_tools", "allowed_methods", "allowed_paths"), row[2:6], strict=True)},
        "rate_limit": json.loads(row[6] or "{}"), "metadata": metadata, "suspended": suspended,
        "created_at": float(row[8]), "updated_at": float(row[9])})
