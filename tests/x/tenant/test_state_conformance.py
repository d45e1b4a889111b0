"""One conformance suite for the quota and rate-limit state stores (memory, SQLite, Redis): multi-window
reservations are all-or-nothing, windows roll over, release gives back, the sliding window frees up as entries
age, and the token bucket refills and is resized in place keeping its tokens."""

from __future__ import annotations

import asyncio

import pytest

from plumego.x.tenant import MemoryStateStore, TenantStateStore
from plumego.x.tenant._state import WindowSpec

from .conftest import STATE_BACKENDS

pytestmark = pytest.mark.parametrize("state_url", STATE_BACKENDS, indirect=True)

MINUTE = WindowSpec("minute.0", 1_700_000_040 - 40, 1_700_000_040 + 20, 3, 0)
DAY = WindowSpec("day.1", 1_699_920_000, 1_700_006_400, 5, 100)


async def test_capabilities_say_whether_state_is_shared(state: TenantStateStore, state_url: str) -> None:
    assert isinstance(state, TenantStateStore)
    assert state.capabilities.shared is (state_url != "memory")
    assert isinstance(state, MemoryStateStore) is (state_url == "memory")


async def test_reserve_counts_until_the_limit(state: TenantStateStore) -> None:
    results = [await state.reserve("acme", [MINUTE], 1, 0) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.usage[0].requests for r in results] == [1, 2, 3, 3]
    assert results[3].blocked == "minute.0"
    assert (await state.reserve("other", [MINUTE], 1, 0)).allowed          # tenants are independent


async def test_multi_window_reservation_is_all_or_nothing(state: TenantStateStore) -> None:
    assert (await state.reserve("acme", [MINUTE, DAY], 1, 60)).allowed
    denied = await state.reserve("acme", [MINUTE, DAY], 1, 50)             # 110 tokens > the day's 100
    assert not denied.allowed and denied.blocked == "day.1"
    assert [(u.requests, u.tokens) for u in denied.usage] == [(1, 60), (1, 60)]
    assert [(u.requests, u.tokens) for u in await state.usage("acme", [MINUTE, DAY])] == [(1, 60), (1, 60)]


async def test_a_new_window_starts_from_zero(state: TenantStateStore) -> None:
    for _ in range(3):
        assert (await state.reserve("acme", [MINUTE], 1, 0)).allowed
    assert not (await state.reserve("acme", [MINUTE], 1, 0)).allowed
    following = WindowSpec("minute.0", MINUTE.end, MINUTE.end + 60, 3, 0)
    fresh = await state.reserve("acme", [following], 1, 0)
    assert fresh.allowed and fresh.usage[0].requests == 1


async def test_release_gives_back_and_never_goes_negative(state: TenantStateStore) -> None:
    for _ in range(3):
        await state.reserve("acme", [MINUTE], 1, 0)
    await state.release("acme", [MINUTE], 1, 0)
    assert (await state.reserve("acme", [MINUTE], 1, 0)).allowed
    await state.release("acme", [MINUTE], 10, 10)
    assert [(u.requests, u.tokens) for u in await state.usage("acme", [MINUTE])] == [(0, 0)]
    stale = WindowSpec("minute.0", MINUTE.start - 60, MINUTE.start, 3, 0)
    await state.release("acme", [stale], 1, 0)                               # another window: no effect
    assert (await state.usage("acme", [MINUTE]))[0].requests == 0


async def test_negative_amounts_are_refused(state: TenantStateStore) -> None:
    with pytest.raises(ValueError):
        await state.reserve("acme", [MINUTE], -1, 0)
    with pytest.raises(ValueError):
        await state.release("acme", [MINUTE], 0, -5)


async def test_sliding_window_frees_up_as_entries_age(state: TenantStateStore) -> None:
    now = 1_700_000_000.0
    for i in range(3):
        assert (await state.reserve_sliding("acme", now + i, 60.0, 1, 0, 3, 0)).allowed
    denied = await state.reserve_sliding("acme", now + 30, 60.0, 1, 0, 3, 0)
    assert not denied.allowed and denied.requests == 3 and denied.oldest == pytest.approx(now)
    assert (await state.reserve_sliding("acme", now + 60.5, 60.0, 1, 0, 3, 0)).allowed    # the first aged out
    assert not (await state.reserve_sliding("acme", now + 60.6, 60.0, 1, 0, 3, 0)).allowed
    tokens = await state.reserve_sliding("tok", now, 60.0, 1, 40, 0, 50)
    assert tokens.allowed and tokens.tokens == 40
    assert not (await state.reserve_sliding("tok", now + 1, 60.0, 1, 11, 0, 50)).allowed


async def test_token_bucket_refills_at_the_rate(state: TenantStateStore) -> None:
    now = 1_700_000_000.0
    taken = [await state.take("acme", now, 2.0, 3.0, 1.0) for _ in range(4)]
    assert [t.allowed for t in taken] == [True, True, True, False]
    assert taken[2].remaining == pytest.approx(0.0)
    assert taken[3].retry_after == pytest.approx(0.5)
    assert (await state.take("acme", now + 0.5, 2.0, 3.0, 1.0)).allowed          # one token back after 0.5 s
    full = await state.take("acme", now + 100, 2.0, 3.0, 1.0)
    assert full.allowed and full.remaining == pytest.approx(2.0)                # capped at the capacity


async def test_token_bucket_is_resized_in_place_keeping_its_tokens(state: TenantStateStore) -> None:
    now = 1_700_000_000.0
    for _ in range(4):
        await state.take("acme", now, 1.0, 10.0, 1.0)                          # 6 tokens left
    grown = await state.take("acme", now, 1.0, 20.0, 1.0)
    assert grown.allowed and grown.remaining == pytest.approx(5.0)             # kept, not refilled to 20
    shrunk = await state.take("acme", now, 1.0, 2.0, 1.0)
    assert shrunk.allowed and shrunk.remaining == pytest.approx(1.0)           # clamped to 2, then one taken


async def test_reset_drops_every_counter_of_the_tenant(state: TenantStateStore) -> None:
    for _ in range(3):
        await state.reserve("acme", [MINUTE, DAY], 1, 1)
    await state.reserve_sliding("acme", 1_700_000_000.0, 60.0, 1, 0, 1, 0)
    await state.take("acme", 1_700_000_000.0, 1.0, 1.0, 1.0)
    await state.reserve("keep", [MINUTE], 1, 0)
    await state.reset("acme")
    assert [(u.requests, u.tokens) for u in await state.usage("acme", [MINUTE, DAY])] == [(0, 0), (0, 0)]
    assert (await state.reserve_sliding("acme", 1_700_000_000.0, 60.0, 1, 0, 1, 0)).allowed
    assert (await state.take("acme", 1_700_000_000.0, 1.0, 1.0, 1.0)).allowed
    assert (await state.usage("keep", [MINUTE]))[0].requests == 1


async def test_concurrent_reservations_never_exceed_the_limit(state: TenantStateStore) -> None:
    limit = WindowSpec("minute.0", MINUTE.start, MINUTE.end, 25, 0)
    results = await asyncio.gather(*(state.reserve("acme", [limit], 1, 0) for _ in range(60)))
    assert sum(r.allowed for r in results) == 25

