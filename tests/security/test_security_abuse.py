"""Token-bucket abuse guard: Go defaults, decision fields, bounded memory, idle eviction, and a model check."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from plumego.security import AbuseGuardConfig, TokenBucketLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_defaults_match_go() -> None:
    cfg = AbuseGuardConfig()
    assert (cfg.rate, cfg.capacity, cfg.max_entries, cfg.max_idle, cfg.shards) == (100, 200, 100_000, 300, 16)


def test_burst_then_refill_and_decision_fields() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(AbuseGuardConfig(rate=2, capacity=3), clock=clock)
    decisions = [limiter.allow("ip") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    denied = decisions[-1]
    assert denied.limit == 3 and denied.retry_after == 0.5 and denied.reset_after == 1.5
    clock.now += 0.5
    assert limiter.allow("ip").allowed
    assert limiter.allow("other").allowed  # keys are independent
    assert not limiter.allow("").allowed
    stats = limiter.stats()
    assert (stats.allowed, stats.rejected, stats.buckets) == (5, 2, 2)


def test_bounded_memory_and_idle_eviction() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(AbuseGuardConfig(max_entries=8, shards=2, max_idle=10), clock=clock)
    for i in range(1000):
        limiter.allow(f"k{i}")
    assert limiter.stats().buckets <= 8
    clock.now += 11
    assert limiter.sweep() == limiter.stats().evictions - (1000 - 8)
    assert limiter.stats().buckets == 0


@settings(max_examples=200, deadline=None)
@given(
    rate=st.integers(min_value=1, max_value=20),
    capacity=st.integers(min_value=1, max_value=10),
    steps=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(min_value=0, max_value=2000)), max_size=60),
)
def test_matches_unbounded_model(rate: int, capacity: int, steps: list[tuple[str, int]]) -> None:
    """With room for every key, the limiter equals a textbook token bucket, and never admits more than
    ``capacity + rate * elapsed`` requests per key."""
    clock = FakeClock()
    limiter = TokenBucketLimiter(AbuseGuardConfig(rate=rate, capacity=capacity, max_idle=1e9), clock=clock)
    model: dict[str, tuple[float, float]] = {}
    admitted: dict[str, int] = {}
    start = clock.now
    for key, advance_ms in steps:
        clock.now += advance_ms / 1000
        tokens, last = model.get(key, (float(capacity), clock.now))
        tokens = min(capacity, tokens + (clock.now - last) * rate)
        expected = tokens >= 1
        if expected:
            tokens -= 1
        model[key] = (tokens, clock.now)
        decision = limiter.allow(key)
        assert decision.allowed is expected
        assert 0 <= decision.remaining <= capacity
        assert decision.remaining == math.floor(tokens + 1e-9) or decision.remaining == math.floor(tokens)
        assert decision.allowed or decision.retry_after > 0
        admitted[key] = admitted.get(key, 0) + decision.allowed
        assert admitted[key] <= capacity + rate * (clock.now - start) + 1e-9
