"""One conformance suite for every :class:`KeyedLimiter` — in-memory buckets and Redis — plus the shared-budget
guarantee with separate processes and the 429 middleware."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from typing import Any

import pytest

from plumego.contract import Receive, Scope, Send
from plumego.x.resilience import KeyedBuckets, KeyedLimiter, RateLimitTimeout, rate_limit


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.services)])
async def open_limiter(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    opened: list[KeyedLimiter] = []
    if request.param == "memory":
        async def factory(rate: float, burst: int) -> KeyedLimiter:
            opened.append(KeyedBuckets(rate, burst))
            return opened[-1]
    else:
        url, prefix = request.getfixturevalue("redis_namespace")
        from plumego.x.resilience import RedisKeyedLimiter

        async def factory(rate: float, burst: int) -> KeyedLimiter:
            sep = "&" if "?" in url else "?"
            opened.append(await RedisKeyedLimiter.open(f"{url}{sep}prefix={prefix}", rate, burst))
            return opened[-1]
    yield factory
    for limiter in opened:
        await limiter.close()


async def test_take_burst_then_refuse_per_key(open_limiter: Any) -> None:
    limiter = await open_limiter(0.01, 3)
    results = [(await limiter.take("k")).allowed for _ in range(4)]
    assert results == [True, True, True, False]
    refused = await limiter.take("k")
    assert refused.limit == 3 and refused.remaining < 1 and 0 < refused.retry_after <= 100.0
    assert (await limiter.take("other")).allowed
    assert not (await limiter.take("other", 3)).allowed         # 2 left
    assert (await limiter.take("other", 2)).allowed
    await limiter.delete("k")
    assert (await limiter.take("k")).allowed                   # deleted: full again
    with pytest.raises(ValueError):
        await limiter.take("k", 0)


async def test_wait_refills_and_times_out(open_limiter: Any) -> None:
    limiter = await open_limiter(100, 1)                        # one token per 10 ms
    assert (await limiter.take("w")).allowed
    await limiter.wait("w")
    with pytest.raises(RateLimitTimeout):
        await limiter.wait("w", 5)                             # never fits in a burst of 1
    limiter.update_rate(0.001, 1)
    with pytest.raises(RateLimitTimeout):
        await limiter.wait("w", 1, timeout=0.05)


async def test_update_rate_applies_to_existing_keys(open_limiter: Any) -> None:
    limiter = await open_limiter(0.001, 1)
    assert (await limiter.take("u")).allowed
    assert not (await limiter.take("u")).allowed
    limiter.update_rate(1000, 1)
    await limiter.wait("u", timeout=1)


async def _call(app: Any, client: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": "/", "headers": [], "client": (client, 1)}, receive, send)
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return (sent[0]["status"], {k.decode(): v.decode() for k, v in sent[0]["headers"]},
            json.loads(body) if body.startswith(b"{") else {})


async def test_rate_limit_middleware(open_limiter: Any) -> None:
    limiter = await open_limiter(0.5, 2)

    async def ok(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = rate_limit(limiter)(ok)
    assert [(await _call(app, "10.0.0.1"))[0] for _ in range(2)] == [204, 204]
    status, headers, body = await _call(app, "10.0.0.1")
    assert status == 429 and headers["retry-after"] == "2" and headers["x-ratelimit-limit"] == "2"
    assert body["error"]["code"] == "RATE_LIMITED" and body["error"]["category"] == "rate_limit_error"
    assert (await _call(app, "10.0.0.2"))[0] == 204


_WORKER = textwrap.dedent("""
    import asyncio, sys
    from plumego.x.resilience import RedisKeyedLimiter

    async def main() -> None:
        limiter = await RedisKeyedLimiter.open(sys.argv[1], 0.001, 50)
        allowed = 0
        for _ in range(40):
            allowed += (await limiter.take("shared")).allowed
        await limiter.close()
        print(allowed)

    asyncio.run(main())
""")


@pytest.mark.services
def test_separate_processes_share_one_budget(redis_namespace: tuple[str, str]) -> None:
    url, prefix = redis_namespace
    target = f"{url}{'&' if '?' in url else '?'}prefix={prefix}"
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, target], stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    counts = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(counts) == 50                                   # 120 attempts, one budget of 50 across 3 processes
