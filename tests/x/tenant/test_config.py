"""Tenant config managers (memory, SQLite, PostgreSQL) behind one conformance suite, the cache in front of them,
and the JSON codec refusing bad input."""

from __future__ import annotations

import pytest

from plumego.x.tenant import (
    CachedConfigManager,
    ConfigManager,
    InMemoryConfigManager,
    PolicyConfig,
    QuotaLimit,
    RateLimitConfig,
    TenantConfig,
    TenantNotFoundError,
    config_from_json,
    config_to_json,
)

from .conftest import CONFIG_BACKENDS, FakeClock

FULL = TenantConfig("acme", quota=(QuotaLimit("minute", 60, 1000), QuotaLimit("month", 0, 10**9)),
                    policy=PolicyConfig(("gpt-4o",), ("search",), ("GET", "POST"), ("/api/*",)),
                    rate_limit=RateLimitConfig(2.5, burst=10), metadata={"plan": "pro"}, suspended=True)


def same(a: TenantConfig, b: TenantConfig) -> bool:
    strip = {"created_at", "updated_at"}
    return {k: v for k, v in config_to_json(a).items() if k not in strip} == \
        {k: v for k, v in config_to_json(b).items() if k not in strip}


@pytest.mark.parametrize("config_url", CONFIG_BACKENDS, indirect=True)
async def test_set_get_list_delete(configs: ConfigManager) -> None:
    assert isinstance(configs, ConfigManager)
    with pytest.raises(TenantNotFoundError):
        await configs.get("acme")
    stored = await configs.set(FULL)
    assert same(await configs.get("acme"), FULL) and stored.created_at > 0
    await configs.set(TenantConfig("beta"))
    updated = await configs.set(TenantConfig("acme", quota=(QuotaLimit("hour", 5),)))   # upsert
    got = await configs.get("acme")
    assert got.quota == (QuotaLimit("hour", 5),) and not got.suspended
    assert got.created_at == pytest.approx(stored.created_at) and updated.updated_at >= stored.updated_at
    assert [c.tenant_id for c in await configs.list()] == ["acme", "beta"]
    assert await configs.delete("acme") and not await configs.delete("acme")
    with pytest.raises(TenantNotFoundError):
        await configs.get("acme")


async def test_cache_serves_within_ttl_and_invalidates_on_own_writes() -> None:
    clock = FakeClock()
    inner = InMemoryConfigManager({"acme": TenantConfig("acme")})
    cached = CachedConfigManager(inner, size=2, ttl=5, clock=clock)
    assert (await cached.get("acme")).rate_limit.requests_per_second == 0
    await inner.set(TenantConfig("acme", rate_limit=RateLimitConfig(9)))       # behind the cache's back
    assert (await cached.get("acme")).rate_limit.requests_per_second == 0
    clock.advance(5)
    assert (await cached.get("acme")).rate_limit.requests_per_second == 9
    await cached.set(TenantConfig("acme", rate_limit=RateLimitConfig(3)))      # through the cache: seen at once
    assert (await cached.get("acme")).rate_limit.requests_per_second == 3
    with pytest.raises(TenantNotFoundError):
        await cached.get("ghost")
    await inner.set(TenantConfig("ghost"))
    with pytest.raises(TenantNotFoundError):                                   # negative entries are cached too
        await cached.get("ghost")
    await cached.delete("acme")
    with pytest.raises(TenantNotFoundError):
        await cached.get("acme")


def test_json_codec_round_trips_and_refuses_bad_input() -> None:
    assert same(config_from_json(config_to_json(FULL)), FULL)
    for bad in ([], {"tenant_id": 5}, {"tenant_id": "a b"}, {"tenant_id": "a", "quota": [{"window": "week"}]},
                {"tenant_id": "a", "quota": [{"requests": "10"}]}, {"tenant_id": "a", "policy": {"x": []}},
                {"tenant_id": "a", "policy": {"allowed_models": "gpt"}},
                {"tenant_id": "a", "rate_limit": {"burst": -1}},
                {"tenant_id": "a", "suspended": "yes"}, {"tenant_id": "a", "extra": 1},
                {"tenant_id": "a", "metadata": {"k": 1}}, {"tenant_id": "a", "metadata": {"status": "suspended"}}):
        with pytest.raises(ValueError):
            config_from_json(bad)
