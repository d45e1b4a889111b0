"""Tenant ids, the tenant carrier in the ASGI scope, per-tenant configuration values, errors and wire constants.

Owns what every other x/tenant module shares: ``validate_tenant_id`` (Go's rules: 1-255 bytes of
``[A-Za-z0-9._-]``), the scope key, :class:`TenantConfig` and its quota, policy and rate-limit parts, the hooks,
and the header names and error codes Go Plumego puts on the wire. Imports only the standard library.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

SCOPE_TENANT_ID: Final = "plumego.tenant_id"
"""Scope key holding the resolved tenant id (set by :func:`resolve_tenant`)."""

HEADER_TENANT: Final = "X-Tenant-ID"
HEADER_MODEL: Final = "X-Model"
HEADER_TOOL: Final = "X-Tool"
HEADER_TOKENS: Final = "X-Token-Count"
HEADER_QUOTA_REQUESTS: Final = "X-Quota-Remaining-Requests"
HEADER_QUOTA_TOKENS: Final = "X-Quota-Remaining-Tokens"
HEADER_RATELIMIT_LIMIT: Final = "X-RateLimit-Limit"
HEADER_RATELIMIT_REMAINING: Final = "X-RateLimit-Remaining"

CODE_REQUIRED: Final = "tenant_required"
CODE_INVALID_ID: Final = "tenant_invalid_id"
CODE_POLICY_DENIED: Final = "tenant_policy_denied"
CODE_QUOTA_EXCEEDED: Final = "tenant_quota_exceeded"
CODE_RATE_LIMITED: Final = "tenant_rate_limited"
CODE_UNAVAILABLE: Final = "tenant_state_unavailable"
"""Not in Go (which folds a store outage into 403/429): the config or state backend could not answer (503)."""

MAX_TENANT_ID_BYTES: Final = 255
_ID_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


class TenantError(Exception):
    """Base class of x/tenant errors."""


class InvalidTenantIDError(TenantError, ValueError):
    """A tenant id that is empty, longer than 255 bytes or holds a character outside ``[A-Za-z0-9._-]``."""


class TenantNotFoundError(TenantError, LookupError):
    """No configuration exists for the tenant."""


class PolicyDeniedError(TenantError):
    """The tenant's policy does not allow the request."""


class QuotaExceededError(TenantError):
    """The tenant's quota for the current window is used up."""


class RateLimitExceededError(TenantError):
    """The tenant's token bucket is empty."""


class UnsupportedQuotaWindowError(TenantError, ValueError):
    """A quota manager was given a window it cannot enforce (the sliding manager enforces minutes only)."""


class StateUnavailableError(TenantError):
    """A config, quota or rate-limit backend could not answer (server down, connection cut). Callers fail closed."""


def validate_tenant_id(tenant_id: str) -> str:
    """Return ``tenant_id`` unchanged when it is 1-255 bytes of ``[A-Za-z0-9._-]``; raise InvalidTenantIDError."""
    if not isinstance(tenant_id, str) or not tenant_id:
        raise InvalidTenantIDError("tenant id is empty")
    if len(tenant_id) > MAX_TENANT_ID_BYTES:
        raise InvalidTenantIDError(f"tenant id is longer than {MAX_TENANT_ID_BYTES} bytes")
    if not _ID_CHARS.issuperset(tenant_id):
        raise InvalidTenantIDError("tenant id may hold only letters, digits, '.', '_' and '-'")
    return tenant_id


def is_valid_tenant_id(tenant_id: str) -> bool:
    try:
        validate_tenant_id(tenant_id)
    except InvalidTenantIDError:
        return False
    return True


def tenant_id_from_scope(scope: Mapping[str, Any]) -> str:
    """The tenant id :func:`resolve_tenant` stored for this request, or ``""``."""
    value = scope.get(SCOPE_TENANT_ID)
    return value if isinstance(value, str) else ""


