"""An idempotency engine that goes away mid-run (a cut proxy; the shared server keeps running for everyone else):
calls fail closed with IdempotencyBackendError instead of hanging or deciding, and once the engine is back a
request completed before the outage still replays (nothing acknowledged is lost)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from plumego.x.data.idempotency import IdempotencyBackendError, PostgresIdempotencyStore, open_idempotency

from ...tcp_proxy import CuttableProxy


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit((parts.scheme, f"{user}127.0.0.1:{port}", parts.path, parts.query, parts.fragment))


@pytest.mark.services
@pytest.mark.parametrize("engine_url", ["postgres", "mariadb", "redis"], indirect=True)
async def test_outage_fails_closed_and_loses_nothing(engine_url: str) -> None:
    parts = urlsplit(engine_url)
    proxy = CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 0)
    await proxy.start()
    url = through(engine_url, proxy.port)
    store: Any = (await PostgresIdempotencyStore.open(url, pool_timeout=1.0) if parts.scheme.startswith("postgres")
                  else await open_idempotency(url))
    try:
        claim = await store.begin("order-1", "fp")
        await store.complete("order-1", claim.token, b"201 created")
        proxy.cut()
        with pytest.raises(IdempotencyBackendError):
            await store.begin("order-2", "fp")
        with pytest.raises(IdempotencyBackendError):
            await store.get("order-1")
        proxy.restore()
        for _ in range(60):                    # pools reconnect in the background with back-off
            try:
                replay = await store.begin("order-1", "fp")
                break
            except IdempotencyBackendError:
                await asyncio.sleep(0.25)
        assert not replay.acquired and replay.response == b"201 created"
        assert (await store.begin("order-2", "fp")).acquired
    finally:
        await store.close()
        await proxy.close()
