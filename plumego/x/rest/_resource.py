"""DBResourceController: a full resource over a Repository, with hooks, a transformer and batch endpoints.

Owns :class:`ResourceSpec`, :class:`ResourceHooks`, :class:`HookRejected`, :class:`BatchResult` and the controller.
Answers as Go's DBResourceController does: index ``{"data":[...],"meta":{"pagination":{...}}}``; unknown id 404;
bad JSON 400; invalid fields 422 ``VALIDATION_ERROR`` (one ``{path, reason}`` per field, the x/validate shape);
a hook rejection 4xx with the hook's own words hidden; a storage failure 500 with a safe message (logged).
Imports the standard library, plumego.contract, plumego.log and plumego.router.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from plumego.contract import (
    APIError,
    EnvelopeResponse,
    ErrorCode,
    ErrorType,
    Request,
    Response,
)
from plumego.log import Fields

from ._controller import BaseResourceController, allow_headers
from ._describe import resource_hints
from ._query import Query, QueryBuilder, SortField
from ._repository import Column, DuplicateError, Record, Repository, RepositoryError

__all__ = [
    "BatchResult",
    "DBResourceController",
    "HookRejected",
    "RecordValidator",
    "ResourceHooks",
    "ResourceSpec",
    "validate_record",
]

_INT64_MAX: Final = (1 << 63) - 1


class _Logger(Protocol):
    def error(self, msg: str, fields: Fields | None = None) -> None: ...


class HookRejected(Exception):
    """Raised by a hook to refuse a request. The client sees ``status``/``code`` and a generic message; the
    exception's own text (which may name internal rules) is logged only."""

    def __init__(self, reason: str, *, status: int = 403, code: str = "HOOK_REJECTED") -> None:
        if not 400 <= status <= 499:
            raise ValueError("a hook rejection is a 4xx status")
        super().__init__(reason)
        self.status = status
        self.code = code


class ResourceHooks:
    """Extension points around each action (Go ``ResourceHooks``). Override what you need; ``before_*`` may
    return changed values (or query) and may raise :class:`HookRejected` or an APIError."""

    async def before_list(self, request: Request, query: Query) -> Query:
        return query

    async def after_list(self, request: Request, records: list[Record]) -> list[Record]:
        return records

    async def before_create(self, request: Request, values: dict[str, Any]) -> dict[str, Any]:
        return values

    async def after_create(self, request: Request, record: Record) -> None:
        return None

    async def before_update(self, request: Request, record_id: int, values: dict[str, Any]) -> dict[str, Any]:
        return values

    async def after_update(self, request: Request, record: Record) -> None:
        return None

    async def before_delete(self, request: Request, record_id: int) -> None:
        return None

    async def after_delete(self, request: Request, record_id: int) -> None:
        return None


RecordValidator = Callable[[Any, bool], Mapping[str, Any]]
"""(parsed JSON body, full) -> column values; raise an APIError (e.g. x/validate's 422) to refuse."""


class _FieldsError(APIError):
    """422 VALIDATION_ERROR with ``details.fields`` -- the wire shape x/validate uses."""

    __slots__ = ()

    def __init__(self, fields: list[dict[str, str]]) -> None:
        super().__init__(ErrorType.VALIDATION, "validation failed", details={"fields": fields[:50]})
        self._status = 422


