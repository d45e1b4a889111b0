"""Items CRUD handlers with the Go reference app's strict JSON decoding and error codes.

Codes: ``item.<op>.body_required`` (empty body), ``item.<op>.unsupported_media_type`` (415: the body is not
sent as ``application/json``), ``item.<op>.invalid_json`` (malformed, not UTF-8, a lone surrogate, or not an object),
``item.<op>.unknown_field`` (detail ``field``), ``item.not_found``, ``item.<op>.failed`` (storage failure,
logged server-side, never shown to the client). Missing fields answer ``required_field_missing`` with one
detail per field. Blocking SQLite calls run in worker threads. Imports plumego.contract, plumego.log and
the item domain only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final, TypeVar

from plumego.contract import (
    INT64_MAX,
    APIError,
    EnvelopeResponse,
    ErrorType,
    IntegerRangeError,
    IntegerSyntaxError,
    JSONBodyError,
    Request,
    ResponseApp,
    is_json_content_type,
    parse_int,
    parse_json_body,
)
from plumego.log import StructuredLogger

from reference_app.domain.items import Item, ItemInvalid, ItemNotFound, ItemService

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100
CODE_NOT_FOUND: Final = "item.not_found"
_REQUIRED: Final = "field is required"
_WRITES: Final = frozenset({"create", "update", "patch", "delete"})

T = TypeVar("T")


def _query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """ASCII decimal digits only (an optional ``-``), as Go's reference app; ``high`` is at most what SQLite
    holds, so no value reaches the store that it cannot bind."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse_int(raw, minimum=low, maximum=high)
    except IntegerSyntaxError:
        raise APIError(
            ErrorType.INVALID_FORMAT, f"{name} must be an integer", details={name: "must be an integer"}
        ) from None
    except IntegerRangeError:
        bound = f"between {low} and {high}" if high != INT64_MAX else f"at least {low}"
        raise APIError(ErrorType.OUT_OF_RANGE, f"{name} must be {bound}", details={name: f"must be {bound}"}) from None


class ItemHandlers:
    """``GET/POST /items``, ``GET/PUT/PATCH/DELETE /items/:id``."""

    def __init__(self, service: ItemService, logger: StructuredLogger) -> None:
        self.service = service
        self.logger = logger

    # --- helpers ------------------------------------------------------------------------------
    async def _decode(self, request: Request, op: str) -> dict[str, Any]:
        """Strict decode: a JSON object whose keys are all known item fields, sent as ``application/json``.

        Any other media type is 415: a browser sends text/plain or form bodies cross-origin without a CORS
        preflight, so accepting them would let any page write when no write key is set.
        """
        body = await request.body()
        if not body.strip():
            raise self._rejected(request, op, APIError(ErrorType.REQUIRED, "request body is required",
                                                       code=f"item.{op}.body_required"))
        if not is_json_content_type(request.headers.get("content-type")):
            raise self._rejected(request, op, APIError(
                status=415, code=f"item.{op}.unsupported_media_type",
                message="request body must be application/json"))
        try:
            payload = parse_json_body(body)
        except JSONBodyError:
            payload = None
        if not isinstance(payload, dict):
            raise self._rejected(request, op, APIError(ErrorType.BAD_REQUEST, "request body is not a valid JSON object",
                                                       code=f"item.{op}.invalid_json"))
        unknown = sorted(key for key in payload if key not in ItemService.FIELDS)
        if unknown:
            raise self._rejected(request, op, APIError(ErrorType.BAD_REQUEST, f"unknown field {unknown[0]!r}",
                                                       code=f"item.{op}.unknown_field", details={"field": unknown[0]}))
        return payload

    def _rejected(self, request: Request, op: str, err: APIError) -> APIError:
        """Log a rejected write at WARN (Go ``logWriteErr``) and hand the error back for raising."""
        if op in _WRITES:
            self.logger.warn("item write rejected", {"op": op, "code": err.code, "request_id": request.request_id})
        return err

    async def _call(self, request: Request, op: str, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking service call off the loop and translate domain errors to envelopes.

        Storage failures are logged at ERROR and answered ``item.<op>.failed``; as in the Go app, every
        other write error is logged at WARN.
        """
        try:
            return await asyncio.to_thread(fn, *args)
        except (ItemNotFound, ItemInvalid) as exc:
            err = (APIError(ErrorType.NOT_FOUND, "item not found", code=CODE_NOT_FOUND)
                   if isinstance(exc, ItemNotFound) else _invalid(exc))
            raise self._rejected(request, op, err) from None
        except Exception as exc:  # noqa: BLE001 - any storage failure is a 500 for the client
            self.logger.error("item storage failed", {"op": op, "error": f"{type(exc).__name__}: {exc}",
                                                      "request_id": request.request_id})
            raise APIError(ErrorType.INTERNAL, f"failed to {op} item", code=f"item.{op}.failed") from exc

    # --- routes -------------------------------------------------------------------------------
    async def list(self, request: Request) -> ResponseApp:
        limit = _query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _query_int(request, "offset", 0, 0, INT64_MAX)
        items, total = await self._call(request, "list", self.service.list, limit, offset)
        return EnvelopeResponse([item.to_json() for item in items], {"total": total, "limit": limit, "offset": offset})

    async def create(self, request: Request) -> ResponseApp:
        payload = await self._decode(request, "create")
        item: Item = await self._call(request, "create", self.service.create, payload)
        return EnvelopeResponse(item.to_json(), status=201)

    async def get(self, request: Request) -> ResponseApp:
        item: Item = await self._call(request, "get", self.service.get, request.param("id"))
        return EnvelopeResponse(item.to_json())

    async def replace(self, request: Request) -> ResponseApp:
        payload = await self._decode(request, "update")
        item: Item = await self._call(request, "update", self.service.replace, request.param("id"), payload)
        return EnvelopeResponse(item.to_json())

    async def patch(self, request: Request) -> ResponseApp:
        payload = await self._decode(request, "patch")
        item: Item = await self._call(request, "patch", self.service.patch, request.param("id"), payload)
        return EnvelopeResponse(item.to_json())

    async def delete(self, request: Request) -> ResponseApp:
        await self._call(request, "delete", self.service.delete, request.param("id"))
        return EnvelopeResponse(status=204)


def _invalid(exc: ItemInvalid) -> APIError:
    """Missing fields only -> ``required_field_missing``; any other rule -> ``validation_failure``."""
    if all(reason == _REQUIRED for reason in exc.fields.values()):
        return APIError(ErrorType.REQUIRED, "required fields are missing", details=exc.fields)
    return APIError(ErrorType.VALIDATION, "item is invalid", details=exc.fields)
