"""Idempotency stores: one execution per key, replay, conflicts, lock takeover, and a cross-process race."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from plumego.store import (
    IdempotencyConflictError,
    IdempotencyInProgressError,
    IdempotencyLockLostError,
    IdempotencyStatus,
    IdempotencyStore,
    MemoryIdempotencyStore,
    SQLiteIdempotencyStore,
    request_fingerprint,
)

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
def store_and_clock(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[IdempotencyStore, FakeClock]]:
    clock = FakeClock()
    if request.param == "memory":
        yield MemoryIdempotencyStore(clock=clock), clock
    else:
        store = SQLiteIdempotencyStore(tmp_path / "idem.db", clock=clock)
        yield store, clock
        store.close_sync()


FP = request_fingerprint("POST", "/orders", b'{"qty":1}')


async def test_first_runs_retry_replays(store_and_clock: tuple[IdempotencyStore, FakeClock]) -> None:
    store, _ = store_and_clock
    runs = 0

    async def handle() -> bytes:
        nonlocal runs
        claim = await store.begin("key-1", FP)
        if not claim.acquired:
            assert claim.response is not None
            return claim.response
        runs += 1
        assert claim.token is not None
        await store.complete("key-1", claim.token, b"201 created")
        return b"201 created"

    assert [await handle() for _ in range(3)] == [b"201 created"] * 3
    assert runs == 1
    record = await store.get("key-1")
    assert record is not None and record.status is IdempotencyStatus.COMPLETED


async def test_conflict_in_progress_and_release(store_and_clock: tuple[IdempotencyStore, FakeClock]) -> None:
    store, _ = store_and_clock
    claim = await store.begin("k", FP)
    with pytest.raises(IdempotencyInProgressError):
        await store.begin("k", FP)
    with pytest.raises(IdempotencyConflictError):
        await store.begin("k", request_fingerprint("POST", "/orders", b'{"qty":2}'))
    with pytest.raises(IdempotencyLockLostError):
        await store.complete("k", "not-the-token", b"x")
    assert claim.token is not None
    await store.release("k", claim.token)  # the handler failed: a retry may run
    assert (await store.begin("k", FP)).acquired


async def test_expired_lock_taken_over_and_ttl(store_and_clock: tuple[IdempotencyStore, FakeClock]) -> None:
    store, clock = store_and_clock
    first = await store.begin("k", FP, ttl=100, lock_ttl=10)
    clock.now += 11  # first worker presumed crashed
    second = await store.begin("k", FP, ttl=100, lock_ttl=10)
    assert second.acquired and second.token != first.token
    assert first.token is not None and second.token is not None
    with pytest.raises(IdempotencyLockLostError):
        await store.complete("k", first.token, b"late")
    await store.complete("k", second.token, b"done")
    assert (await store.begin("k", FP)).response == b"done"
    clock.now += 100
    assert await store.get("k") is None
    assert (await store.begin("k", request_fingerprint("GET", "/", b""))).acquired  # expired: key reusable


def test_fingerprint_is_unambiguous() -> None:
    assert request_fingerprint("POST", "/a", b"b") != request_fingerprint("POST", "/ab", b"")
    assert request_fingerprint("post", "/a", headers=[("X-A", "1")]) == request_fingerprint(
        "POST", "/a", headers=[("x-a", "1")]
    )


_RACER = textwrap.dedent(
    """
    import sys
    from plumego.store import SQLiteIdempotencyStore, IdempotencyInProgressError
    store = SQLiteIdempotencyStore(sys.argv[1])
    got = []
    for i in range(40):
        try:
            if store.begin_sync(f"key-{i}", "fp").acquired:
                got.append(i)
        except IdempotencyInProgressError:
            pass
    print(" ".join(map(str, got)))
    """
)


def test_processes_racing_on_one_file_acquire_each_key_once(tmp_path: Path) -> None:
    db = tmp_path / "idem.db"
    SQLiteIdempotencyStore(db).close_sync()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen([sys.executable, "-c", _RACER, str(db)], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(int(i) for out in outs for i in out.split()) == list(range(40))
