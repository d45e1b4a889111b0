"""Token buckets on a fake clock: refill, burst, wait, update_rate, and keyed eviction."""

from __future__ import annotations

import math

import pytest

from plumego.x.resilience import KeyedBuckets, RateLimitTimeout, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_bucket_refills_at_rate_up_to_burst() -> None:
    clock = Clock()
    b = TokenBucket(2, 3, clock=clock)
    assert [b.allow() for _ in range(4)] == [True, True, True, False]
    decision = b.take()
    assert not decision.allowed and decision.retry_after == pytest.approx(0.5)
    clock.now += 0.5
    assert b.allow() and not b.allow()
    clock.now += 100
    assert b.remaining() == 3                 # capped at burst
    assert b.allow_n(3) and not b.allow_n(1)
    assert math.isinf(b.take(4).retry_after)  # can never fit
    with pytest.raises(ValueError):
        b.take(0)


def test_update_rate_keeps_earned_tokens_capped() -> None:
    clock = Clock()
    b = TokenBucket(1, 10, clock=clock)
    assert b.allow_n(8)
    b.update_rate(100, 5)
    assert b.remaining() == 2
    clock.now += 0.03
    assert b.remaining() == pytest.approx(5)
    for rate, burst in ((0, 1), (-1, 1), (float("inf"), 1), (1, 0)):
        with pytest.raises(ValueError):
            TokenBucket(rate, burst)


async def test_wait_sleeps_until_tokens_and_times_out() -> None:
    b = TokenBucket(200, 1)                  # real clock: one token every 5 ms
    assert b.allow()
    await b.wait()                           # about 5 ms
    with pytest.raises(RateLimitTimeout):
        await b.wait(1, timeout=0.0001)
    with pytest.raises(RateLimitTimeout):
        await b.wait_n(2)                    # larger than the burst: refused, not slept on forever


async def test_keyed_buckets_are_independent_and_bounded() -> None:
    clock = Clock()
    k = KeyedBuckets(1, 2, max_keys=2, clock=clock)
    assert k.allow("a") and k.allow("a") and not k.allow("a")
    assert k.allow("b")
    assert k.allow("c") and len(k) == 2     # "a" was least recently used and is dropped
    assert k.allow("a")                      # back, full
    await k.delete("a")
    assert len(k) == 1
    k.update_rate(10, 5)
    clock.now += 1
    assert (await k.take("b")).remaining == 4
