"""The ops routes: queue, receipts, channels and tenant quota views over caller hooks, plus runtime facts and
readiness, all behind a static bearer token that fails closed.

Owns the routes, the token check and the ``*_NOT_CONFIGURED``/``*_FAILED`` error codes. Imports the standard
library, plumego.contract, plumego.log and plumego.middleware (bearer parsing); never core.
"""

from __future__ import annotations

import hmac
import inspect
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from plumego.contract import APIError, ErrorType, JSONResponse, Request, Response
from plumego.log import StructuredLogger
from plumego.middleware import InvalidCredentialsError, extract_bearer_token

__all__ = ["OpsHooks", "OpsOptions", "register_ops_routes"]

Hook = Callable[..., Any]
Handler = Callable[[Request], Awaitable[Any]]


class Routes(Protocol):
    def get(self, path: str, handler: Any, **options: Any) -> Any: ...
    def post(self, path: str, handler: Any, **options: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class OpsHooks:
    """What the ops routes read from the application. Each may be sync or async; a missing one answers 501.

    ``queue_stats(queue) -> mapping``, ``queue_list() -> list of names``, ``queue_replay(queue, limit) -> int``
    (messages replayed), ``receipt_lookup(id) -> mapping | None``, ``channel_health() -> mapping``,
    ``channel_list() -> list``, ``tenant_quota(tenant) -> mapping``, ``readiness() -> bool``.
    """

    queue_stats: Hook | None = None
    queue_list: Hook | None = None
    queue_replay: Hook | None = None
    receipt_lookup: Hook | None = None
    channel_health: Hook | None = None
    channel_list: Hook | None = None
    tenant_quota: Hook | None = None
    readiness: Hook | None = None


@dataclass(frozen=True, slots=True)
class OpsOptions:
    """``token`` is the static bearer token (``Authorization: Bearer <token>``). Without one every ops route
    answers 503 ``OPS_AUTH_NOT_CONFIGURED`` - fail closed - unless ``allow_insecure`` says, explicitly, that
    another layer (a private network, a proxy) guards them. ``extra`` adds more guarded GET routes
    (``{"metrics": collector.handler}`` serves ``/ops/metrics``)."""

    token: str = ""
    base_path: str = "/ops"
    hooks: OpsHooks = field(default_factory=OpsHooks)
    allow_insecure: bool = False
    extra: Mapping[str, Handler] = field(default_factory=dict)


async def _call(hook: Hook, *args: Any) -> Any:
    result = hook(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


def _unauthorized(message: str) -> APIError:
    return APIError(ErrorType.UNAUTHORIZED, message, code="UNAUTHORIZED")


def register_ops_routes(routes: Routes, options: OpsOptions, logger: StructuredLogger | None = None) -> list[str]:
    """Register the ops routes on an App, router or group; returns the paths registered.

    GET ``{base}`` (summary), GET ``{base}/runtime``, GET ``{base}/ready`` (200/503), GET ``{base}/queue?queue=``,
    POST ``{base}/queue/replay`` (``{"queue": str, "limit": 1..1000}``), GET ``{base}/receipts?id=``,
    GET ``{base}/channels``, GET ``{base}/tenants/quota?tenant=``, and ``{base}/<name>`` for each ``extra``.
    """
    base = "/" + options.base_path.strip("/")
    if base == "/":
        raise ValueError("ops: base_path must not be the root")
    token = options.token.encode()
    hooks = options.hooks
    started = time.time()

    def guarded(handler: Handler) -> Handler:
        async def check(request: Request) -> Any:
            if not token and not options.allow_insecure:
                raise APIError(ErrorType.UNAVAILABLE, "ops routes have no token configured",
                               code="OPS_AUTH_NOT_CONFIGURED")
            if token:
                try:
                    presented = extract_bearer_token(request.scope)
                except InvalidCredentialsError:
                    raise _unauthorized("malformed bearer token") from None
                if presented is None:
                    raise _unauthorized("a bearer token is required")
                if not hmac.compare_digest(presented.encode(), token):
                    raise _unauthorized("invalid bearer token")
            return await handler(request)

        return check

    async def run(kind: str, hook: Hook | None, *args: Any) -> Any:
        if hook is None:
            raise APIError(ErrorType.NOT_IMPLEMENTED, f"no {kind.lower()} hook is configured",
                           code=f"{kind}_NOT_CONFIGURED")
        try:
            return await _call(hook, *args)
        except APIError:
            raise
        except Exception as exc:  # noqa: BLE001 - the detail goes to the log, not to the client
            if logger is not None:
                logger.error("ops hook failed", {"hook": kind.lower(), "error": repr(exc)})
            raise APIError(ErrorType.INTERNAL, f"the {kind.lower()} hook failed", code=f"{kind}_FAILED") from None

    def required(request: Request, name: str) -> str:
        value = request.query_params.get(name, "").strip()
        if not value or len(value) > 256:
            raise APIError(ErrorType.VALIDATION, f"query parameter {name!r} is required (1-256 characters)",
                           details={"field": name})
        return value

    async def summary(request: Request) -> dict[str, Any]:
        return {"service": "ops", "uptime_seconds": round(time.time() - started, 3), "hooks": {
            name: getattr(hooks, name) is not None for name in OpsHooks.__dataclass_fields__}}

    async def runtime(request: Request) -> dict[str, Any]:
        import asyncio
        import threading

        return {"pid": os.getpid(), "python": sys.version.split()[0], "platform": platform.platform(),
                "uptime_seconds": round(time.time() - started, 3), "threads": threading.active_count(),
                "tasks": len(asyncio.all_tasks())}

    async def ready(request: Request) -> Response:
        ok = bool(await run("READINESS", hooks.readiness))
        return JSONResponse({"ready": ok}, status=200 if ok else 503)

    async def queue(request: Request) -> dict[str, Any]:
        if "queue" not in request.query_params and hooks.queue_list is not None:
            return {"queues": list(await run("QUEUE", hooks.queue_list))}
        name = required(request, "queue")
        return {"queue": name, "stats": dict(await run("QUEUE", hooks.queue_stats, name))}

    async def replay(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except Exception:  # noqa: BLE001 - malformed JSON is the client's error
            raise APIError(ErrorType.BAD_REQUEST, "the body must be JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("queue"), str) or not body["queue"].strip():
            raise APIError(ErrorType.VALIDATION, 'the body must be {"queue": string, "limit"?: 1..1000}',
                           details={"field": "queue"})
        limit = body.get("limit", 100)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise APIError(ErrorType.VALIDATION, "limit must be an integer within 1..1000", details={"field": "limit"})
        replayed = await run("QUEUE", hooks.queue_replay, body["queue"], limit)
        return {"queue": body["queue"], "replayed": int(replayed)}

    async def receipts(request: Request) -> dict[str, Any]:
        receipt_id = required(request, "id")
        found = await run("RECEIPT", hooks.receipt_lookup, receipt_id)
        if found is None:
            raise APIError(ErrorType.NOT_FOUND, "no such receipt", details={"id": receipt_id})
        return {"receipt": dict(found)}

    async def channels(request: Request) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if hooks.channel_list is not None or hooks.channel_health is None:
            out["channels"] = list(await run("CHANNEL", hooks.channel_list))
        if hooks.channel_health is not None:
            out["health"] = dict(await run("CHANNEL", hooks.channel_health))
        return out

    async def quota(request: Request) -> dict[str, Any]:
        tenant = required(request, "tenant")
        return {"tenant": tenant, "quota": dict(await run("TENANT_QUOTA", hooks.tenant_quota, tenant))}

    table: dict[str, tuple[str, Handler]] = {
        base: ("GET", summary),
        f"{base}/runtime": ("GET", runtime),
        f"{base}/ready": ("GET", ready),
        f"{base}/queue": ("GET", queue),
        f"{base}/queue/replay": ("POST", replay),
        f"{base}/receipts": ("GET", receipts),
        f"{base}/channels": ("GET", channels),
        f"{base}/tenants/quota": ("GET", quota),
    }
    for name, handler in options.extra.items():
        path = f"{base}/{name.strip('/')}"
        if path in table:
            raise ValueError(f"ops: extra route {path} collides with a built-in one")
        table[path] = ("GET", handler)
    for path, (method, handler) in table.items():
        (routes.get if method == "GET" else routes.post)(path, guarded(handler), tags=("ops",))
    return list(table)
