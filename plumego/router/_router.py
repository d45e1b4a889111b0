"""The segment-trie router: registration, groups, mounts, reverse URLs and ASGI dispatch.

Per method: a dict for fully static paths plus a segment trie for patterns. Matching is
O(path depth), static > param > catch-all per segment, with backtracking to the next alternative
when a branch dead-ends. Misses answer the canonical JSON envelope (404, or 405 + sorted Allow).
Imports only the standard library and plumego.contract.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, unquote

from plumego.contract import (
    SCOPE_PATH_PARAMS,
    SCOPE_ROUTE,
    APIError,
    ASGIApp,
    ErrorResponse,
    ErrorType,
    Handler,
    HandlerApp,
    Middleware,
    Receive,
    RouteContext,
    Scope,
    Send,
)

from ._pattern import PARAM, STATIC, PatternError, Segment, normalize_prefix, parse_pattern

__all__ = [
    "METHOD_ANY",
    "METHOD_WEBSOCKET",
    "RouteError",
    "RouteGroup",
    "RouteInfo",
    "Router",
    "URLBuildError",
]

METHOD_ANY: Final = "ANY"
METHOD_WEBSOCKET: Final = "WEBSOCKET"
"""Pseudo-method under which websocket routes are registered."""

_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_MOUNT_PARAM: Final = "mount_path"
# Go url.PathEscape keeps these sub-delims unescaped inside a path segment.
_SEGMENT_SAFE: Final = "$&+=:@"


class RouteError(ValueError):
    """A route could not be registered: ``router add_route <METHOD> <path>: <reason>``."""

    def __init__(self, method: str, path: str, reason: str) -> None:
        super().__init__(f"router add_route {method} {path}: {reason}")
        self.method = method
        self.path = path
        self.reason = reason


class URLBuildError(LookupError):
    """A reverse URL could not be built (unknown name, unknown/missing/empty parameter)."""


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """One registered route, as listed by :meth:`Router.routes`."""

    method: str
    path: str
    name: str = ""
    tags: tuple[str, ...] = ()

    @property
    def has_wildcard(self) -> bool:
        return "/*" in self.path

    def to_dict(self) -> dict[str, Any]:
        """Go ``RouteInfo`` JSON: ``{"method","path","meta":{"name"?,"tags"?}}``."""
        meta: dict[str, Any] = {}
        if self.name:
            meta["name"] = self.name
        if self.tags:
            meta["tags"] = list(self.tags)
        return {"method": self.method, "path": self.path, "meta": meta}


class _Route:
    __slots__ = ("info", "context", "segments", "param_names", "app", "is_mount", "endpoint")

    def __init__(self, info: RouteInfo, segments: tuple[Segment, ...], app: ASGIApp, is_mount: bool,
                 endpoint: Any = None) -> None:
        self.endpoint = endpoint
        self.info = info
        self.context = RouteContext(info.method, info.path, info.name, info.tags)
        self.segments = segments
        self.param_names = tuple(s.value for s in segments if s.kind != STATIC)
        self.app = app
        self.is_mount = is_mount


class _Node:
    __slots__ = ("static", "param", "param_name", "wildcard", "route")

    def __init__(self) -> None:
        self.static: dict[str, _Node] | None = None
        self.param: _Node | None = None
        self.param_name = ""
        self.wildcard: _Route | None = None
        self.route: _Route | None = None


class _MethodTable:
    __slots__ = ("static_routes", "root", "has_dynamic")

    def __init__(self) -> None:
        # Keyed by the path without leading/trailing "/" ("" is the root), the same key dispatch computes.
        self.static_routes: dict[str, _Route] = {}
        self.root = _Node()
        self.has_dynamic = False

    def insert(self, route: _Route) -> str | None:
        """Add ``route``; returns a conflict reason instead of raising (caller formats the error).

        Conflicts are found before anything is mutated, so a rejected route leaves no trace.
        """
        segments = route.segments
        if all(s.kind == STATIC for s in segments):
            key = "/".join(s.value for s in segments)
            if key in self.static_routes:
                return "duplicate route registration"
            self.static_routes[key] = route
            return None
        reason = self._conflict(segments)
        if reason is not None:
            return reason
        node = self.root
        for seg in segments:
            if seg.kind == STATIC:
                if node.static is None:
                    node.static = {}
                child = node.static.get(seg.value)
                if child is None:
                    child = node.static[seg.value] = _Node()
                node = child
            elif seg.kind == PARAM:
                if node.param is None:
                    node.param = _Node()
                    node.param_name = seg.value
                node = node.param
            else:
                node.wildcard = route
                break
        else:
            node.route = route
        self.has_dynamic = True
        return None

    def _conflict(self, segments: tuple[Segment, ...]) -> str | None:
        node: _Node | None = self.root
        for seg in segments:
            if node is None:
                return None  # new branch: nothing to collide with
            if seg.kind == STATIC:
                node = node.static.get(seg.value) if node.static is not None else None
            elif seg.kind == PARAM:
                if node.param is not None and node.param_name != seg.value:
                    return f"parameter name mismatch: ':{seg.value}' vs existing ':{node.param_name}'"
                node = node.param
            else:
                existing = node.wildcard
                if existing is None:
                    return None
                if existing.param_names[-1] != seg.value:
                    return f"parameter name mismatch: '*{seg.value}' vs existing '*{existing.param_names[-1]}'"
                return "duplicate route registration"
        if node is not None and node.route is not None:
            return "duplicate route registration"
        return None

    def match(self, key: str) -> tuple[_Route, dict[str, str]] | None:
        """Match a path key (no leading/trailing ``/``) to (route, params)."""
        route = self.static_routes.get(key)
        if route is not None:
            return route, {}
        if not self.has_dynamic or not key or "//" in key:
            return None
        return self._match_segments(key.split("/"))

    def match_segments(self, segs: list[str]) -> tuple[_Route, dict[str, str]] | None:
        """Match decoded segments, some holding a ``/`` (an encoded slash): only parameters can take those."""
        if not self.has_dynamic or not segs or "" in segs:
            return None
        return self._match_segments(segs)

    def _match_segments(self, segs: list[str]) -> tuple[_Route, dict[str, str]] | None:
        # Fast path: greedy descent filling the params dict directly. Only when it passed a branch
        # point (a static child taken where a param/catch-all sibling exists) and then dead-ends do
        # we pay for the backtracking walk.
        node = self.root
        params: dict[str, str] = {}
        branched = False
        i = 0
        for seg in segs:
            static = node.static
            if static is not None:
                child = static.get(seg)
                if child is not None:
                    if node.param is not None or node.wildcard is not None:
                        branched = True
                    node = child
                    i += 1
                    continue
            param = node.param
            if param is not None:
                if node.wildcard is not None:
                    branched = True
                params[node.param_name] = seg
                node = param
                i += 1
                continue
            wildcard = node.wildcard
            if wildcard is not None:
                params[wildcard.param_names[-1]] = "/".join(segs[i:])
                return wildcard, params
            break
        else:
            found = node.route
            if found is not None:
                return found, params
        if not branched:
            return None
        return self._match_backtracking(segs)

    def _match_backtracking(self, segs: list[str]) -> tuple[_Route, dict[str, str]] | None:
        n = len(segs)
        values: list[str] = []
        node = self.root
        i = 0
        alt = 0  # next alternative to try at (node, i): 0 static, 1 param, 2 catch-all
        stack: list[tuple[int, _Node, int]] = []
        while True:
            if alt == 0:
                if i == n:
                    found = node.route
                    if found is not None:
                        return found, dict(zip(found.param_names, values))
                elif node.static is not None:
                    child = node.static.get(segs[i])
                    if child is not None:
                        if node.param is not None or node.wildcard is not None:
                            stack.append((i, node, len(values)))
                        node = child
                        i += 1
                        continue
                alt = 1
            if alt == 1:
                if i < n and node.param is not None:
                    if node.wildcard is not None:
                        stack.append((i, node, -1 - len(values)))  # negative: resume at catch-all
                    values.append(segs[i])
                    node = node.param
                    i += 1
                    alt = 0
                    continue
            wildcard = node.wildcard
            if i < n and wildcard is not None:
                values.append("/".join(segs[i:]))
                return wildcard, dict(zip(wildcard.param_names, values))
            if not stack:
                return None
            i, node, mark = stack.pop()
            if mark >= 0:
                alt = 1
            else:
                alt = 2
                mark = -1 - mark
            del values[mark:]


def _raw_segments(raw: bytes, root_path: str) -> list[str]:
    """The segments of ``raw_path`` (less ``root_path``), each percent-decoded on its own."""
    text = bytes(raw).decode("latin-1")
    if root_path and text.startswith(root_path):
        rest = text[len(root_path):]
        if not rest or rest[0] == "/":
            text = rest
    return [unquote(seg) for seg in text.strip("/").split("/")]


def _build_chain(middleware: Sequence[Middleware], app: ASGIApp) -> ASGIApp:
    for mw in reversed(middleware):
        app = mw(app)
    return app


class _MountApp:
    """Calls a mounted ASGI app with ``root_path`` extended by the prefix; ``path`` stays the full path."""

    __slots__ = ("app", "prefix")

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        child = dict(scope)
        child["root_path"] = scope.get("root_path", "") + self.prefix
        await self.app(child, receive, send)


class _Registrar:
    """Route-registration verbs shared by :class:`Router` and :class:`RouteGroup`."""

    _router: Router
    _prefix: str
    _middleware: tuple[Middleware, ...]

    def add_route(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        name: str = "",
        tags: Iterable[str] = (),
        middleware: Sequence[Middleware] = (),
    ) -> RouteInfo:
        """Register ``handler`` (``Request -> Response`` or a plain value, async or sync) for ``method`` and ``path``.

        A return annotation that can never become a response (``-> set``, an arbitrary class) is refused here.
        """
        full = self._prefix + path if path else (self._prefix or "/")
        if not callable(handler):
            raise RouteError(method, full, "handler must be callable")
        try:
            endpoint = HandlerApp(handler)
        except TypeError as exc:
            raise RouteError(method, full, str(exc)) from exc
        return self._router._add(method, full, endpoint, name, tags, (*self._middleware, *middleware), False)

    def add_asgi_route(
        self,
        method: str,
        path: str,
        app: ASGIApp,
        *,
        name: str = "",
        tags: Iterable[str] = (),
        middleware: Sequence[Middleware] = (),
    ) -> RouteInfo:
        """Register a raw ASGI app as the endpoint (it receives the scope with path params set)."""
        full = self._prefix + path if path else (self._prefix or "/")
        if not callable(app):
            raise RouteError(method, full, "endpoint must be an ASGI callable")
        return self._router._add(method, full, app, name, tags, (*self._middleware, *middleware), False)

    def get(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("GET", path, handler, **options)

    def post(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("POST", path, handler, **options)

    def put(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("PUT", path, handler, **options)

    def patch(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("PATCH", path, handler, **options)

    def delete(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("DELETE", path, handler, **options)

    def head(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("HEAD", path, handler, **options)

    def options(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        return self.add_route("OPTIONS", path, handler, **options)

    def any(self, path: str, handler: Handler, **options: Any) -> RouteInfo:
        """Match every method not registered explicitly for this path."""
        return self.add_route(METHOD_ANY, path, handler, **options)

    def websocket(self, path: str, app: ASGIApp, *, name: str = "", middleware: Sequence[Middleware] = ()) -> RouteInfo:
        """Register a raw ASGI app for ``websocket`` scopes on ``path``."""
        return self.add_asgi_route(METHOD_WEBSOCKET, path, app, name=name, middleware=middleware)

    def mount(self, prefix: str, app: ASGIApp, *, name: str = "") -> RouteInfo:
        """Serve every method (http and websocket) under ``prefix`` with another ASGI app.

        The mounted app sees ``root_path`` extended by the prefix and the unchanged full ``path``
        (ASGI spec; what Starlette, hypercorn and asgiref's WSGI adapter expect). Routes registered
        here at a more specific path still win (static/param beat the mount's catch-all).
        """
        if not callable(app):
            raise RouteError(METHOD_ANY, prefix, "mounted app must be an ASGI callable")
        base = self._prefix + normalize_prefix(prefix)
        endpoint = _build_chain(self._middleware, _MountApp(app, base))
        info = self._router._add(METHOD_ANY, base or "/", endpoint, name, ("mount",), (), True)
        self._router._add(METHOD_ANY, base + "/*" + _MOUNT_PARAM, endpoint, "", ("mount",), (), True)
        return info

    def group(self, prefix: str, *middleware: Middleware) -> RouteGroup:
        """A sub-group sharing this router; its middleware wraps every route registered through it
        (this group's middleware runs outside the sub-group's)."""
        return RouteGroup(self._router, self._prefix + normalize_prefix(prefix), (*self._middleware, *middleware))


class RouteGroup(_Registrar):
    """Registers routes under a prefix (and optional group middleware) on a shared :class:`Router`."""

    __slots__ = ("_router", "_prefix", "_middleware")

    def __init__(self, router: Router, prefix: str, middleware: tuple[Middleware, ...]) -> None:
        self._router = router
        self._prefix = prefix
        self._middleware = middleware

    @property
    def prefix(self) -> str:
        return self._prefix


class Router(_Registrar):
    """HTTP router and ASGI app. Register routes, ``freeze()``, then ``await router(scope, receive, send)``.

    Trailing slashes are ignored (``/users/1/`` matches ``/users/:id``, no redirect); repeated leading
    slashes collapse; an empty inner segment (``/a//b``) never matches. Segments come from the raw path
    (``scope["raw_path"]``) when it has an encoded slash: ``/api%2fv1%2fitems`` is one segment
    ``api/v1/items`` that no static route matches (a parameter takes it whole), never ``/api/v1/items``.
    ``HEAD`` falls back to ``GET``, then to ``ANY``. With ``method_not_allowed`` on (default), a path known
    under other methods answers 405 with a sorted ``Allow`` header; otherwise 404. Both use the canonical JSON
    error envelope.
    """

    def __init__(self, *, method_not_allowed: bool = True) -> None:
        self._router = self
        self._prefix = ""
        self._middleware = ()
        self._tables: dict[str, _MethodTable] = {}
        self._routes: list[_Route] = []
        self._named: dict[str, _Route] = {}
        self._frozen = False
        self._method_not_allowed = method_not_allowed
        self._get: _MethodTable | None = None
        self._any: _MethodTable | None = None

    # --- configuration ------------------------------------------------------------------------
    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        """Reject any further registration. Idempotent."""
        self._frozen = True

    @property
    def method_not_allowed(self) -> bool:
        return self._method_not_allowed

    def set_method_not_allowed(self, enabled: bool) -> None:
        """Toggle 405 answers; a no-op once frozen (like Go)."""
        if not self._frozen:
            self._method_not_allowed = enabled

    # --- registration -------------------------------------------------------------------------
    def _add(
        self,
        method: str,
        path: str,
        endpoint: ASGIApp,
        name: str,
        tags: Iterable[str],
        middleware: Sequence[Middleware],
        is_mount: bool,
    ) -> RouteInfo:
        if not isinstance(method, str) or not _TOKEN.match(method):
            raise RouteError(str(method), path, "invalid HTTP method")
        if self._frozen:
            raise RouteError(method, path, "router is frozen")
        try:
            canonical, segments = parse_pattern(path)
        except PatternError as exc:
            raise RouteError(method, path, str(exc)) from None
        if name and name in self._named:
            raise RouteError(method, path, f"duplicate route name {name!r}")
        app = _build_chain(middleware, endpoint) if middleware else endpoint
        info = RouteInfo(method, canonical, name, tuple(tags))
        route = _Route(info, segments, app, is_mount, getattr(endpoint, "__wrapped__", endpoint))
        table = self._tables.get(method)
        if table is None:
            table = _MethodTable()
        conflict = table.insert(route)
        if conflict is not None:
            raise RouteError(method, canonical, conflict)
        self._tables[method] = table
        self._get = self._tables.get("GET")
        self._any = self._tables.get(METHOD_ANY)
        self._routes.append(route)
        if name:
            self._named[name] = route
        return info

    # --- introspection ------------------------------------------------------------------------
    def routes(self) -> list[RouteInfo]:
        """All routes, sorted by method then path."""
        return sorted((r.info for r in self._routes), key=lambda i: (i.method, i.path))

    def endpoints(self) -> list[tuple[RouteInfo, Any]]:
        """Each route with what was registered for it (the handler, or the raw ASGI app), sorted like
        :meth:`routes`. For tools that describe an app (x/openapi reads handler signatures from here)."""
        found = [(r.info, r.endpoint) for r in self._routes]
        return sorted(found, key=lambda pair: (pair[0].method, pair[0].path))

    def format_routes(self) -> str:
        """Human listing like Go ``Router.Print``."""
        lines = ["Registered Routes:"]
        for info in self.routes():
            lines.append(f"{info.method:<6} {info.path}" + ("   [wildcard]" if info.has_wildcard else ""))
        return "\n".join(lines) + "\n"

    def has_route(self, name: str) -> bool:
        return name in self._named

    def named_routes(self) -> dict[str, RouteInfo]:
        return {name: r.info for name, r in self._named.items()}

    def url(self, name: str, /, **params: Any) -> str:
        """Reverse URL for a named route; values are percent-escaped per path segment.

        Raises URLBuildError for an unknown name, an unknown key, or a missing/empty parameter.
        """
        route = self._named.get(name)
        if route is None:
            raise URLBuildError(f"router url: unknown route name {name!r}")
        unknown = set(params) - set(route.param_names)
        if unknown:
            raise URLBuildError(f"router url {name}: unknown parameter(s) {sorted(unknown)}")
        if not route.segments:
            return "/"
        out: list[str] = []
        for seg in route.segments:
            if seg.kind == STATIC:
                out.append(seg.value)
                continue
            value = params.get(seg.value)
            text = "" if value is None else str(value)
            if not text:
                raise URLBuildError(f"router url {name}: missing or empty parameter {seg.value!r}")
            if seg.kind == PARAM:
                out.append(quote(text, safe=_SEGMENT_SAFE))
            else:
                out.append("/".join(quote(part, safe=_SEGMENT_SAFE) for part in text.strip("/").split("/")))
        return "/" + "/".join(out)

    # --- matching -----------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[RouteInfo, dict[str, str]] | None:
        """Resolve ``method`` + ``path`` to (route, params), or None. Same rules as dispatch."""
        found = self._lookup(method, path.strip("/"))
        if found is None:
            return None
        return found[0].info, found[1]

    def _lookup(self, method: str, key: str) -> tuple[_Route, dict[str, str]] | None:
        table = self._tables.get(method)
        if table is not None:
            found = table.match(key)
            if found is not None:
                return found
        if method == "HEAD" and self._get is not None:
            found = self._get.match(key)
            if found is not None:
                return found
        if self._any is not None:
            return self._any.match(key)
        return None

    def allowed_methods(self, path: str) -> list[str]:
        """Methods (sorted, ``HEAD`` implied by ``GET``, excluding ANY/WEBSOCKET) that match ``path``."""
        key = path.strip("/")
        allowed = {
            m
            for m, table in self._tables.items()
            if m not in (METHOD_ANY, METHOD_WEBSOCKET) and table.match(key) is not None
        }
        if "GET" in allowed:
            allowed.add("HEAD")
        return sorted(allowed)

    # --- ASGI ---------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        root_path = scope.get("root_path")
        if root_path and path.startswith(root_path):
            rest = path[len(root_path):]
            if not rest or rest[0] == "/":
                path = rest
        raw = scope.get("raw_path")
        if raw and b"%" in raw and (b"%2f" in raw or b"%2F" in raw):
            segs = _raw_segments(raw, root_path or "")
            if any("/" in seg for seg in segs):
                await self._dispatch_encoded(scope, receive, send, segs)
                return
        key = path.strip("/")
        if scope["type"] == "http":
            found = self._lookup(scope["method"], key)
            if found is not None:
                route = found[0]
                if not route.is_mount:
                    scope[SCOPE_ROUTE] = route.context
                    scope[SCOPE_PATH_PARAMS] = found[1]
                await route.app(scope, receive, send)
                return
            await self._miss(scope, receive, send, key)
            return
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, key)
            return
        raise RuntimeError(f"router cannot handle scope type {scope['type']!r}")

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, key: str) -> None:
        found: tuple[_Route, dict[str, str]] | None = None
        table = self._tables.get(METHOD_WEBSOCKET)
        if table is not None:
            found = table.match(key)
        if found is None and self._any is not None:
            candidate = self._any.match(key)
            if candidate is not None and candidate[0].is_mount:
                found = candidate
        if found is None:
            await ErrorResponse(APIError(ErrorType.NOT_FOUND, "not found"))(scope, receive, send)
            return
        route = found[0]
        if not route.is_mount:
            scope[SCOPE_ROUTE] = route.context
            scope[SCOPE_PATH_PARAMS] = found[1]
        await route.app(scope, receive, send)

    async def _dispatch_encoded(self, scope: Scope, receive: Receive, send: Send, segs: list[str]) -> None:
        """Dispatch a path whose raw form has an encoded ``/`` inside a segment (``/api%2fv1%2fitems``).

        Matching runs on the raw path's segments, each decoded on its own, so an encoded slash never acts as a
        separator: a proxy that filters on the raw path and the router agree on what was asked for.
        """
        found: tuple[_Route, dict[str, str]] | None = None
        kind = scope["type"]
        if kind == "http":
            method = scope["method"]
            for table in (self._tables.get(method), self._get if method == "HEAD" else None, self._any):
                if table is not None:
                    found = table.match_segments(segs)
                    if found is not None:
                        break
        elif kind == "websocket":
            table = self._tables.get(METHOD_WEBSOCKET)
            found = table.match_segments(segs) if table is not None else None
            if found is None and self._any is not None:
                candidate = self._any.match_segments(segs)
                if candidate is not None and candidate[0].is_mount:
                    found = candidate
        else:
            raise RuntimeError(f"router cannot handle scope type {kind!r}")
        if found is not None:
            route = found[0]
            if not route.is_mount:
                scope[SCOPE_ROUTE] = route.context
                scope[SCOPE_PATH_PARAMS] = found[1]
            await route.app(scope, receive, send)
            return
        if kind == "websocket":
            await ErrorResponse(APIError(ErrorType.NOT_FOUND, "not found"))(scope, receive, send)
            return
        if self._method_not_allowed:
            allowed = {m for m, table in self._tables.items()
                       if m not in (METHOD_ANY, METHOD_WEBSOCKET) and table.match_segments(segs) is not None}
            if "GET" in allowed:
                allowed.add("HEAD")
            if allowed:
                err = APIError(ErrorType.METHOD_NOT_ALLOWED, "method not allowed")
                await ErrorResponse(err, {"Allow": ", ".join(sorted(allowed))})(scope, receive, send)
                return
        await ErrorResponse(APIError(ErrorType.NOT_FOUND, "not found"))(scope, receive, send)

    async def _miss(self, scope: Scope, receive: Receive, send: Send, key: str) -> None:
        if self._method_not_allowed:
            allowed = self.allowed_methods(key)
            if allowed:
                err = APIError(ErrorType.METHOD_NOT_ALLOWED, "method not allowed")
                await ErrorResponse(err, {"Allow": ", ".join(allowed)})(scope, receive, send)
                return
        await ErrorResponse(APIError(ErrorType.NOT_FOUND, "not found"))(scope, receive, send)
