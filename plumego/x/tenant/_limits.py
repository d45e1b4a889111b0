"""Policy evaluation, quota managers (fixed window with reserve/release, sliding window) and the per-tenant token
bucket, all reading a tenant's limits from a :class:`ConfigProvider` and keeping state in a TenantStateStore.

Owns the decisions; the ASGI steps in _middleware.py turn them into answers. Where this beats Go Plumego: the
fixed-window manager enforces every configured window at once, atomically (Go's FixedWindowQuotaManager checks only
the first limit), and all three keep their state in a store that can be shared by processes (SQLite, Redis).
Imports only the standard library.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._config import ConfigProvider
from ._core import QuotaLimit, QuotaWindow, TenantConfig, TenantNotFoundError, UnsupportedQuotaWindowError
from ._state import MemoryStateStore, TenantStateStore, WindowSpec, window_bounds

__all__ = ["ConfigPolicyEvaluator", "FixedWindowQuotaManager", "PolicyRequest", "PolicyResult", "QuotaManager",
           "QuotaResult", "RateLimitResult", "SlidingWindowQuotaManager", "TokenBucketRateLimiter"]


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    model: str = ""
    tool: str = ""
    method: str = ""
    path: str = ""


@dataclass(frozen=True, slots=True)
class PolicyResult:
    allowed: bool
    reason: str = ""


def _listed(value: str, allowed: tuple[str, ...]) -> bool:
    return not allowed or value in allowed


def _path_allowed(path: str, allowed: tuple[str, ...]) -> bool:
    if not allowed:
        return True
    for pattern in allowed:
        if pattern.endswith("*"):
            if path.startswith(pattern[:-1]):
                return True
        elif path == pattern:
            return True
    return False


class ConfigPolicyEvaluator:
    """Go's ConfigPolicyEvaluator: every non-empty allow-list must contain the request's value; an unknown or
    suspended tenant is denied. An empty model or tool is not checked (the request names none)."""

    def __init__(self, configs: ConfigProvider) -> None:
        self._configs = configs

    async def evaluate(self, tenant_id: str, request: PolicyRequest) -> PolicyResult:
        return (await self.evaluate_config(tenant_id, request))[0]

    async def evaluate_config(self, tenant_id: str, request: PolicyRequest) -> tuple[PolicyResult,
                                                                                     TenantConfig | None]:
        """The verdict and the config it was made from (the chain hands it to the quota and rate-limit steps, so
        one request reads the tenant's config once)."""
        try:
            config = await self._configs.get(tenant_id)
        except TenantNotFoundError:
            return PolicyResult(False, "unknown tenant"), None
        return evaluate_policy(config, request), config


def evaluate_policy(config: TenantConfig, request: PolicyRequest) -> PolicyResult:
    policy = config.policy
    if config.suspended:
        return PolicyResult(False, "tenant suspended")
    if request.model and not _listed(request.model, policy.allowed_models):
        return PolicyResult(False, f"model {request.model!r} not allowed")
    if request.tool and not _listed(request.tool, policy.allowed_tools):
        return PolicyResult(False, f"tool {request.tool!r} not allowed")
    if request.method and policy.allowed_methods and request.method.upper() not in {
            m.upper() for m in policy.allowed_methods}:
        return PolicyResult(False, f"method {request.method} not allowed")
    if request.path and not _path_allowed(request.path, policy.allowed_paths):
        return PolicyResult(False, f"path {request.path} not allowed")
    return PolicyResult(True)


@dataclass(frozen=True, slots=True)
class QuotaResult:
    """``remaining_*`` is -1 when unlimited (the header is then omitted). ``windows`` identifies the reservation
    for :meth:`FixedWindowQuotaManager.release`."""

    allowed: bool
    remaining_requests: int = -1
    remaining_tokens: int = -1
    retry_after: float = 0.0
    tenant_id: str = ""
    requests: int = 0
    tokens: int = 0
    windows: tuple[WindowSpec, ...] = ()


def _remaining(limit: int, used: int) -> int:
    return -1 if limit <= 0 else max(0, limit - used)


def _tightest(values: list[int]) -> int:
    limited = [v for v in values if v >= 0]
    return min(limited) if limited else -1


class QuotaManager:
    """Base of the two managers: config lookup, clock and store."""

    def __init__(self, configs: ConfigProvider, store: TenantStateStore | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._configs = configs
        self.store: TenantStateStore = store if store is not None else MemoryStateStore()
        self._clock = clock

    async def _limits(self, tenant_id: str, config: TenantConfig | None = None) -> tuple[QuotaLimit, ...]:
        if config is None or config.tenant_id != tenant_id:
            config = await self._configs.get(tenant_id)
        return tuple(q for q in config.quota if not q.unlimited)

    async def allow(self, tenant_id: str, *, requests: int = 1, tokens: int = 0,
                    config: TenantConfig | None = None) -> QuotaResult:
        """Charge the tenant. ``config``, when given, saves the lookup (it must be the tenant's current config)."""
        raise NotImplementedError


class FixedWindowQuotaManager(QuotaManager):
    """Windows aligned by truncation (UTC; months from the 1st). Every limit of the tenant is checked and charged in
    one atomic store operation; :meth:`release` gives a reservation back (for example when the upstream call that
    the request paid for failed)."""

    _SPEC_CACHE_SIZE = 4096

    def __init__(self, configs: ConfigProvider, store: TenantStateStore | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(configs, store, clock=clock)
        # limits -> (windows valid from, until, specs): the windows of a config change once per minute at most
        self._spec_cache: dict[tuple[QuotaLimit, ...], tuple[float, float, tuple[WindowSpec, ...]]] = {}

    def _specs(self, limits: tuple[QuotaLimit, ...], now: float) -> tuple[WindowSpec, ...]:
        hit = self._spec_cache.get(limits)
        if hit is not None and hit[0] <= now < hit[1]:
            return hit[2]
        specs = []
        for index, limit in enumerate(limits):
            start, end = window_bounds(now, limit.window)
            specs.append(WindowSpec(f"{limit.window.value}.{index}", start, end, limit.requests, limit.tokens))
        if len(self._spec_cache) >= self._SPEC_CACHE_SIZE:
            self._spec_cache.clear()
        frozen = tuple(specs)
        if frozen:
            self._spec_cache[limits] = (max(s.start for s in frozen), min(s.end for s in frozen), frozen)
        return frozen

    async def allow(self, tenant_id: str, *, requests: int = 1, tokens: int = 0,
                    config: TenantConfig | None = None) -> QuotaResult:
        limits = await self._limits(tenant_id, config)
        if not limits:
            return QuotaResult(True, tenant_id=tenant_id)
        now = self._clock()
        specs = self._specs(limits, now)
        outcome = await self.store.reserve(tenant_id, specs, requests, tokens)
        remaining_r = remaining_t = -1
        for spec, used in zip(specs, outcome.usage, strict=True):
            if spec.max_requests > 0:
                left = max(0, spec.max_requests - used.requests)
                remaining_r = left if remaining_r < 0 else min(remaining_r, left)
            if spec.max_tokens > 0:
                left = max(0, spec.max_tokens - used.tokens)
                remaining_t = left if remaining_t < 0 else min(remaining_t, left)
        if outcome.allowed:
            return QuotaResult(True, remaining_r, remaining_t, 0.0, tenant_id, requests, tokens, specs)
        blocked = next(s for s in specs if s.name == outcome.blocked)
        return QuotaResult(False, remaining_r, remaining_t, max(0.0, blocked.end - now), tenant_id)

    async def release(self, result: QuotaResult) -> None:
        """Give back what an allowed ``result`` reserved (a no-op for a denied or unlimited one)."""
        if result.allowed and result.windows:
            await self.store.release(result.tenant_id, result.windows, result.requests, result.tokens)

    async def usage(self, tenant_id: str) -> list[dict[str, int | str]]:
        """The current windows' usage and limits, for an admin API."""
        limits = await self._limits(tenant_id)
        specs = self._specs(limits, self._clock())
        used = await self.store.usage(tenant_id, specs)
        return [{"window": s.name.split(".")[0], "start": s.start, "end": s.end, "requests": u.requests,
                 "tokens": u.tokens, "max_requests": s.max_requests, "max_tokens": s.max_tokens}
                for s, u in zip(specs, used, strict=True)]

    async def reset(self, tenant_id: str) -> None:
        await self.store.reset(tenant_id)


class SlidingWindowQuotaManager(QuotaManager):
    """A rolling 60-second window of timestamped entries. Minute limits only, as in Go: any other window raises
    :class:`UnsupportedQuotaWindowError` (the middleware answers 429 then, failing closed)."""

    async def allow(self, tenant_id: str, *, requests: int = 1, tokens: int = 0,
                    config: TenantConfig | None = None) -> QuotaResult:
        limits = await self._limits(tenant_id, config)
        if not limits:
            return QuotaResult(True, tenant_id=tenant_id)
        if any(q.window is not QuotaWindow.MINUTE for q in limits):
            raise UnsupportedQuotaWindowError("the sliding window quota manager supports only minute windows")
        max_r = _tightest([q.requests if q.requests > 0 else -1 for q in limits])
        max_t = _tightest([q.tokens if q.tokens > 0 else -1 for q in limits])
        now = self._clock()
        outcome = await self.store.reserve_sliding(tenant_id, now, 60.0, requests, tokens, max(max_r, 0),
                                                   max(max_t, 0))
        remaining_r, remaining_t = _remaining(max_r, outcome.requests), _remaining(max_t, outcome.tokens)
        if outcome.allowed:
            return QuotaResult(True, remaining_r, remaining_t, 0.0, tenant_id, requests, tokens)
        return QuotaResult(False, remaining_r, remaining_t, max(0.0, outcome.oldest + 60.0 - now), tenant_id)


@dataclass(frozen=True, slots=True)
class RateLimitResult:
    allowed: bool
    limit: int = 0
    remaining: int = 0
    retry_after: float = 0.0


class TokenBucketRateLimiter:
    """One bucket per tenant refilled at ``requests_per_second`` up to ``burst`` (or the rate when unset). A config
    change resizes the bucket in place and keeps its tokens (clamped to the new capacity)."""

    def __init__(self, configs: ConfigProvider, store: TenantStateStore | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._configs = configs
        self.store: TenantStateStore = store if store is not None else MemoryStateStore()
        self._clock = clock

    async def allow(self, tenant_id: str, *, cost: float = 1.0, config: TenantConfig | None = None) -> RateLimitResult:
        if config is None or config.tenant_id != tenant_id:
            config = await self._configs.get(tenant_id)
        rate = config.rate_limit
        if rate.requests_per_second <= 0:
            return RateLimitResult(True, 0, -1)
        capacity = rate.capacity
        outcome = await self.store.take(tenant_id, self._clock(), float(rate.requests_per_second), capacity, cost)
        limit = math.floor(capacity)
        return RateLimitResult(outcome.allowed, limit, max(0, math.floor(outcome.remaining)), outcome.retry_after)
