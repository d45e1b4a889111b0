"""Per-request cost of the x/tenant chain (resolve -> policy -> quota -> ratelimit), in-process.

Calls a plumego App's ASGI interface directly in one event loop (no server, no sockets), for GET /api/models:
the same app without the chain, with the chain on memory state, SQLite state and Redis state, and, as a floor
for "one Redis round trip per request", the bare app behind a middleware that only runs ``INCR`` + ``EXPIRE``
in one pipeline. Limits are set so that nothing is refused. Reports µs per request (median of the runs) and the
ratio to the bare app measured in the same run.
Run: PYTHONPATH=. python bench/tenant_bench.py [--requests N] [--runs R] [--redis URL]
Not a test: nothing is asserted; numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from plumego.contract import ASGIApp, Message, Receive, Request, Scope, Send
from plumego.core import App
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

TENANT = TenantConfig("acme", quota=(QuotaLimit(QuotaWindow.MINUTE, 10**9, 0),),
                      policy=PolicyConfig(allowed_models=("gpt-4o",), allowed_paths=("/api/*",)),
                      rate_limit=RateLimitConfig(10**9, burst=10**9))


def build(state: TenantStateStore | None, raw_redis: Any = None) -> App:
    app = App()
    configs = InMemoryConfigManager({"acme": TENANT})

    async def models(request: Request) -> dict[str, Any]:
        return {"tenant": tenant_id_from_scope(request.scope) or "acme", "models": ["gpt-4o"]}

    middleware = []
    if state is not None:
        middleware = tenant_chain(policy=ConfigPolicyEvaluator(configs), quota=FixedWindowQuotaManager(configs, state),
                                  rate_limit=TokenBucketRateLimiter(configs, state))
    elif raw_redis is not None:
        key = f"bench:{uuid.uuid4().hex}"

        def counter(inner: ASGIApp) -> ASGIApp:
            async def step(scope: Scope, receive: Receive, send: Send) -> None:
                async with raw_redis.pipeline(transaction=True) as pipe:
                    await pipe.incr(key).expire(key, 60).execute()
                await inner(scope, receive, send)
            return step
        middleware = [counter]
    app.get("/api/models", models, middleware=middleware)
    return app


def scope() -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": "/api/models", "raw_path": b"/api/models", "query_string": b"", "root_path": "",
            "headers": [(b"host", b"bench"), (b"x-tenant-id", b"acme"), (b"x-model", b"gpt-4o")],
            "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def measure(app: ASGIApp, requests: int) -> float:
    status = 0

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
    for _ in range(min(200, requests)):                 # warm up (and build the App's chain)
        await app(scope(), _receive, send)
    assert status == 200, status
    began = time.perf_counter()
    for _ in range(requests):
        await app(scope(), _receive, send)
    elapsed = time.perf_counter() - began
    assert status == 200, status
    return elapsed / requests * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    variants: dict[str, tuple[ASGIApp, int]] = {"no tenant chain": (build(None), args.requests)}
    stores: list[TenantStateStore] = []
    memory = open_state_store("memory")
    sqlite = open_state_store(f"sqlite:///{tmp / 'state.db'}")
    redis_state = open_state_store(f"{args.redis}?prefix={prefix}")
    stores += [memory, sqlite, redis_state]
    import redis.asyncio as aioredis

    raw = aioredis.Redis.from_url(args.redis)
    variants["chain, memory state"] = (build(memory), args.requests)
    variants["chain, SQLite state"] = (build(sqlite), max(200, args.requests // 10))
    variants["chain, Redis state"] = (build(redis_state), max(200, args.requests // 5))
    variants["bare + one Redis INCR/EXPIRE"] = (build(None, raw), max(200, args.requests // 5))
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.runs):                          # interleaved, so drift hits every variant alike
        for name, (app, n) in variants.items():
            results[name].append(await measure(app, n))
    base = statistics.median(results["no tenant chain"])
    print(f"{'variant':32} {'µs/request':>12} {'vs no chain':>12} {'added µs':>10}")
    for name, values in results.items():
        med = statistics.median(values)
        print(f"{name:32} {med:12.1f} {med / base:11.2f}x {med - base:10.1f}")
    for store in stores:
        await store.close()
    keys = [k async for k in raw.scan_iter(match="{" + prefix + "}*")] + \
        [k async for k in raw.scan_iter(match="bench:*")]
    if keys:
        await raw.delete(*keys)
    await raw.aclose()


if __name__ == "__main__":
    asyncio.run(main())
