"""API versioning middleware: the version from the Accept header, the path, a query parameter or a custom header.

Owns :class:`VersionConfig`, :func:`versioning` (pure ASGI middleware) and :func:`api_version`. The version lands
in the scope (``plumego.api_version``) and in the ``X-API-Version`` response header; a version that is not
supported answers 400 ``unsupported_version`` (Go's code) listing the supported ones. With the path strategy the
``/v2`` prefix is stripped before routing, so one route table serves every version. Imports the standard library
and plumego.contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import parse_qsl

from plumego.contract import (
    APIError,
    ASGIApp,
    ErrorResponse,
    ErrorType,
    Message,
    Middleware,
    Receive,
    Request,
    Scope,
    Send,
)

__all__ = ["SCOPE_API_VERSION", "VersionConfig", "api_version", "versioning"]

SCOPE_API_VERSION: Final = "plumego.api_version"
Strategy = Literal["accept", "path", "query", "header"]
_VERSION: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}")
_LOOKS_LIKE_VERSION: Final = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6}){0,2}")


@dataclass(frozen=True, slots=True)
class VersionConfig:
    """Go ``versioning.Config``. ``accept``: ``Accept: application/<vendor_prefix>.v2+json``; ``path``:
    ``<path_prefix>2/...``; ``query``: ``?<param_name>=2``; ``header``: ``<header_name>: 2``."""

    strategy: Strategy = "accept"
    default_version: str = "1"
    supported_versions: tuple[str, ...] = ("1",)
    vendor_prefix: str = "vnd.api"
    path_prefix: str = "/v"
    param_name: str = "version"
    header_name: str = "X-API-Version"
    strip_version_from_path: bool = True

    def __post_init__(self) -> None:
        if self.strategy not in ("accept", "path", "query", "header"):
            raise ValueError(f"unknown versioning strategy {self.strategy!r}")
        if self.default_version not in self.supported_versions:
            raise ValueError("default_version must be one of supported_versions")


def api_version(request: Request) -> str:
    """The version the versioning middleware chose for this request (``""`` without the middleware)."""
    return str(request.scope.get(SCOPE_API_VERSION, ""))


def _unsupported(given: str, config: VersionConfig) -> APIError:
    shown = given[:32]
    return APIError(ErrorType.BAD_REQUEST, f"API version {shown!r} is not supported", code="unsupported_version",
                    details={"version": shown, "supported": list(config.supported_versions)})


class _Versioning:
    __slots__ = ("app", "config", "_accept", "_header", "_response_header")

    def __init__(self, app: ASGIApp, config: VersionConfig) -> None:
        self.app = app
        self.config = config
        vendor = re.escape(config.vendor_prefix)
        self._accept = re.compile(rf"application/{vendor}\.v([^+;,\s]+)\+json", re.IGNORECASE)
        self._header = config.header_name.lower().encode("latin-1")
        self._response_header = config.header_name.encode("latin-1")

    def _header_value(self, scope: Scope, name: bytes) -> str | None:
        for key, value in scope.get("headers", ()):
            if key.lower() == name:
                return str(value.decode("latin-1")).strip()
        return None

    def _found(self, scope: Scope) -> str | None:
        """The version the request asks for, or None when it asks for none."""
        config = self.config
        if config.strategy == "accept":
            accept = self._header_value(scope, b"accept")
            match = self._accept.search(accept) if accept else None
            return match.group(1) if match else None
        if config.strategy == "header":
            return self._header_value(scope, self._header) or None
        if config.strategy == "query":
            query = scope.get("query_string", b"").decode("latin-1")
            for key, value in parse_qsl(query, keep_blank_values=True):
                if key == config.param_name:
                    return str(value)
            return None
        path: str = scope["path"]
        prefix = config.path_prefix
        if not path.startswith(prefix):
            return None
        segment = path[len(prefix):].split("/", 1)[0]
        # "/v2/users" names version 2; "/version/..." or "/videos" is just a path.
        if segment in config.supported_versions or _LOOKS_LIKE_VERSION.fullmatch(segment):
            return segment
        return None

    def _strip(self, scope: Scope, version: str) -> Scope:
        drop = self.config.path_prefix + version
        path: str = scope["path"]
        child = dict(scope)
        child["path"] = path[len(drop):] or "/"
        raw = scope.get("raw_path")
        if isinstance(raw, bytes) and raw.startswith(drop.encode("latin-1")):
            child["raw_path"] = raw[len(drop):] or b"/"
        return child

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        config = self.config
        given = self._found(scope)
        version = config.default_version if given is None else given
        if version not in config.supported_versions or not _VERSION.fullmatch(version):
            await ErrorResponse(_unsupported(version, config))(scope, receive, send)
            return
        if config.strategy == "path" and given is not None and config.strip_version_from_path:
            scope = self._strip(scope, given)
        scope[SCOPE_API_VERSION] = version
        header = (self._response_header, version.encode("latin-1"))

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_version)


def versioning(config: VersionConfig | None = None) -> Middleware:
    """The versioning middleware (Go ``versioning.Middleware``)."""
    chosen = config if config is not None else VersionConfig()

    def wrap(app: ASGIApp) -> ASGIApp:
        return _Versioning(app, chosen)

    return wrap
