"""A worker process of the multi-process quota test: charge ``attempts`` requests to tenant ``acme`` through a
FixedWindowQuotaManager and a TokenBucketRateLimiter on the shared state store, print how many each admitted."""

from __future__ import annotations

import asyncio
import sys

from plumego.x.tenant import (
    FixedWindowQuotaManager,
    InMemoryConfigManager,
    QuotaLimit,
    RateLimitConfig,
    TenantConfig,
    TokenBucketRateLimiter,
    open_state_store,
)


async def main(url: str, attempts: int, quota: int, now: float) -> None:
    store = open_state_store(url)
    configs = InMemoryConfigManager({"acme": TenantConfig("acme", quota=(QuotaLimit("minute", quota),),
                                                          rate_limit=RateLimitConfig(0.001, burst=quota))})
    quotas = FixedWindowQuotaManager(configs, store, clock=lambda: now)
    limiter = TokenBucketRateLimiter(configs, store, clock=lambda: now)
    print("ready", flush=True)
    sys.stdin.readline()                       # start together
    admitted = sum(r.allowed for r in await asyncio.gather(*(quotas.allow("acme") for _ in range(attempts))))
    taken = sum(r.allowed for r in await asyncio.gather(*(limiter.allow("acme") for _ in range(attempts))))
    await store.close()
    print(admitted, taken, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
