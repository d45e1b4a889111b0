"""The with_tenant service: GET /api/models through the tenant chain, with quota and rate-limit state in memory,
SQLite or Redis. Imports plumego's stable roots and plumego.x.tenant (beta)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plumego.contract import Request
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id
from plumego.x.tenant import (
    ConfigPolicyEvaluator,
    FixedWindowQuotaManager,
    InMemoryConfigManager,
    PolicyConfig,
    QuotaLimit,
    QuotaWindow,
    RateLimitConfig,
    TenantConfig,
    TenantStateStore,
    TokenBucketRateLimiter,
    open_state_store,
    tenant_chain,
    tenant_id_from_scope,
)

MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "llama-3.1-70b")


def demo_tenants(per_minute: int, rps: float, burst: int) -> dict[str, TenantConfig]:
    """Two tenants: ``acme`` may use every model, ``free`` only the small one, at a tenth of the quota."""
    return {
        "acme": TenantConfig("acme", quota=(QuotaLimit(QuotaWindow.MINUTE, per_minute),),
                             policy=PolicyConfig(allowed_models=MODELS, allowed_paths=("/api/*",)),
                             rate_limit=RateLimitConfig(rps, burst=burst)),
        "free": TenantConfig("free", quota=(QuotaLimit(QuotaWindow.MINUTE, max(1, per_minute // 10)),),
                             policy=PolicyConfig(allowed_models=("gpt-4o-mini",), allowed_paths=("/api/*",)),
                             rate_limit=RateLimitConfig(max(rps / 10, 0.1), burst=max(1, burst // 10))),
    }


class StateLifecycle:
    """Closes the state store when the app stops."""

    def __init__(self, store: TenantStateStore) -> None:
        self.store = store

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.store.close()


def build_app(state_url: str, logger: StructuredLogger, *, tenants: Mapping[str, TenantConfig],
              host: str = "127.0.0.1", port: int = 8085) -> App:
    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))
    state = open_state_store(state_url)
    app.add_component("tenant-state", StateLifecycle(state))
    configs = InMemoryConfigManager(tenants)

    async def models(request: Request) -> dict[str, Any]:
        tenant = await configs.get(tenant_id_from_scope(request.scope))
        allowed = tenant.policy.allowed_models or MODELS
        return {"tenant": tenant.tenant_id, "models": list(allowed)}

    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    # the chain wraps the tenant API only: /healthz needs no tenant
    app.get("/api/models", models, middleware=tenant_chain(
        policy=ConfigPolicyEvaluator(configs),
        quota=FixedWindowQuotaManager(configs, state),
        rate_limit=TokenBucketRateLimiter(configs, state)))
    app.get("/healthz", healthz)
    return app
