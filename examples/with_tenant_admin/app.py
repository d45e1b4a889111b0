"""The with_tenant_admin service: tenants create/get/suspend/delete, per-minute quota set/get/reset and usage
record/read, all behind ``X-Admin-Token``. Tenant configs live in SQLite (default) or PostgreSQL, usage in a
tenant state store. Imports plumego's stable roots and plumego.x.tenant (beta)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from plumego.contract import (
    APIError,
    ASGIApp,
    ErrorType,
    JSONResponse,
    Message,
    Middleware,
    Receive,
    Request,
    Scope,
    Send,
)
from plumego.contract import encode_error_envelope, request_id_from_scope
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id
from plumego.x.tenant import (
    ConfigManager,
    FixedWindowQuotaManager,
    InvalidTenantIDError,
    QuotaLimit,
    QuotaWindow,
    StateUnavailableError,
    TenantConfig,
    TenantNotFoundError,
    TenantStateStore,
    config_from_json,
    config_to_json,
    validate_tenant_id,
)


def admin_token(token: str) -> Middleware:
    """401 unless ``X-Admin-Token`` equals ``token`` (compared in constant time)."""
    expected = token.encode()

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guard(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                given = next((v for k, v in scope["headers"] if k == b"x-admin-token"), b"")
                if not hmac.compare_digest(bytes(given), expected):
                    body = encode_error_envelope(APIError(ErrorType.UNAUTHORIZED, "admin token required"),
                                                 request_id_from_scope(scope))
                    await send({"type": "http.response.start", "status": 401,
                                "headers": [(b"content-type", b"application/json")]})
                    await send({"type": "http.response.body", "body": body})
                    return
            await app(scope, receive, send)
        return guard
    return middleware


class DeferredConfigs:
    """A config manager opened by the app's lifespan (a PostgreSQL pool belongs to the serving event loop), and
    closed with the state store when the app stops."""

    def __init__(self, opener: Callable[[], Awaitable[ConfigManager]], state: TenantStateStore) -> None:
        self._opener = opener
        self._inner: ConfigManager | None = None
        self.state = state

    def _manager(self) -> ConfigManager:
        if self._inner is None:
            raise StateUnavailableError("the config store is not open")
        return self._inner

    async def start(self) -> None:
        self._inner = await self._opener()

    async def stop(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            await close()
        await self.state.close()

    async def get(self, tenant_id: str) -> TenantConfig:
        return await self._manager().get(tenant_id)

    async def set(self, config: TenantConfig) -> TenantConfig:
        return await self._manager().set(config)

    async def delete(self, tenant_id: str) -> bool:
        return await self._manager().delete(tenant_id)

    async def list(self) -> list[TenantConfig]:
        return await self._manager().list()


def _tenant(request: Request) -> str:
    try:
        return validate_tenant_id(request.param("id"))
    except InvalidTenantIDError as exc:
        raise APIError(ErrorType.VALIDATION, str(exc), code="tenant_invalid_id") from None


def _count(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise APIError(ErrorType.VALIDATION, f"{name} must be an integer >= 0", details={"field": name})
    return value


async def _body(request: Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        raise APIError(ErrorType.VALIDATION, "the body must be a JSON object")
    return body


def build_app(open_configs: Callable[[], Awaitable[ConfigManager]], state: TenantStateStore, token: str,
              logger: StructuredLogger, *, host: str = "127.0.0.1", port: int = 8086) -> App:
    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))
    configs = DeferredConfigs(open_configs, state)
    app.add_component("tenant-backends", configs)
    quotas = FixedWindowQuotaManager(configs, state)

    async def load(tenant_id: str) -> TenantConfig:
        try:
            return await configs.get(tenant_id)
        except TenantNotFoundError:
            raise APIError(ErrorType.NOT_FOUND, f"tenant {tenant_id} not found") from None

    async def create(request: Request) -> JSONResponse:
        body = await _body(request)
        try:
            config = config_from_json(body)
        except ValueError as exc:
            raise APIError(ErrorType.VALIDATION, str(exc)) from None
        try:
            await configs.get(config.tenant_id)
        except TenantNotFoundError:
            return JSONResponse(config_to_json(await configs.set(config)), status=201)
        raise APIError(ErrorType.ALREADY_EXISTS, f"tenant {config.tenant_id} already exists")

    async def get(request: Request) -> dict[str, Any]:
        return config_to_json(await load(_tenant(request)))

    async def suspend(request: Request) -> dict[str, Any]:
        config = await load(_tenant(request))
        return config_to_json(await configs.set(replace(config, suspended=True)))

    async def delete(request: Request) -> dict[str, Any]:
        tenant = _tenant(request)
        if not await configs.delete(tenant):
            raise APIError(ErrorType.NOT_FOUND, f"tenant {tenant} not found")
        await state.reset(tenant)
        return {"tenant_id": tenant, "deleted": True}

    async def set_quota(request: Request) -> dict[str, Any]:
        config = await load(_tenant(request))
        body = await _body(request)
        limit = QuotaLimit(QuotaWindow.MINUTE, _count(body, "requests_per_minute"),
                           _count(body, "tokens_per_minute", 0))
        others = tuple(q for q in config.quota if q.window is not QuotaWindow.MINUTE)
        stored = await configs.set(replace(config, quota=(limit, *others)))
        return {"tenant_id": stored.tenant_id, "requests_per_minute": limit.requests,
                "tokens_per_minute": limit.tokens}

    async def get_quota(request: Request) -> dict[str, Any]:
        config = await load(_tenant(request))
        minute = next((q for q in config.quota if q.window is QuotaWindow.MINUTE), QuotaLimit())
        return {"tenant_id": config.tenant_id, "requests_per_minute": minute.requests,
                "tokens_per_minute": minute.tokens, "usage": await quotas.usage(config.tenant_id)}

    async def reset_quota(request: Request) -> dict[str, Any]:
        config = await load(_tenant(request))
        await quotas.reset(config.tenant_id)
        return {"tenant_id": config.tenant_id, "reset": True}

    async def record_usage(request: Request) -> JSONResponse:
        config = await load(_tenant(request))
        body = await _body(request)
        result = await quotas.allow(config.tenant_id, requests=_count(body, "requests", 1),
                                    tokens=_count(body, "tokens", 0))
        if not result.allowed:
            raise APIError(ErrorType.RATE_LIMITED, "tenant quota exceeded", code="tenant_quota_exceeded",
                           details={"retry_after": int(result.retry_after + 0.999)})
        return JSONResponse({"tenant_id": config.tenant_id, "remaining_requests": result.remaining_requests,
                             "remaining_tokens": result.remaining_tokens}, status=201)

    async def read_usage(request: Request) -> dict[str, Any]:
        config = await load(_tenant(request))
        return {"tenant_id": config.tenant_id, "windows": await quotas.usage(config.tenant_id)}

    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    admin = app.group("/admin", admin_token(token), backend_errors())
    admin.post("/tenants", create)
    admin.get("/tenants/:id", get)
    admin.post("/tenants/:id/suspend", suspend)
    admin.delete("/tenants/:id", delete)
    admin.put("/quota/:id", set_quota)
    admin.get("/quota/:id", get_quota)
    admin.post("/quota/:id/reset", reset_quota)
    admin.post("/usage/:id", record_usage)
    admin.get("/usage/:id", read_usage)
    app.get("/healthz", healthz)
    return app


def backend_errors() -> Middleware:
    """A config or state backend that cannot answer is a 503, never a traceback."""
    def middleware(app: ASGIApp) -> ASGIApp:
        async def guard(scope: Scope, receive: Receive, send: Send) -> None:
            started = False

            async def tracking(message: Message) -> None:
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await send(message)
            try:
                await app(scope, receive, tracking)
            except StateUnavailableError:
                if started:
                    raise
                body = encode_error_envelope(APIError(ErrorType.UNAVAILABLE, "tenant storage is unavailable"),
                                             request_id_from_scope(scope))
                await send({"type": "http.response.start", "status": 503,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
        return guard
    return middleware
