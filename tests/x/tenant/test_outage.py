"""A Redis or PostgreSQL server that goes away mid-run (a CuttableProxy between the client and the server):
every tenant step fails closed with 503 ``tenant_state_unavailable`` (never "allowed"), and service resumes once
the server is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest

from plumego.contract import Request
from plumego.core import App
from plumego.x.tenant import (
    CachedConfigManager,
    ConfigPolicyEvaluator,
    FixedWindowQuotaManager,
    InMemoryConfigManager,
    QuotaLimit,
    RateLimitConfig,
    StateUnavailableError,
    TenantConfig,
    TokenBucketRateLimiter,
    open_config_manager,
    open_state_store,
    tenant_chain,
)
from plumego.x.tenant._config import ConfigManager

from ..tcp_proxy import CuttableProxy

pytestmark = pytest.mark.services
ACME = TenantConfig("acme", quota=(QuotaLimit("minute", 1000),), rate_limit=RateLimitConfig(1000, burst=1000))


@pytest.fixture
async def redis_proxy(redis_namespace: tuple[str, str]) -> AsyncIterator[tuple[str, CuttableProxy]]:
    base, prefix = redis_namespace
    parts = urlsplit(base)
    proxy = CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    yield f"redis://127.0.0.1:{proxy.port}{parts.path or '/0'}?prefix={prefix}", proxy
    await proxy.close()


def app_with(configs: ConfigManager, quota: FixedWindowQuotaManager, limiter: TokenBucketRateLimiter) -> App:
    app = App()
    app.use(*tenant_chain(policy=ConfigPolicyEvaluator(configs), quota=quota, rate_limit=limiter))

    async def models(request: Request) -> dict[str, bool]:
        return {"ok": True}
    app.get("/api/models", models)
    return app


async def test_redis_cut_mid_run_fails_closed_then_recovers(redis_proxy: tuple[str, CuttableProxy]) -> None:
    url, proxy = redis_proxy
    store = open_state_store(url)
    configs = InMemoryConfigManager({"acme": ACME})
    app = app_with(configs, FixedWindowQuotaManager(configs, store), TokenBucketRateLimiter(configs, store))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            h = {"X-Tenant-ID": "acme"}
            assert (await client.get("/api/models", headers=h)).status_code == 200
            proxy.cut()
            for _ in range(3):
                r = await client.get("/api/models", headers=h)
                assert r.status_code == 503 and r.json()["error"]["code"] == "tenant_state_unavailable"
            with pytest.raises(StateUnavailableError):
                await store.take("acme", 0.0, 1.0, 1.0, 1.0)
            proxy.restore()
            statuses = []
            for _ in range(20):
                statuses.append((await client.get("/api/models", headers=h)).status_code)
                if statuses[-1] == 200:
                    break
                await asyncio.sleep(0.05)
            assert statuses[-1] == 200 and set(statuses) <= {200, 503}
    finally:
        await store.close()


async def test_postgres_cut_mid_run_fails_closed_then_recovers(pg_schema: tuple[str, str]) -> None:
    base, schema = pg_schema
    parts = urlsplit(base)
    proxy = CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    netloc = (f"{parts.username}@" if parts.username else "") + f"127.0.0.1:{proxy.port}"
    url = parts._replace(netloc=netloc).geturl() + f"{'&' if parts.query else '?'}schema={schema}"
    manager = await open_config_manager(url, cache_ttl=0, timeout=1.0)
    try:
        await manager.set(ACME)
        configs = CachedConfigManager(manager, ttl=0.01)
        app = app_with(configs, FixedWindowQuotaManager(configs), TokenBucketRateLimiter(configs))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            h = {"X-Tenant-ID": "acme"}
            assert (await client.get("/api/models", headers=h)).status_code == 200
            proxy.cut()
            await asyncio.sleep(0.02)                   # the cached entry expires
            for _ in range(2):
                r = await client.get("/api/models", headers=h)
                assert r.status_code == 503 and r.json()["error"]["code"] == "tenant_state_unavailable"
            proxy.restore()
            statuses = []
            for _ in range(40):
                statuses.append((await client.get("/api/models", headers=h)).status_code)
                if statuses[-1] == 200:
                    break
                await asyncio.sleep(0.1)
            assert statuses[-1] == 200 and set(statuses) <= {200, 503}
    finally:
        await manager.close()  # type: ignore[attr-defined]
        await proxy.close()


async def test_session_check_fails_closed_when_redis_is_cut(redis_proxy: tuple[str, CuttableProxy]) -> None:
    from plumego.contract import Receive, Scope, Send
    from plumego.middleware import Principal, with_principal
    from plumego.x.tenant import SessionManager, open_session_store, session_check

    url, proxy = redis_proxy
    store = open_session_store(url)
    manager = SessionManager(store)
    issued = await manager.create("ada")

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    checked = session_check(manager)(inner)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        with_principal(scope, Principal(subject="ada", claims={"session_id": issued.session.session_id}))
        await checked(scope, receive, send)

    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            assert (await client.get("/")).status_code == 200
            proxy.cut()
            r = await client.get("/")
            assert r.status_code == 503 and r.json()["error"]["code"] == "tenant_state_unavailable"
            with pytest.raises(StateUnavailableError):
                await manager.refresh(issued.refresh_token)
            proxy.restore()
            statuses = []
            for _ in range(20):
                statuses.append((await client.get("/")).status_code)
                if statuses[-1] == 200:
                    break
                await asyncio.sleep(0.05)
            assert statuses[-1] == 200
    finally:
        await store.close()  # type: ignore[attr-defined]
