"""The four tenant steps through a real plumego App, on every state backend: Go's statuses, error codes and
headers, the canonical order, and each step failing closed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from plumego.contract import Request
from plumego.core import App
from plumego.middleware import Principal, with_principal
from plumego.x.tenant import (
    ConfigPolicyEvaluator,
    Decision,
    FixedWindowQuotaManager,
    Hooks,
    InMemoryConfigManager,
    PolicyConfig,
    QuotaLimit,
    QuotaWindow,
    RateLimitConfig,
    SlidingWindowQuotaManager,
    TenantConfig,
    TenantStateStore,
    TokenBucketRateLimiter,
    chain,
    from_query,
    resolve_tenant,
    tenant_chain,
    tenant_id_from_scope,
)

from .conftest import STATE_BACKENDS, FakeClock

ACME = TenantConfig("acme", quota=(QuotaLimit(QuotaWindow.MINUTE, requests=3, tokens=100),),
                    policy=PolicyConfig(allowed_models=("gpt-4o",), allowed_paths=("/api/*",)),
                    rate_limit=RateLimitConfig(requests_per_second=1, burst=10))


def build(configs: InMemoryConfigManager, state: TenantStateStore | None, clock: FakeClock,
          decisions: list[Decision] | None = None, sliding: bool = False) -> App:
    app = App()
    hooks = Hooks(*(4 * [decisions.append])) if decisions is not None else Hooks()
    manager = (SlidingWindowQuotaManager if sliding else FixedWindowQuotaManager)(configs, state, clock=clock)
    app.use(*tenant_chain(policy=ConfigPolicyEvaluator(configs), quota=manager,
                          rate_limit=TokenBucketRateLimiter(configs, state, clock=clock), hooks=hooks))

    async def models(request: Request) -> dict[str, str]:
        return {"tenant": tenant_id_from_scope(request.scope)}

    app.get("/api/models", models)
    app.get("/other", models)
    return app


@pytest.fixture
async def client(state: TenantStateStore, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    configs = InMemoryConfigManager({"acme": ACME})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(build(configs, state, clock)),
                                 base_url="http://t") as c:
        yield c


H = {"X-Tenant-ID": "acme", "X-Model": "gpt-4o"}


@pytest.mark.parametrize("state_url", STATE_BACKENDS, indirect=True)
async def test_chain_allows_then_answers_quota_exceeded(client: httpx.AsyncClient, clock: FakeClock) -> None:
    seen = []
    for _ in range(3):
        r = await client.get("/api/models", headers={**H, "X-Token-Count": "10"})
        assert r.status_code == 200 and r.json() == {"tenant": "acme"}
        seen.append((r.headers["x-quota-remaining-requests"], r.headers["x-quota-remaining-tokens"]))
    assert seen == [("2", "90"), ("1", "80"), ("0", "70")]
    r = await client.get("/api/models", headers=H)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "tenant_quota_exceeded"
    assert r.json()["error"]["type"] == "rate_limited"
    assert r.headers["retry-after"] == "20"                     # the minute ends 20 s after the fake clock
    assert r.headers["x-quota-remaining-requests"] == "0"
    clock.advance(20)
    assert (await client.get("/api/models", headers=H)).status_code == 200


@pytest.mark.parametrize("state_url", STATE_BACKENDS, indirect=True)
async def test_token_quota_and_bad_token_count(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/models", headers={**H, "X-Token-Count": "101"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "tenant_quota_exceeded"
    for bad in ("-5", "ten", "1e3"):
        r = await client.get("/api/models", headers={**H, "X-Token-Count": bad})
        assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_FORMAT"


async def test_resolve_answers_401_and_400_with_go_codes() -> None:
    clock = FakeClock()
    app = build(InMemoryConfigManager({"acme": ACME}), None, clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        r = await client.get("/api/models")
        assert r.status_code == 401
        assert r.json()["error"] | {} == {**r.json()["error"], "code": "tenant_required", "category": "auth_error"}
        for bad in ("a b", "x" * 256, "../etc", "acme;drop", "ü"):
            r = await client.get("/api/models", headers={"X-Tenant-ID": bad.encode()})
            assert r.status_code == 400 and r.json()["error"]["code"] == "tenant_invalid_id", bad


async def test_policy_denies_with_403() -> None:
    app = build(InMemoryConfigManager({"acme": ACME, "off": TenantConfig("off", suspended=True)}), None,
                FakeClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        for headers, path in [({"X-Tenant-ID": "acme", "X-Model": "claude"}, "/api/models"),
                              (H, "/other"),                                  # path not allowed
                              ({"X-Tenant-ID": "ghost"}, "/api/models"),      # unknown tenant
                              ({"X-Tenant-ID": "off"}, "/api/models")]:       # suspended
            r = await client.get(path, headers=headers)
            assert r.status_code == 403, (headers, path)
            assert r.json()["error"]["code"] == "tenant_policy_denied"
        assert (await client.get("/api/models", headers={"X-Tenant-ID": "acme"})).status_code == 200   # no model


@pytest.mark.parametrize("state_url", STATE_BACKENDS, indirect=True)
async def test_rate_limit_answers_429_with_headers_and_resizes_in_place(state: TenantStateStore,
                                                                       clock: FakeClock) -> None:
    configs = InMemoryConfigManager({"acme": TenantConfig("acme", rate_limit=RateLimitConfig(2, burst=3))})
    app = build(configs, state, clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        codes = [(await client.get("/api/models", headers=H)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = await client.get("/api/models", headers=H)
        assert r.status_code == 429 and r.json()["error"]["code"] == "tenant_rate_limited"
        assert (r.headers["retry-after"], r.headers["x-ratelimit-limit"], r.headers["x-ratelimit-remaining"]) == \
            ("1", "3", "0")
        clock.advance(1)                                       # two tokens back at 2/s
        await configs.set(TenantConfig("acme", rate_limit=RateLimitConfig(2, burst=50)))
        codes = [(await client.get("/api/models", headers=H)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]                        # resized, but the tokens were kept, not refilled


async def test_sliding_window_manager_through_the_chain() -> None:
    clock = FakeClock()
    configs = InMemoryConfigManager({"acme": TenantConfig("acme", quota=(QuotaLimit("minute", 2),)),
                                     "hourly": TenantConfig("hourly", quota=(QuotaLimit("hour", 2),))})
    app = build(configs, None, clock, sliding=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        assert (await client.get("/api/models", headers={"X-Tenant-ID": "acme"})).status_code == 200
        clock.advance(30)
        assert (await client.get("/api/models", headers={"X-Tenant-ID": "acme"})).status_code == 200
        r = await client.get("/api/models", headers={"X-Tenant-ID": "acme"})
        assert r.status_code == 429 and r.headers["retry-after"] == "30"
        clock.advance(30.5)
        assert (await client.get("/api/models", headers={"X-Tenant-ID": "acme"})).status_code == 200
        r = await client.get("/api/models", headers={"X-Tenant-ID": "hourly"})     # minute windows only: closed
        assert r.status_code == 429 and r.json()["error"]["code"] == "tenant_quota_exceeded"


async def test_hooks_see_every_step_in_canonical_order() -> None:
    decisions: list[Decision] = []
    app = build(InMemoryConfigManager({"acme": ACME}), None, FakeClock(), decisions)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        await client.get("/api/models", headers=H)
    assert [(d.step, d.allowed) for d in decisions] == [("resolve", True), ("policy", True), ("quota", True),
                                                         ("ratelimit", True)]
    assert decisions[0].source == "header"


async def test_resolution_order_principal_then_extractor_then_header() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        body = tenant_id_from_scope(scope).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    def with_user(inner):  # type: ignore[no-untyped-def]
        async def outer(scope, receive, send):  # type: ignore[no-untyped-def]
            if b"principal" in scope["query_string"]:
                with_principal(scope, Principal(subject="u", tenant_id="from-principal"))
            await inner(scope, receive, send)
        return outer

    wrapped = with_user(resolve_tenant(extractor=chain(from_query("t")))(app))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(wrapped), base_url="http://t") as client:
        h = {"X-Tenant-ID": "from-header"}
        assert (await client.get("/?principal=1&t=from-query", headers=h)).text == "from-principal"
        assert (await client.get("/?t=from-query", headers=h)).text == "from-query"
        assert (await client.get("/", headers=h)).text == "from-header"


def test_window_bounds_are_utc_truncations() -> None:
    from plumego.x.tenant._state import window_bounds

    t = 1_700_000_040.5       # 2023-11-14 22:14:00.5 UTC
    assert window_bounds(t, QuotaWindow.MINUTE) == (1_700_000_040, 1_700_000_100)
    assert window_bounds(t, QuotaWindow.HOUR) == (1_699_999_200, 1_700_002_800)
    assert window_bounds(t, QuotaWindow.DAY) == (1_699_920_000, 1_700_006_400)
    assert window_bounds(t, QuotaWindow.MONTH) == (1_698_796_800, 1_701_388_800)   # Nov 1 .. Dec 1


async def test_release_gives_a_reservation_back_and_multi_window_limits_all_hold() -> None:
    clock = FakeClock()
    configs = InMemoryConfigManager({"acme": TenantConfig("acme", quota=(
        QuotaLimit("minute", 5), QuotaLimit("hour", 2)))})
    manager = FixedWindowQuotaManager(configs, clock=clock)
    first = await manager.allow("acme")
    assert first.allowed and first.remaining_requests == 1          # the tighter (hourly) window
    await manager.release(first)
    assert (await manager.allow("acme")).allowed and (await manager.allow("acme")).allowed
    denied = await manager.allow("acme")
    assert not denied.allowed and denied.retry_after == pytest.approx(2720)     # the hour ends at 23:00
    usage = await manager.usage("acme")
    assert [(u["window"], u["requests"]) for u in usage] == [("minute", 2), ("hour", 2)]


async def test_the_chain_reads_the_tenant_config_once_per_request() -> None:
    class Counting(InMemoryConfigManager):
        gets = 0

        async def get(self, tenant_id: str) -> TenantConfig:
            Counting.gets += 1
            return await super().get(tenant_id)

    app = build(Counting({"acme": ACME}), None, FakeClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        assert (await client.get("/api/models", headers=H)).status_code == 200
    assert Counting.gets == 1


async def test_a_tenant_without_quota_limits_is_unlimited_and_has_no_windows() -> None:
    manager = FixedWindowQuotaManager(InMemoryConfigManager({"open": TenantConfig("open")}), clock=FakeClock())
    assert await manager.usage("open") == []
    result = await manager.allow("open", tokens=10**6)
    assert result.allowed and (result.remaining_requests, result.remaining_tokens) == (-1, -1)
