"""The notification service's routes (Go's ``RegisterRoutes``, prefix ``/api/v1/messages``): POST ``/send``, POST
``/batch``, GET ``/stats``, GET ``/receipts``, GET ``/:id/receipt``, GET ``/channels``. Errors carry Go's codes in
the canonical envelope. Put auth in front of them. Imports the standard library, plumego.contract and this package.
"""

from __future__ import annotations

from typing import Any, Protocol

from plumego.contract import APIError, ErrorType, JSONResponse, Request

from ._receipts import ReceiptStatus
from ._service import MessagingError, NotificationService, SendRequest

__all__ = ["register_routes"]

_STATUS = {"VALIDATION_ERROR": ErrorType.VALIDATION, "DUPLICATE_MESSAGE": ErrorType.CONFLICT,
           "EMPTY_BATCH": ErrorType.VALIDATION, "QUOTA_EXCEEDED": ErrorType.RATE_LIMITED}


class Routes(Protocol):
    def get(self, path: str, handler: Any, **options: Any) -> Any: ...
    def post(self, path: str, handler: Any, **options: Any) -> Any: ...


def _api_error(exc: MessagingError) -> APIError:
    kind = _STATUS.get(exc.code)
    if kind is None:
        return APIError(status=502 if exc.code == "PROVIDER_ERROR" else 500, code=exc.code, message=str(exc),
                        details=exc.details or None)
    return APIError(kind, str(exc), code=exc.code, details=exc.details or None)


def register_routes(routes: Routes, service: NotificationService, *, prefix: str = "/api/v1/messages",
                    max_batch: int = 100) -> None:
    p = prefix.rstrip("/")

    async def send(request: Request) -> JSONResponse:
        try:
            receipt = await service.send(SendRequest.from_json(await request.json()))
        except MessagingError as exc:
            raise _api_error(exc) from None
        return JSONResponse(receipt.to_json(), status=202)

    async def batch(request: Request) -> JSONResponse:
        body = await request.json()
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list):
            raise APIError(ErrorType.VALIDATION, 'the body must be {"messages": [...]}', code="VALIDATION_ERROR")
        if len(messages) > max_batch:
            raise APIError(ErrorType.VALIDATION, f"at most {max_batch} messages per batch", code="VALIDATION_ERROR")
        requests: list[SendRequest | MessagingError] = []
        for item in messages:
            try:
                requests.append(SendRequest.from_json(item))
            except MessagingError as exc:
                requests.append(exc)
        valid = [r for r in requests if isinstance(r, SendRequest)]
        try:
            sent = iter(await service.send_batch(valid)) if valid else iter(())
        except MessagingError as exc:
            raise _api_error(exc) from None
        if not messages:
            raise _api_error(MessagingError("EMPTY_BATCH", "the batch has no messages"))
        items: list[dict[str, Any]] = []
        for r in requests:
            result = r if isinstance(r, MessagingError) else next(sent)
            if isinstance(result, MessagingError):
                items.append({"error": {"code": result.code, "message": str(result), "details": result.details}})
            else:
                items.append(result.to_json())
        return JSONResponse({"items": items}, status=202)

    async def stats(request: Request) -> dict[str, Any]:
        try:
            return await service.stats()
        except MessagingError as exc:
            raise _api_error(exc) from None

    async def receipts(request: Request) -> dict[str, Any]:
        status = request.query_params.get("status")
        if status is not None and status not in {s.value for s in ReceiptStatus}:
            raise APIError(ErrorType.VALIDATION, "unknown status", code="VALIDATION_ERROR")
        found = await service.receipts.list(status=ReceiptStatus(status) if status else None)
        return {"items": [r.to_json() for r in found]}

    async def receipt(request: Request) -> dict[str, Any]:
        found = await service.receipt(request.param("id"))
        if found is None:
            raise APIError(ErrorType.NOT_FOUND, "message not found")
        return found.to_json()

    async def channels(request: Request) -> dict[str, Any]:
        out: dict[str, Any] = {"channels": service.channels()}
        if service.monitor is not None:       # Go's ChannelMonitor view: healthy, degraded or unhealthy
            out["health"] = {c: h.to_json() for c, h in service.monitor.health().items()}
        return out

    routes.post(f"{p}/send", send)
    routes.post(f"{p}/batch", batch)
    routes.get(f"{p}/stats", stats)
    routes.get(f"{p}/receipts", receipts)
    routes.get(f"{p}/:id/receipt", receipt)
    routes.get(f"{p}/channels", channels)
