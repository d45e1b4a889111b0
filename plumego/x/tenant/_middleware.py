"""The four tenant steps as pure ASGI middleware, in the canonical order resolve -> policy -> quota -> ratelimit.

Owns the wire behaviour Go Plumego clients see: 401 ``tenant_required``, 400 ``tenant_invalid_id``, 403
``tenant_policy_denied``, 429 ``tenant_quota_exceeded`` (``Retry-After``, ``X-Quota-Remaining-*``) and 429
``tenant_rate_limited`` (``Retry-After``, ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``). Every step fails
closed; a config or state backend that cannot answer is a 503 ``tenant_state_unavailable`` (Go folds it into
403/429, which tells a client to back off for a reason that is not true). ``Retry-After`` is rounded up, never
0. Only HTTP requests are checked; lifespan passes through, a websocket without a tenant is closed (1008).
Imports the standard library, plumego.contract and plumego.middleware.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from plumego.contract import (
    APIError,
    ASGIApp,
    ErrorCategory,
    ErrorType,
    Message,
    Middleware,
    Receive,
    Scope,
    Send,
    encode_error_envelope,
    request_id_from_scope,
)
from plumego.middleware import principal_from_scope

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
    ResolveSource,
    StateUnavailableError,
    TenantConfig,
    is_valid_tenant_id,
    tenant_id_from_scope,
)
from ._extract import Extractor, from_header
from ._limits import (
    ConfigPolicyEvaluator,
    PolicyRequest,
    PolicyResult,
    QuotaManager,
    QuotaResult,
    RateLimitResult,
    TokenBucketRateLimiter,
)

__all__ = ["enforce_policy", "enforce_quota", "enforce_rate_limit", "resolve_tenant", "tenant_chain"]

Headers = list[tuple[bytes, bytes]]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1").strip()
    return ""


async def _reject(scope: Scope, send: Send, err: APIError, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": err.code})
        return
    body = encode_error_envelope(err, request_id_from_scope(scope))
    await send({"type": "http.response.start", "status": err.status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})


def _unavailable(step: str) -> APIError:
    return APIError(status=503, code=CODE_UNAVAILABLE, message=f"tenant {step} state is unavailable",
                    category=ErrorCategory.SERVER)


def retry_after_header(seconds: float) -> Headers:
    if seconds <= 0:
        return []
    value = "3600" if math.isinf(seconds) else str(max(1, math.ceil(seconds)))
    return [(b"retry-after", value.encode())]


_QUOTA_REQUESTS = HEADER_QUOTA_REQUESTS.lower().encode()
_QUOTA_TOKENS = HEADER_QUOTA_TOKENS.lower().encode()


def quota_headers(result: QuotaResult) -> Headers:
    out: Headers = []
    if result.remaining_requests >= 0:
        out.append((_QUOTA_REQUESTS, b"%d" % result.remaining_requests))
    if result.remaining_tokens >= 0:
        out.append((_QUOTA_TOKENS, b"%d" % result.remaining_tokens))
    return out


def _with_headers(send: Send, extra: Headers) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and extra:
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)
    return wrapped


SCOPE_TENANT_CONFIG = "plumego.tenant_config"


def _config(scope: Scope) -> TenantConfig | None:
    config = scope.get(SCOPE_TENANT_CONFIG)
    return config if isinstance(config, TenantConfig) else None


def _checked(scope: Scope) -> bool:
    return scope["type"] in ("http", "websocket")


def resolve_tenant(*, header: str = HEADER_TENANT, extractor: Extractor | None = None, use_principal: bool = True,
                   allow_missing: bool = False, hooks: Hooks = Hooks()) -> Middleware:
    """Tenant from the authenticated principal, then ``extractor``, then ``header``: the first non-empty wins.

    (Go consults the header only when no extractor is set; here the header is the last fallback either way. Put
    ``chain(from_query(...), ...)`` in ``extractor`` for more sources.) Missing: 401 ``tenant_required`` unless
    ``allow_missing``. Not ``[A-Za-z0-9._-]{1,255}``: 400 ``tenant_invalid_id``.
    """
    by_header = from_header(header)
    on_resolve = hooks.for_step("resolve")

    def middleware(app: ASGIApp) -> ASGIApp:
        async def step(scope: Scope, receive: Receive, send: Send) -> None:
            if not _checked(scope):
                await app(scope, receive, send)
                return
            tenant, source = "", ""
            if use_principal:
                principal = principal_from_scope(scope)
                if principal is not None and principal.tenant_id:
                    tenant, source = principal.tenant_id, ResolveSource.PRINCIPAL.value
            if not tenant and extractor is not None:
                try:
                    tenant, source = extractor(scope) or "", ResolveSource.EXTRACTOR.value
                except Exception:       # noqa: BLE001 - an extractor error counts as a missing tenant (Go)
                    tenant = ""
            if not tenant:
                tenant, source = by_header(scope) or "", ResolveSource.HEADER.value
            if not tenant:
                if on_resolve is not None:
                    on_resolve(Decision("resolve", "", allow_missing, 200 if allow_missing else 401, "missing"))
                if allow_missing:
                    await app(scope, receive, send)
                    return
                await _reject(scope, send, APIError(status=401, code=CODE_REQUIRED, message="tenant id is required",
                                                    category=ErrorCategory.AUTH))
                return
            if not is_valid_tenant_id(tenant):
                if on_resolve is not None:
                    on_resolve(Decision("resolve", "", False, 400, "invalid tenant id", source))
                await _reject(scope, send, APIError(status=400, code=CODE_INVALID_ID,
                                                    message="invalid tenant ID format", category=ErrorCategory.AUTH))
                return
            scope[SCOPE_TENANT_ID] = tenant
            if on_resolve is not None:
                on_resolve(Decision("resolve", tenant, True, 200, source=source))
            await app(scope, receive, send)
        return step
    return middleware


def enforce_policy(evaluator: ConfigPolicyEvaluator, *, model_header: str = HEADER_MODEL,
                   tool_header: str = HEADER_TOOL, hooks: Hooks = Hooks()) -> Middleware:
    """Deny with 403 ``tenant_policy_denied`` unless the tenant's policy allows the model (``X-Model``), tool
    (``X-Tool``), method and path. No resolved tenant is denied too."""
    model_key, tool_key = model_header.lower().encode("latin-1"), tool_header.lower().encode("latin-1")
    on_policy = hooks.for_step("policy")

    def middleware(app: ASGIApp) -> ASGIApp:
        async def step(scope: Scope, receive: Receive, send: Send) -> None:
            if not _checked(scope):
                await app(scope, receive, send)
                return
            tenant = tenant_id_from_scope(scope)
            request = PolicyRequest(_header(scope, model_key), _header(scope, tool_key),
                                    scope.get("method", "GET"), scope.get("path", ""))
            try:
                result, config = (await evaluator.evaluate_config(tenant, request) if tenant
                                  else (PolicyResult(False, "no tenant"), None))
            except StateUnavailableError as exc:
                if on_policy is not None:
                    on_policy(Decision("policy", tenant, False, 503, "unavailable", error=exc))
                await _reject(scope, send, _unavailable("config"))
                return
            if on_policy is not None:
                on_policy(Decision("policy", tenant, result.allowed, 200 if result.allowed else 403, result.reason))
            if result.allowed:
                scope[SCOPE_TENANT_CONFIG] = config      # read once per request; quota and ratelimit reuse it
                await app(scope, receive, send)
                return
            await _reject(scope, send, APIError(ErrorType.FORBIDDEN, "tenant policy denied request",
                                                code=CODE_POLICY_DENIED))
        return step
    return middleware


def enforce_quota(manager: QuotaManager, *, tokens_header: str = HEADER_TOKENS,
                  estimator: Callable[[Scope], int] | None = None, hooks: Hooks = Hooks()) -> Middleware:
    """Charge one request and ``X-Token-Count`` tokens (or ``estimator(scope)``) to the tenant's quota. Sets
    ``X-Quota-Remaining-Requests``/``-Tokens`` (omitted when unlimited). Exhausted: 429 ``tenant_quota_exceeded``
    with ``Retry-After``. A token count that is not a non-negative integer is a 400 (Go ignores it)."""
    tokens_key = tokens_header.lower().encode("latin-1")
    on_quota = hooks.for_step("quota")

    def middleware(app: ASGIApp) -> ASGIApp:
        async def step(scope: Scope, receive: Receive, send: Send) -> None:
            if not _checked(scope):
                await app(scope, receive, send)
                return
            tenant = tenant_id_from_scope(scope)
            if estimator is not None:
                tokens = int(estimator(scope))
            else:
                raw = _header(scope, tokens_key)
                tokens = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else (0 if not raw else -1)
            if tokens < 0:
                await _reject(scope, send, APIError(ErrorType.INVALID_FORMAT,
                                                    f"{tokens_header} must be a non-negative integer"))
                return
            try:
                result = (await manager.allow(tenant, requests=1, tokens=tokens, config=_config(scope)) if tenant
                          else QuotaResult(False))
            except StateUnavailableError as exc:
                if on_quota is not None:
                    on_quota(Decision("quota", tenant, False, 503, "unavailable", error=exc))
                await _reject(scope, send, _unavailable("quota"))
                return
            except Exception as exc:    # noqa: BLE001 - unknown tenant, unsupported window: fail closed as Go (429)
                result = QuotaResult(False)
                if on_quota is not None:
                    on_quota(Decision("quota", tenant, False, 429, type(exc).__name__, error=exc))
            else:
                if on_quota is not None:
                    on_quota(Decision("quota", tenant, result.allowed, 200 if result.allowed else 429,
                                      retry_after=result.retry_after))
            headers = quota_headers(result)
            if result.allowed:
                await app(scope, receive, _with_headers(send, headers))
                return
            await _reject(scope, send, APIError(ErrorType.RATE_LIMITED, "tenant quota exceeded",
                                                code=CODE_QUOTA_EXCEEDED),
                          [*headers, *retry_after_header(result.retry_after)])
        return step
    return middleware


def enforce_rate_limit(limiter: TokenBucketRateLimiter, *, estimator: Callable[[Scope], float] | None = None,
                       hooks: Hooks = Hooks()) -> Middleware:
    """Take one token (or ``estimator(scope)``) from the tenant's bucket. Empty: 429 ``tenant_rate_limited`` with
    ``Retry-After``, ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining``."""
    on_rate = hooks.for_step("ratelimit")

    def middleware(app: ASGIApp) -> ASGIApp:
        async def step(scope: Scope, receive: Receive, send: Send) -> None:
            if not _checked(scope):
                await app(scope, receive, send)
                return
            tenant = tenant_id_from_scope(scope)
            cost = 1.0
            if estimator is not None:
                cost = max(1.0, float(estimator(scope)))
            try:
                result = (await limiter.allow(tenant, cost=cost, config=_config(scope)) if tenant
                          else RateLimitResult(False))
            except StateUnavailableError as exc:
                if on_rate is not None:
                    on_rate(Decision("ratelimit", tenant, False, 503, "unavailable", error=exc))
                await _reject(scope, send, _unavailable("rate limit"))
                return
            except Exception as exc:    # noqa: BLE001 - unknown tenant: fail closed as Go (429)
                result = RateLimitResult(False)
                if on_rate is not None:
                    on_rate(Decision("ratelimit", tenant, False, 429, type(exc).__name__, error=exc))
            else:
                if on_rate is not None:
                    on_rate(Decision("ratelimit", tenant, result.allowed, 200 if result.allowed else 429,
                                     retry_after=result.retry_after))
            if result.allowed:
                await app(scope, receive, send)
                return
            headers: Headers = retry_after_header(result.retry_after)
            if result.limit > 0:
                headers.append((HEADER_RATELIMIT_LIMIT.lower().encode(), str(result.limit).encode()))
            headers.append((HEADER_RATELIMIT_REMAINING.lower().encode(), str(result.remaining).encode()))
            await _reject(scope, send, APIError(ErrorType.RATE_LIMITED, "tenant rate limit exceeded",
                                                code=CODE_RATE_LIMITED), headers)
        return step
    return middleware


def tenant_chain(*, policy: ConfigPolicyEvaluator | None = None, quota: QuotaManager | None = None,
                 rate_limit: TokenBucketRateLimiter | None = None, resolve: Middleware | None = None,
                 hooks: Hooks = Hooks()) -> list[Middleware]:
    """The canonical order as a list for ``app.use(*...)`` or :class:`plumego.middleware.Chain`: resolve (the
    default :func:`resolve_tenant` unless given), then the policy, quota and rate-limit steps that are given."""
    steps: list[Middleware] = [resolve or resolve_tenant(hooks=hooks)]
    if policy is not None:
        steps.append(enforce_policy(policy, hooks=hooks))
    if quota is not None:
        steps.append(enforce_quota(quota, hooks=hooks))
    if rate_limit is not None:
        steps.append(enforce_rate_limit(rate_limit, hooks=hooks))
    return steps