def validate_record(columns: Sequence[Column], body: Any, full: bool) -> dict[str, Any]:
    """The default validator: a JSON object of known columns, each value of its column's type; on ``full``
    (create, PUT) every required column present. All failing fields are reported at once."""
    if not isinstance(body, dict):
        raise _FieldsError([{"path": "", "reason": "expected a JSON object"}])
    by_name = {c.name: c for c in columns}
    out: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for key, value in body.items():
        column = by_name.get(key)
        if column is None:
            errors.append({"path": str(key)[:100], "reason": "unknown field"})
            continue
        checked, reason = column.check(value)
        if reason is not None:
            errors.append({"path": key, "reason": reason})
        else:
            out[key] = checked
    if full:
        errors += [{"path": c.name, "reason": "field is required"} for c in columns
                   if c.required and c.name not in body]
    if errors:
        raise _FieldsError(errors)
    return out


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Go ``BatchResult``: ``{"successful","failed","total","errors":[{index,id,message,code}]}``."""

    successful: int
    failed: int
    total: int
    errors: list[dict[str, Any]]
    items: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"successful": self.successful, "failed": self.failed, "total": self.total, "errors": self.errors,
                "items": self.items}


@dataclass(frozen=True)
class ResourceSpec:
    """How a resource is exposed: allow lists for the QueryBuilder, paging limits, hooks, transformer, the body
    validator and the batch limit. ``sorts``/``filters`` must name columns (or ``id``/timestamps for sorting)."""

    name: str
    sorts: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    default_sort: tuple[SortField, ...] = ()
    default_page_size: int = 20
    max_page_size: int = 100
    max_batch: int = 100
    hooks: ResourceHooks = field(default_factory=ResourceHooks)
    transformer: Callable[[Record], Mapping[str, Any]] | None = None
    validator: RecordValidator | None = None


def _record_id(request: Request) -> int:
    text = request.param("id")
    if not text:
        raise APIError(ErrorType.BAD_REQUEST, "resource id is required")
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > _INT64_MAX:
        raise APIError(ErrorType.NOT_FOUND, "resource not found")
    return int(text)


class DBResourceController(BaseResourceController):
    """Every ResourceController action over a :class:`Repository` (Go ``DBResourceController[T]``)."""

    def __init__(self, spec: ResourceSpec, repository: Repository, *, logger: _Logger | None = None) -> None:
        table = repository.spec
        unknown_sorts = set(spec.sorts) - table.sortable
        unknown_filters = set(spec.filters) - set(table.by_name) - {"id"}
        if unknown_sorts or unknown_filters:
            raise ValueError(f"resource {spec.name!r}: sorts {sorted(unknown_sorts)} / filters "
                             f"{sorted(unknown_filters)} are not columns of {table.table!r}")
        self.spec = spec
        self.repository = repository
        self.query_builder = QueryBuilder(
            default_page_size=spec.default_page_size, max_page_size=spec.max_page_size, sorts=spec.sorts,
            filters=spec.filters, fields=table.sortable, includes=spec.includes, default_sort=spec.default_sort)
        self._columns = table.columns
        self._logger = logger

    def openapi_hints(self, name: str = "", *, output: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """Operation hints for x/openapi, keyed by the route names :func:`register_resource_routes` gives
        (``name`` defaults to the spec's). ``output`` replaces the record schema when a transformer reshapes it."""
        return resource_hints(self.repository.spec, name or self.spec.name, sorts=self.spec.sorts,
                              filters=self.spec.filters, max_page_size=self.spec.max_page_size,
                              max_batch=self.spec.max_batch, output=output)

    # --- plumbing -----------------------------------------------------------------------------------------
    def _output(self, record: Record, fields: Iterable[str] = ()) -> Mapping[str, Any]:
        out = self.spec.transformer(record) if self.spec.transformer is not None else record
        wanted = set(fields)
        if wanted:
            out = {k: v for k, v in out.items() if k in wanted or k == "id"}
        return out

    def _validate(self, body: Any, full: bool) -> dict[str, Any]:
        if self.spec.validator is not None:
            return dict(self.spec.validator(body, full))
        return validate_record(self._columns, body, full)

    def _failure(self, exc: Exception, action: str) -> APIError:
        if isinstance(exc, APIError):
            return exc
        if isinstance(exc, HookRejected):
            self._log("hook rejected request", action, exc)
            return APIError(None, "request rejected", status=exc.status, code=exc.code)
        if isinstance(exc, DuplicateError):
            return APIError(ErrorType.CONFLICT, "a resource with this value already exists",
                            code=ErrorCode.DUPLICATE_VALUE, details={"field": exc.column})
        self._log("resource storage failure", action, exc)
        return APIError(ErrorType.INTERNAL, "internal error")

    def _log(self, message: str, action: str, exc: Exception) -> None:
        if self._logger is not None:
            self._logger.error(message, {"resource": self.spec.name, "action": action,
                                         "error": f"{type(exc).__name__}: {exc}"})

    async def _guarded(self, action: str, work: Callable[[], Any]) -> Any:
        try:
            return await work()
        except (APIError, HookRejected, RepositoryError) as exc:
            raise self._failure(exc, action) from None

    # --- actions ------------------------------------------------------------------------------------------
    async def index(self, request: Request) -> EnvelopeResponse:
        query = self.query_builder.parse(request.query_params)

        async def work() -> EnvelopeResponse:
            hooks = self.spec.hooks
            q = await hooks.before_list(request, query)
            records = await hooks.after_list(request, await self.repository.find_all(q))
            total = await self.repository.count(q)
            pages = (total + q.limit - 1) // q.limit if total else 0
            pagination = {"page": q.page, "page_size": q.limit, "total_items": total, "total_pages": pages,
                          "has_next": q.offset + len(records) < total, "has_prev": q.offset > 0}
            return EnvelopeResponse([self._output(r, q.fields) for r in records], {"pagination": pagination})

        result: EnvelopeResponse = await self._guarded("index", work)
        return result

    async def show(self, request: Request) -> EnvelopeResponse:
        record_id = _record_id(request)
        fields = self.query_builder.parse({"fields": request.query_params.get("fields", "")}).fields

        async def work() -> EnvelopeResponse:
            record = await self.repository.find_by_id(record_id)
            if record is None:
                raise APIError(ErrorType.NOT_FOUND, "resource not found")
            return EnvelopeResponse(self._output(record, fields))

        result: EnvelopeResponse = await self._guarded("show", work)
        return result

    async def create(self, request: Request) -> EnvelopeResponse:
        values = self._validate(await request.json(), True)

        async def work() -> EnvelopeResponse:
            hooks = self.spec.hooks
            record = await self.repository.create(await hooks.before_create(request, values))
            await hooks.after_create(request, record)
            return EnvelopeResponse(self._output(record), status=201,
                                    headers={"Location": f"{request.path.rstrip('/')}/{record['id']}"})

        result: EnvelopeResponse = await self._guarded("create", work)
        return result

    async def _change(self, request: Request, full: bool) -> EnvelopeResponse:
        record_id = _record_id(request)
        values = self._validate(await request.json(), full)

        async def work() -> EnvelopeResponse:
            hooks = self.spec.hooks
            record = await self.repository.update(record_id, await hooks.before_update(request, record_id, values))
            if record is None:
                raise APIError(ErrorType.NOT_FOUND, "resource not found")
            await hooks.after_update(request, record)
            return EnvelopeResponse(self._output(record))

        result: EnvelopeResponse = await self._guarded("update" if full else "patch", work)
        return result

    async def update(self, request: Request) -> EnvelopeResponse:
        return await self._change(request, True)

    async def patch(self, request: Request) -> EnvelopeResponse:
        return await self._change(request, False)

    async def delete(self, request: Request) -> Response:
        record_id = _record_id(request)

        async def work() -> Response:
            await self.spec.hooks.before_delete(request, record_id)
            if not await self.repository.delete(record_id):
                raise APIError(ErrorType.NOT_FOUND, "resource not found")
            await self.spec.hooks.after_delete(request, record_id)
            return Response(b"", 204)

        result: Response = await self._guarded("delete", work)
        return result

    async def head(self, request: Request) -> Response:
        if request.path_params.get("id") is None:
            query = self.query_builder.parse(request.query_params)
            total = await self._guarded("head", lambda: self.repository.count(query))
            return Response(b"", 200, headers={"X-Total-Count": str(total)})
        record_id = _record_id(request)
        found = await self._guarded("head", lambda: self.repository.exists(record_id))
        if not found:
            raise APIError(ErrorType.NOT_FOUND, "resource not found")
        return Response(b"", 200)

    async def options(self, request: Request) -> Response:
        return Response(b"", 204, headers=allow_headers(request))

    # --- batch --------------------------------------------------------------------------------------------
    def _batch_items(self, body: Any, key: str) -> list[Any]:
        items = body.get(key) if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise _FieldsError([{"path": key, "reason": "expected an array"}])
        if not items:
            raise _FieldsError([{"path": key, "reason": "must not be empty"}])
        if len(items) > self.spec.max_batch:
            raise _FieldsError([{"path": key, "reason": f"at most {self.spec.max_batch} items per batch"}])
        return items

    async def batch_create(self, request: Request) -> EnvelopeResponse:
        items = self._batch_items(await request.json(), "items")
        created: list[Any] = []
        errors: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            try:
                values = self._validate(item, True)
                hooks = self.spec.hooks
                record = await self.repository.create(await hooks.before_create(request, values))
                await hooks.after_create(request, record)
                created.append(self._output(record))
            except (APIError, HookRejected, RepositoryError) as exc:
                failure = self._failure(exc, "batch_create")
                entry: dict[str, Any] = {"index": index, "id": None, "message": failure.message,
                                         "code": failure.code}
                if failure.details.get("fields"):
                    entry["fields"] = failure.details["fields"]
                errors.append(entry)
        result = BatchResult(len(created), len(errors), len(items), errors, created)
        return EnvelopeResponse(result.to_dict())

    async def batch_delete(self, request: Request) -> EnvelopeResponse:
        ids = self._batch_items(await request.json(), "ids")
        deleted: list[int] = []
        errors: list[dict[str, Any]] = []
        for index, raw in enumerate(ids):
            try:
                if type(raw) is not int or not 0 < raw <= _INT64_MAX:
                    raise APIError(ErrorType.NOT_FOUND, "resource not found")
                await self.spec.hooks.before_delete(request, raw)
                if not await self.repository.delete(raw):
                    raise APIError(ErrorType.NOT_FOUND, "resource not found")
                await self.spec.hooks.after_delete(request, raw)
                deleted.append(raw)
            except (APIError, HookRejected, RepositoryError) as exc:
                failure = self._failure(exc, "batch_delete")
                shown = raw if isinstance(raw, (int, str)) and len(str(raw)) <= 40 else None
                errors.append({"index": index, "id": shown, "message": failure.message, "code": failure.code})
        result = BatchResult(len(deleted), len(errors), len(ids), errors, deleted)
        return EnvelopeResponse(result.to_dict())
