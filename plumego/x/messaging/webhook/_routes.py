"""HTTP routes of the webhook package, Go Plumego's paths and envelopes.

Owns two sets of routes, each added to anything with ``get``/``post``/``patch`` (an App, a Router or a group):
- :func:`register_management_routes` (base ``/webhooks``): POST/GET ``/targets``, GET/PATCH ``/targets/:id``,
  POST ``/targets/:id/enable|disable``, POST ``/events/:event`` (trigger token in ``?token=`` or
  ``X-Trigger-Token``), GET ``/deliveries`` (cursor, target_id, event, status), GET ``/deliveries/:id``, POST
  ``/deliveries/:id/replay``. Secrets are only ever shown masked. Who may call them is the caller's business: put
  an auth middleware in front (Go leaves it to the caller too).
- :func:`register_inbound_routes`: POST ``/webhooks/github`` and ``/webhooks/stripe`` verify the signature, drop
  deliveries seen already (the nonce store), and publish to pub/sub ``in.github.<X-GitHub-Event>`` /
  ``in.stripe.<type>``.
Imports the standard library, plumego.contract and the x/messaging packages.
"""

from __future__ import annotations

import hmac
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from plumego.contract import APIError, ErrorType, JSONResponse, Request
from plumego.x.messaging.pubsub import InProcBroker

from ._inbound import MemoryNonceStore, NonceStore, WebhookVerificationError, verify_github, verify_stripe
from ._store import Delivery, DeliveryStatus, Target, WebhookStore

__all__ = ["register_inbound_routes", "register_management_routes"]

_EVENT = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,), "url": (str,), "secret": (str,), "name": (str,), "events": (list,), "enabled": (bool,),
    "headers": (dict,), "timeout": (int, float), "max_retries": (int,), "backoff_base": (int, float),
    "backoff_max": (int, float), "retry_on_429": (bool,),
}
_MUTABLE = set(_FIELD_TYPES) - {"id"}


class Routes(Protocol):
    def get(self, path: str, handler: Callable[..., Any], **options: Any) -> Any: ...
    def post(self, path: str, handler: Callable[..., Any], **options: Any) -> Any: ...
    def patch(self, path: str, handler: Callable[..., Any], **options: Any) -> Any: ...


class _Service(Protocol):
    store: WebhookStore

    async def trigger(self, event_type: str, data: Any, *, meta: Any = None, event_id: str | None = None) -> Any: ...
    async def replay(self, delivery_id: str) -> Delivery | None: ...


def _invalid(message: str, **details: Any) -> APIError:
    return APIError(ErrorType.VALIDATION, message, details=details or None)


def _not_found(what: str) -> APIError:
    return APIError(ErrorType.NOT_FOUND, f"{what} not found")


def _delivery_json(d: Delivery) -> dict[str, Any]:
    return {"id": d.id, "target_id": d.target_id, "event_id": d.event_id, "event": d.event_type,
            "status": d.status.value, "attempts": d.attempts, "last_status": d.last_status,
            "last_error": d.last_error, "created_at": d.created_at, "updated_at": d.updated_at}


def _target_from(body: Any, base: Target | None) -> Target:
    if not isinstance(body, dict):
        raise _invalid("the body must be a JSON object")
    unknown = set(body) - _MUTABLE - ({"id"} if base is None else set())
    if unknown:
        raise _invalid("unknown fields", fields=sorted(unknown))
    for key, value in body.items():
        ok = isinstance(value, _FIELD_TYPES[key]) and not (isinstance(value, bool) and bool not in _FIELD_TYPES[key])
        if not ok or (key == "events" and not all(isinstance(e, str) for e in value)) or (
                key == "headers" and not all(isinstance(v, str) for v in value.values())):
            raise _invalid(f"{key} has the wrong type", field=key)
    values: dict[str, Any] = {k: (tuple(v) if k == "events" else v) for k, v in body.items()}
    try:
        if base is None:
            if not isinstance(values.get("url"), str) or not isinstance(values.get("secret"), str):
                raise _invalid("url and secret are required strings")
            values.setdefault("id", uuid.uuid4().hex)
            return Target(**values)
        return replace(base, **values)
    except (TypeError, ValueError) as exc:
        raise _invalid(str(exc)) from None


