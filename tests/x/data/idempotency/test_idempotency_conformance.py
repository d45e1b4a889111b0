"""The stable store's own idempotency conformance tests, run on every x/data engine (SQLite, PostgreSQL,
MySQL/MariaDB, Redis), plus races that only shared engines can show: many connections and separate processes
beginning one key at once.

The stable tests are loaded from tests/store/test_store_idempotency.py and collected here with this module's
``store_and_clock`` fixture, so the assertions are the very same code.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from plumego.store import IdempotencyInProgressError, IdempotencyStore
from plumego.x.data.idempotency import open_idempotency

REPO = Path(__file__).resolve().parents[4]
_spec = importlib.util.spec_from_file_location("stable_idempotency_conformance",
                                               REPO / "tests" / "store" / "test_store_idempotency.py")
assert _spec is not None and _spec.loader is not None
stable = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stable)

test_first_runs_retry_replays = stable.test_first_runs_retry_replays
test_conflict_in_progress_and_release = stable.test_conflict_in_progress_and_release
test_expired_lock_taken_over_and_ttl = stable.test_expired_lock_taken_over_and_ttl
FakeClock = stable.FakeClock
FP = stable.FP

@pytest.fixture
async def store_and_clock(engine_url: str) -> AsyncIterator[tuple[IdempotencyStore, Any]]:
    clock = FakeClock()
    store = await open_idempotency(engine_url, clock=clock)
    yield store, clock
    await _close(store)


async def _close(store: Any) -> None:
    close = getattr(store, "close", None)
    if close is not None:
        await close()


async def test_get_and_delete(store_and_clock: tuple[IdempotencyStore, Any]) -> None:
    store, _ = store_and_clock
    assert await store.get("nope") is None
    claim = await store.begin("k2", FP)
    record = await store.get("k2")
    assert record is not None and record.lock_token == claim.token and record.response is None
    assert claim.token is not None
    done = await store.complete("k2", claim.token, b"\x00binary\xff")
    assert (await store.get("k2")) == done and done.response == b"\x00binary\xff"
    assert await store.delete("k2") is True and await store.delete("k2") is False
    assert (await store.begin("k2", "another fingerprint")).acquired


async def test_many_connections_one_winner(engine_url: str) -> None:
    """Eight handles (eight pools, as eight workers would have) begin the same keys at once."""
    clock = FakeClock()
    stores = [await open_idempotency(engine_url, clock=clock) for _ in range(8)]
    try:
        for key in ("race-a", "race-b", "race-c"):
            results = await asyncio.gather(*(s.begin(key, FP) for s in stores), return_exceptions=True)
            winners = [r for r in results if not isinstance(r, BaseException) and r.acquired]
            assert len(winners) == 1, results
            assert all(isinstance(r, IdempotencyInProgressError) for r in results if isinstance(r, BaseException))
    finally:
        for s in stores:
            await _close(s)


_RACER = textwrap.dedent(
    """
    import asyncio, sys
    from plumego.store import IdempotencyInProgressError
    from plumego.x.data.idempotency import open_idempotency

    async def main():
        store = await open_idempotency(sys.argv[1])
        got = []
        for i in range(25):
            try:
                if (await store.begin(f"key-{i}", "fp")).acquired:
                    got.append(i)
            except IdempotencyInProgressError:
                pass
        close = getattr(store, "close", None)
        if close is not None:
            await close()
        print(" ".join(map(str, got)))

    asyncio.run(main())
    """
)


@pytest.mark.services
@pytest.mark.parametrize("engine_url", ["postgres", "mariadb", "redis"], indirect=True)
def test_processes_racing_acquire_each_key_once(engine_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", _RACER, engine_url], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(3)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(int(i) for out in outs for i in out.split()) == list(range(25))