def with_tenant_id(scope: dict[str, Any], tenant_id: str) -> None:
    """Store a (validated) tenant id in the scope for the inner apps."""
    scope[SCOPE_TENANT_ID] = validate_tenant_id(tenant_id)


class QuotaWindow(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class QuotaLimit:
    """At most ``requests`` requests and ``tokens`` tokens per ``window``; 0 or less means unlimited."""

    window: QuotaWindow = QuotaWindow.MINUTE
    requests: int = 0
    tokens: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "window", QuotaWindow(self.window))
        for name in ("requests", "tokens"):
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool):
                raise ValueError(f"quota {name} must be an integer")

    @property
    def unlimited(self) -> bool:
        return self.requests <= 0 and self.tokens <= 0


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """Allow-lists; an empty list allows everything. A path ending in ``*`` matches by prefix."""

    allowed_models: tuple[str, ...] = ()
    allowed_tools: tuple[str, ...] = ()
    allowed_methods: tuple[str, ...] = ()
    allowed_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("allowed_models", "allowed_tools", "allowed_methods", "allowed_paths"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{name} must be a list of strings")
            object.__setattr__(self, name, tuple(value))


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """A token bucket refilled at ``requests_per_second``, holding ``burst`` tokens (``requests_per_second`` when 0).
    A rate of 0 or less disables the limit."""

    requests_per_second: float = 0.0
    burst: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.requests_per_second, bool) or not isinstance(self.requests_per_second, (int, float)):
            raise ValueError("requests_per_second must be a number")
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 0:
            raise ValueError("burst must be an integer >= 0")

    @property
    def capacity(self) -> float:
        return float(self.burst) if self.burst > 0 else float(self.requests_per_second)


@dataclass(frozen=True, slots=True)
class TenantConfig:
    """Everything x/tenant knows about one tenant. ``suspended`` tenants are denied by the policy step (it is kept in
    ``metadata["status"]`` in the database, so the table stays Go's)."""

    tenant_id: str
    quota: tuple[QuotaLimit, ...] = ()
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    rate_limit: RateLimitConfig = field(default_factory=RateLimitConfig)
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    suspended: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        validate_tenant_id(self.tenant_id)
        object.__setattr__(self, "quota", tuple(self.quota))
        if not all(isinstance(q, QuotaLimit) for q in self.quota):
            raise ValueError("quota must be a list of QuotaLimit")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.metadata.items()):
            raise ValueError("metadata must map strings to strings")
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))


class ResolveSource(StrEnum):
    PRINCIPAL = "principal"
    EXTRACTOR = "extractor"
    HEADER = "header"


@dataclass(frozen=True, slots=True)
class Decision:
    """What a hook sees: the step (``resolve``, ``policy``, ``quota``, ``ratelimit``), tenant, verdict and status."""

    step: str
    tenant_id: str
    allowed: bool
    status: int
    reason: str = ""
    source: str = ""
    retry_after: float = 0.0
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class Hooks:
    """Optional observers of every decision (metrics, audit logs). A hook that raises never changes a verdict."""

    on_resolve: Callable[[Decision], None] | None = None
    on_policy: Callable[[Decision], None] | None = None
    on_quota: Callable[[Decision], None] | None = None
    on_rate_limit: Callable[[Decision], None] | None = None

    def for_step(self, step: str) -> Callable[[Decision], None] | None:
        """The observer of ``step`` wrapped so that it cannot raise, or None (then no Decision is even built)."""
        hook = {"resolve": self.on_resolve, "policy": self.on_policy, "quota": self.on_quota,
                "ratelimit": self.on_rate_limit}[step]
        if hook is None:
            return None
        observer = hook

        def safe(decision: Decision) -> None:
            try:
                observer(decision)
            except Exception:       # noqa: BLE001 - an observer must not turn an answer into a 500
                pass
        return safe


def now_seconds() -> float:
    return time.time()