def register_management_routes(routes: Routes, service: _Service, *, prefix: str = "/webhooks",
                               trigger_token: str | None = None) -> None:
    """Go's ``Outbound.RegisterRoutes``. ``POST /events/:event`` answers 403 unless ``trigger_token`` is set and
    the request carries it."""
    store = service.store

    async def create_target(request: Request) -> JSONResponse:
        target = _target_from(await request.json(), None)
        if await store.get_target(target.id) is not None:
            raise APIError(ErrorType.ALREADY_EXISTS, f"target {target.id} exists")
        await store.put_target(target)
        return JSONResponse(target.masked(), status=201)

    async def list_targets(request: Request) -> dict[str, Any]:
        return {"items": [t.masked() for t in await store.targets()]}

    async def get_target(request: Request) -> dict[str, Any]:
        target = await store.get_target(request.param("id"))
        if target is None:
            raise _not_found("target")
        return target.masked()

    async def patch_target(request: Request) -> dict[str, Any]:
        base = await store.get_target(request.param("id"))
        if base is None:
            raise _not_found("target")
        target = _target_from(await request.json(), base)
        await store.put_target(target)
        return target.masked()

    def toggle(enabled: bool) -> Callable[[Request], Any]:
        async def handler(request: Request) -> dict[str, Any]:
            target = await store.set_enabled(request.param("id"), enabled)
            if target is None:
                raise _not_found("target")
            return target.masked()
        return handler

    async def trigger(request: Request) -> JSONResponse:
        given = request.query_params.get("token") or request.headers.get("x-trigger-token") or ""
        if not trigger_token or not hmac.compare_digest(given.encode(), trigger_token.encode()):
            raise APIError(ErrorType.FORBIDDEN, "a valid trigger token is required")
        event = request.param("event")
        if not _EVENT.fullmatch(event):
            raise _invalid("invalid event name")
        raw = await request.body()
        data = json.loads(raw) if raw.strip() else None
        deliveries = await service.trigger(event, data)
        return JSONResponse({"event": event, "deliveries": [d.id for d in deliveries]}, status=202)

    async def list_deliveries(request: Request) -> dict[str, Any]:
        q = request.query_params
        status = q.get("status")
        if status is not None and status not in {s.value for s in DeliveryStatus}:
            raise _invalid("unknown status", status=status)
        cursor_raw = q.get("cursor")
        if cursor_raw is not None and not (cursor_raw.isascii() and cursor_raw.isdigit() and len(cursor_raw) < 19):
            raise _invalid("cursor must be a number from a previous page")
        limit_raw = q.get("limit", "50")
        if not (limit_raw.isascii() and limit_raw.isdigit() and 1 <= int(limit_raw) <= 500):
            raise _invalid("limit must be 1 to 500")
        items, next_cursor = await store.page(target_id=q.get("target_id"), event=q.get("event"),
                                              status=DeliveryStatus(status) if status else None,
                                              before=int(cursor_raw) if cursor_raw else None, limit=int(limit_raw))
        return {"items": [_delivery_json(d) for d in items], "next_cursor": next_cursor}

    async def get_delivery(request: Request) -> dict[str, Any]:
        d = await store.get_delivery(request.param("id"))
        if d is None:
            raise _not_found("delivery")
        return _delivery_json(d)

    async def replay(request: Request) -> JSONResponse:
        d = await service.replay(request.param("id"))
        if d is None:
            raise _not_found("delivery")
        return JSONResponse(_delivery_json(d), status=202)

    p = prefix.rstrip("/")
    routes.post(f"{p}/targets", create_target)
    routes.get(f"{p}/targets", list_targets)
    routes.get(f"{p}/targets/:id", get_target)
    routes.patch(f"{p}/targets/:id", patch_target)
    routes.post(f"{p}/targets/:id/enable", toggle(True))
    routes.post(f"{p}/targets/:id/disable", toggle(False))
    routes.post(f"{p}/events/:event", trigger)
    routes.get(f"{p}/deliveries", list_deliveries)
    routes.get(f"{p}/deliveries/:id", get_delivery)
    routes.post(f"{p}/deliveries/:id/replay", replay)


def register_inbound_routes(routes: Routes, broker: InProcBroker | Any, *, github_secret: str | None = None,
                            stripe_secret: str | None = None, nonce_store: NonceStore | None = None,
                            prefix: str = "/webhooks", max_body: int = 5 << 20) -> None:
    """Go's ``Inbound.RegisterRoutes``: a receiver for each configured secret. ``broker`` is an InProcBroker or a
    pub/sub bridge (anything with ``publish(topic, data, meta=...)``). Use a shared ``nonce_store``
    (RedisNonceStore) with several workers, or a redelivery sent to another worker is published twice."""
    seen = nonce_store or MemoryNonceStore()
    p = prefix.rstrip("/")

    async def body_of(request: Request) -> bytes:
        body = await request.body()
        if len(body) > max_body:
            raise APIError(ErrorType.PAYLOAD_TOO_LARGE, "the webhook body is too large")
        return body

    def refuse(exc: WebhookVerificationError) -> APIError:
        kind = ErrorType.FORBIDDEN if exc.status == 403 else ErrorType.UNAUTHORIZED
        return APIError(kind, "webhook verification failed", details={"reason": exc.code})

    if github_secret:
        async def github(request: Request) -> JSONResponse:
            body = await body_of(request)
            headers = {k: v for k, v in request.headers.items()}
            try:
                verified = await verify_github(headers, body, github_secret, nonce_store=seen, max_body=max_body)
            except WebhookVerificationError as exc:
                if exc.code == "replay_detected":
                    return JSONResponse({"status": "duplicate"}, status=200)   # GitHub must not retry it
                raise refuse(exc) from None
            event = request.headers.get("x-github-event") or "unknown"
            if not _EVENT.fullmatch(event):
                raise _invalid("invalid X-GitHub-Event")
            payload = json.loads(body) if body.strip() else None
            await broker.publish(f"in.github.{event}", payload, meta={"delivery": verified.nonce or ""})
            return JSONResponse({"status": "accepted"}, status=202)

        routes.post(f"{p}/github", github)

    if stripe_secret:
        async def stripe(request: Request) -> JSONResponse:
            body = await body_of(request)
            try:
                verify_stripe(request.headers.get("stripe-signature"), body, stripe_secret)
                payload = json.loads(body)
            except WebhookVerificationError as exc:
                raise refuse(exc) from None
            except ValueError:
                raise _invalid("the Stripe event is not JSON") from None
            event_id, kind = str(payload.get("id", "")), str(payload.get("type", "unknown"))
            if not _EVENT.fullmatch(kind):
                raise _invalid("invalid Stripe event type")
            if event_id and not await seen.add_if_absent("stripe:" + event_id, 7 * 86400):
                return JSONResponse({"status": "duplicate"}, status=200)
            await broker.publish(f"in.stripe.{kind}", payload, meta={"event_id": event_id})
            return JSONResponse({"status": "accepted"}, status=202)

        routes.post(f"{p}/stripe", stripe)
