"""plumego.x.tenant (beta): multi-tenancy: tenant resolution, policy, quota, rate limits, tenant-aware stores and
sessions.

The four ASGI steps run in the canonical order resolve -> policy -> quota -> ratelimit (``tenant_chain``) and
answer exactly as Go Plumego does. Quota and rate-limit state lives in a :class:`TenantStateStore` chosen by URL:
memory (per process), SQLite (every process on one machine) or Redis (every machine, atomic Lua); tenant configs
live in memory, SQLite (default) or PostgreSQL behind a cache. Optional libraries (redis, psycopg, sqlglot) are
imported only when their backend or helper is used.
May import the standard library and plumego.contract, middleware and store; never plumego.core, the reference
app or tooling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._cache import TenantCache, TenantCacheView
from ._config import CachedConfigManager, ConfigManager, ConfigProvider, InMemoryConfigManager, config_from_json
from ._config import config_to_json
from ._config_sqlite import SQLiteConfigManager
from ._core import (
    CODE_INVALID_ID,
    CODE_POLICY_DENIED,
    CODE_QUOTA_EXCEEDED,
    CODE_RATE_LIMITED,
    CODE_REQUIRED,
    CODE_UNAVAILABLE,
    HEADER_MODEL,
    HEADER_QUOTA_REQUESTS,
    HEADER_QUOTA_TOKENS,
    HEADER_RATELIMIT_LIMIT,
    HEADER_RATELIMIT_REMAINING,
    HEADER_TENANT,
    HEADER_TOKENS,
    HEADER_TOOL,
    SCOPE_TENANT_ID,
    Decision,
    Hooks,
    InvalidTenantIDError,
    PolicyConfig,
    PolicyDeniedError,
    QuotaExceededError,
    QuotaLimit,
    QuotaWindow,
    RateLimitConfig,
    RateLimitExceededError,
    StateUnavailableError,
    TenantConfig,
    TenantError,
    TenantNotFoundError,
    UnsupportedQuotaWindowError,
    is_valid_tenant_id,
    tenant_id_from_scope,
    validate_tenant_id,
    with_tenant_id,
)
from ._extract import Extractor, chain, from_claim, from_cookie, from_header, from_query, from_subdomain
from ._limits import (
    ConfigPolicyEvaluator,
    FixedWindowQuotaManager,
    PolicyRequest,
    PolicyResult,
    QuotaManager,
    QuotaResult,
    RateLimitResult,
    SlidingWindowQuotaManager,
    TokenBucketRateLimiter,
)
from ._middleware import enforce_policy, enforce_quota, enforce_rate_limit, resolve_tenant, tenant_chain
from ._open import open_config_manager, open_session_store, open_state_store
from ._session import (
    InvalidRefreshTokenError,
    IssuedSession,
    JWTStateStore,
    MemorySessionStore,
    RefreshReusedError,
    Session,
    SessionError,
    SessionExpiredError,
    SessionManager,
    SessionNotFoundError,
    SessionRevokedError,
    SessionStatus,
    SessionStore,
    SQLiteSessionStore,
    TokenRevokedError,
    TokenVersionMismatchError,
    session_check,
)
from ._state import MemoryStateStore, StateCapabilities, TenantStateStore
from ._state_sqlite import SQLiteStateStore

if TYPE_CHECKING:
    from ._config_postgres import PostgresConfigManager
    from ._scoped_sql import TenantSQL, UnsafeQueryError
    from ._session_redis import RedisSessionStore
    from ._state_redis import RedisStateStore


def __getattr__(name: str) -> Any:
    """The backends and helpers that need an optional library load on first use."""
    if name == "PostgresConfigManager":
        from ._config_postgres import PostgresConfigManager
        return PostgresConfigManager
    if name == "RedisStateStore":
        from ._state_redis import RedisStateStore
        return RedisStateStore
    if name == "RedisSessionStore":
        from ._session_redis import RedisSessionStore
        return RedisSessionStore
    if name == "TenantSQL":
        from ._scoped_sql import TenantSQL
        return TenantSQL
    if name == "UnsafeQueryError":
        from ._scoped_sql import UnsafeQueryError
        return UnsafeQueryError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CODE_INVALID_ID", "CODE_POLICY_DENIED", "CODE_QUOTA_EXCEEDED", "CODE_RATE_LIMITED", "CODE_REQUIRED",
    "CODE_UNAVAILABLE", "HEADER_MODEL", "HEADER_QUOTA_REQUESTS", "HEADER_QUOTA_TOKENS", "HEADER_RATELIMIT_LIMIT",
    "HEADER_RATELIMIT_REMAINING", "HEADER_TENANT", "HEADER_TOKENS", "HEADER_TOOL", "SCOPE_TENANT_ID",
    "CachedConfigManager", "ConfigManager", "ConfigPolicyEvaluator", "ConfigProvider", "Decision", "Extractor",
    "FixedWindowQuotaManager", "Hooks", "InMemoryConfigManager", "InvalidRefreshTokenError", "InvalidTenantIDError",
    "IssuedSession", "JWTStateStore", "MemorySessionStore", "MemoryStateStore", "PolicyConfig", "PolicyDeniedError",
    "PolicyRequest", "PolicyResult", "PostgresConfigManager", "QuotaExceededError", "QuotaLimit", "QuotaManager",
    "QuotaResult", "QuotaWindow", "RateLimitConfig", "RateLimitExceededError", "RateLimitResult",
    "RedisSessionStore", "RedisStateStore", "RefreshReusedError", "SQLiteConfigManager", "SQLiteSessionStore",
    "SQLiteStateStore", "Session", "SessionError", "SessionExpiredError", "SessionManager", "SessionNotFoundError",
    "SessionRevokedError", "SessionStatus", "SessionStore", "SlidingWindowQuotaManager", "StateCapabilities",
    "StateUnavailableError", "TenantCache", "TenantCacheView", "TenantConfig", "TenantError", "TenantNotFoundError",
    "TenantSQL", "TenantStateStore", "TokenBucketRateLimiter", "TokenRevokedError", "TokenVersionMismatchError",
    "UnsafeQueryError", "UnsupportedQuotaWindowError", "chain", "config_from_json", "config_to_json",
    "enforce_policy", "enforce_quota", "enforce_rate_limit", "from_claim", "from_cookie", "from_header",
    "from_query", "from_subdomain", "is_valid_tenant_id", "open_config_manager", "open_session_store",
    "open_state_store", "resolve_tenant", "session_check", "tenant_chain", "tenant_id_from_scope",
    "validate_tenant_id", "with_tenant_id",
]
