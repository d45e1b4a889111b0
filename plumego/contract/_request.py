"""The Request view over an ASGI http scope: lazy headers, query, cookies, body and JSON parsing.

Nothing is parsed until asked for; each part is parsed at most once. Bad JSON raises a clear APIError.
Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from http.cookies import SimpleCookie
from typing import Any, Final
from urllib.parse import parse_qsl

from ._context import (
    SCOPE_PATH_PARAMS,
    RouteContext,
    TraceContext,
    request_id_from_scope,
    route_context_from_scope,
    trace_context_from_scope,
)
from ._errors import APIError, ErrorCode, ErrorType
from ._parsing import JSONBodyError, parse_json_body
from ._types import Receive, Scope

__all__ = ["ClientDisconnect", "Headers", "QueryParams", "Request"]

_EMPTY_PARAMS: Final[Mapping[str, str]] = {}


class ClientDisconnect(Exception):
    """The client went away while the request body was being read."""


class _MultiMap(Mapping[str, str]):
    """Read-only multi-valued mapping: ``m[k]``/``get`` give the first value, ``getlist`` all of them."""

    __slots__ = ("_items", "_first")

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items
        first: dict[str, str] = {}
        for key, value in items:
            first.setdefault(key, value)
        self._first = first

    def __getitem__(self, key: str) -> str:
        return self._first[self._norm(key)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._norm(key) in self._first

    def _norm(self, key: str) -> str:
        return key

    def getlist(self, key: str) -> list[str]:
        key = self._norm(key)
        return [v for k, v in self._items if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


class Headers(_MultiMap):
    """Case-insensitive request headers (names lower-cased, values decoded as latin-1)."""

    __slots__ = ()

    @classmethod
    def from_raw(cls, raw: list[tuple[bytes, bytes]] | Any) -> Headers:
        return cls([(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw])

    def _norm(self, key: str) -> str:
        return key.lower()


class QueryParams(_MultiMap):
    """Query-string parameters (blank values kept)."""

    __slots__ = ()


class Request:
    """An HTTP request over ASGI. Build one per request: ``Request(scope, receive)``."""

    __slots__ = ("scope", "_receive", "_headers", "_query", "_cookies", "_body", "_json", "_consumed")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self._receive = receive
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._body: bytes | None = None
        self._json: Any = _UNSET
        self._consumed = False

    # --- request line -------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return str(self.scope["method"])

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    @property
    def root_path(self) -> str:
        return str(self.scope.get("root_path", ""))

    @property
    def scheme(self) -> str:
        return str(self.scope.get("scheme", "http"))

    @property
    def query_string(self) -> bytes:
        qs = self.scope.get("query_string", b"")
        return qs if isinstance(qs, bytes) else b""

    @property
    def client(self) -> tuple[str, int] | None:
        client = self.scope.get("client")
        return (str(client[0]), int(client[1])) if client else None

    # --- lazily parsed parts -----------------------------------------------------------------
    @property
    def headers(self) -> Headers:
        headers = self._headers
        if headers is None:
            headers = self._headers = Headers.from_raw(self.scope.get("headers", ()))
        return headers

    @property
    def query_params(self) -> QueryParams:
        query = self._query
        if query is None:
            raw = self.query_string.decode("latin-1")
            query = self._query = QueryParams(parse_qsl(raw, keep_blank_values=True))
        return query

    @property
    def cookies(self) -> dict[str, str]:
        cookies = self._cookies
        if cookies is None:
            cookies = {}
            for header in self.headers.getlist("cookie"):
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(header)
                except Exception:  # malformed cookie header: ignore it, like browsers do
                    continue
                for key, morsel in jar.items():
                    cookies.setdefault(key, morsel.value)
            self._cookies = cookies
        return cookies

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    # --- routing carriers --------------------------------------------------------------------
    @property
    def path_params(self) -> Mapping[str, str]:
        params = self.scope.get(SCOPE_PATH_PARAMS)
        return params if params is not None else _EMPTY_PARAMS

    def param(self, name: str, default: str = "") -> str:
        """One path parameter (Go ``router.Param``); ``default`` when absent."""
        params = self.scope.get(SCOPE_PATH_PARAMS)
        if params is None:
            return default
        value = params.get(name)
        return default if value is None else str(value)

    @property
    def route(self) -> RouteContext | None:
        return route_context_from_scope(self.scope)

    @property
    def request_id(self) -> str:
        return request_id_from_scope(self.scope)

    @property
    def trace_context(self) -> TraceContext | None:
        return trace_context_from_scope(self.scope)

    @property
    def state(self) -> dict[str, Any]:
        """The per-request copy of the lifespan state (``scope["state"]``), created if absent."""
        state = self.scope.get("state")
        if state is None:
            state = self.scope["state"] = {}
        assert isinstance(state, dict)
        return state

    # --- body ---------------------------------------------------------------------------------
    async def stream(self) -> AsyncIterator[bytes]:
        """Yield body chunks as they arrive (once); after ``body()`` yields the cached body."""
        if self._body is not None:
            if self._body:
                yield self._body
            return
        if self._consumed:
            raise RuntimeError("request body already consumed by stream()")
        self._consumed = True
        while True:
            message = await self._receive()
            kind = message["type"]
            if kind == "http.request":
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return
            elif kind == "http.disconnect":
                raise ClientDisconnect("client disconnected while sending the body")

    async def body(self) -> bytes:
        body = self._body
        if body is None:
            chunks = [chunk async for chunk in self.stream()]
            body = self._body = b"".join(chunks)
        return body

    async def json(self) -> Any:
        """Parse the body as strict JSON (:func:`parse_json_body`: UTF-8, no BOM, NaN or lone surrogates).
        Empty or malformed bodies raise APIError(bad_request, INVALID_JSON)."""
        if self._json is _UNSET:
            body = await self.body()
            if not body.strip():
                raise APIError(
                    ErrorType.BAD_REQUEST, "request body is empty", code=ErrorCode.INVALID_JSON
                )
            try:
                self._json = parse_json_body(body)
            except JSONBodyError as exc:
                details: dict[str, Any] = {"reason": exc.reason}
                if exc.line:
                    details.update(line=exc.line, column=exc.column)
                raise APIError(
                    ErrorType.BAD_REQUEST,
                    "request body is not valid JSON",
                    code=ErrorCode.INVALID_JSON,
                    details=details,
                ) from exc
        return self._json

    def __repr__(self) -> str:
        return f"Request({self.scope.get('method')!r}, {self.scope.get('path')!r})"


class _Unset:
    __slots__ = ()


_UNSET: Final = _Unset()
