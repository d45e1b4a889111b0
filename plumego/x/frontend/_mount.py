"""A built frontend served from a directory: static files and SPA fallback with Go plumego's rules, precompressed
``.br``/``.gz`` variants, cache headers for the index and the assets, ETag/Last-Modified revalidation and single
byte ranges, behind a canonical root that symlinks cannot escape.

Rules (Go's): the fallback to the index happens only for a path without an extension whose ``Accept`` is empty or
admits HTML (text/html, application/xhtml+xml, ``text/*``, ``*/*``); a missing asset is 404, never the index. A
precompressed variant is served when the client accepts its encoding, with ``Vary: Accept-Encoding``; when the
client refuses identity and no variant fits, 406. Extra headers cannot override content, cache, validator or range
headers. Imports only the standard library and plumego.contract/router.
"""

from __future__ import annotations

import asyncio
import email.utils
import mimetypes
import os
import posixpath
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import unquote

from plumego.contract import (
    SCOPE_PATH_PARAMS,
    APIError,
    ASGIApp,
    ErrorResponse,
    ErrorType,
    Receive,
    Scope,
    Send,
)

__all__ = ["Mount", "RouteRegistrar", "register_from_dir"]

_CHUNK: Final = 64 * 1024
_SMALL: Final = 256 * 1024
_ENCODINGS: Final = (("br", ".br"), ("gzip", ".gz"))
# Headers the caller's ``headers`` option may never set: the mount owns content, caching, validators and ranges.
_PROTECTED_PREFIXES: Final = ("content-",)
_PROTECTED: Final = frozenset({"vary", "cache-control", "expires", "pragma", "etag", "last-modified",
                               "accept-ranges", "age", "transfer-encoding", "connection", "set-cookie"})
_HTML_ACCEPT: Final = ("text/html", "application/xhtml+xml", "*/*", "text/*")
_DEFAULT_TYPES: Final = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
                         ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
                         ".json": "application/json", ".svg": "image/svg+xml", ".wasm": "application/wasm",
                         ".webmanifest": "application/manifest+json", ".map": "application/json",
                         ".txt": "text/plain; charset=utf-8", ".woff2": "font/woff2", ".ico": "image/x-icon"}


class RouteRegistrar(Protocol):
    """A plumego Router or RouteGroup (an App registers through ``app.router``)."""

    def add_asgi_route(self, method: str, path: str, app: ASGIApp, *, name: str = "", tags: Iterable[str] = (),
                       middleware: Any = ()) -> Any: ...


@dataclass(frozen=True, slots=True)
class _File:
    path: str
    size: int
    mtime_ns: int
    body: bytes | None       # small files are read with the stat, in one worker-thread hop


def _check_header(name: str, value: str) -> None:
    lowered = name.strip().lower()
    if not lowered or any(c in name for c in "\r\n:\x00 ") or not name.isascii():
        raise ValueError(f"frontend: invalid header name {name!r}")
    if lowered in _PROTECTED or lowered.startswith(_PROTECTED_PREFIXES):
        raise ValueError(f"frontend: header {name!r} is owned by the mount and cannot be overridden")
    if any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in value):
        raise ValueError(f"frontend: header {name!r} has a control character in its value")


def _accepts_html(accept: str) -> bool:
    if not accept.strip():
        return True
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        if media.strip().lower() in _HTML_ACCEPT and _q(params) != 0:
            return True
    return False


def _q(params: str) -> float | None:
    """The q-value of a header element's parameters: 1.0 when absent, None when invalid (the token is void)."""
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            value = value.strip()
            try:
                q = float(value)
            except ValueError:
                return None
            if not 0 <= q <= 1 or len(value) > 5 or value.startswith(("+", "-")) or "e" in value.lower():
                return None
            return q
    return 1.0


def _encoding_prefs(header: str) -> dict[str, float]:
    prefs: dict[str, float] = {}
    for part in header.split(","):
        token, _, params = part.strip().partition(";")
        token = token.strip().lower()
        if not token:
            continue
        q = _q(params)
        if q is None:           # an invalid q-value voids its token
            continue
        prefs[token] = q
    return prefs


def _choose_encoding(header: str | None, available: Iterable[str]) -> tuple[str | None, bool]:
    """(encoding to serve or None for identity, acceptable at all). RFC 9110 12.5.3 with Go's tie-break: br, then
    gzip, then identity."""
    if header is None:
        return None, True
    prefs = _encoding_prefs(header)
    star = prefs.get("*")
    best: tuple[float, str] | None = None
    for name in available:
        q = prefs.get(name, star if star is not None else 0.0)
        if q > 0 and (best is None or q > best[0]):
            best = (q, name)
    identity_q = prefs.get("identity", star if star is not None else 1.0)
    if best is not None and best[0] >= identity_q:
        return best[1], True
    if identity_q > 0:
        return None, True
    return (best[1], True) if best is not None else (None, False)


def _parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """One ``bytes=`` range -> (start, end inclusive); None to ignore the header (serve all); False when
    unsatisfiable (416)."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None                       # other units and multipart ranges: the whole file (allowed by RFC 9110)
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if not first:
            suffix = int(last)
            if suffix <= 0:
                return False
            return (max(0, size - suffix), size - 1) if size else False
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start < 0 or (last and end < start):
        return None
    if start >= size:
        return False
    return start, min(end, size - 1)


class Mount:
    """Serve the directory ``root`` at ``prefix`` (``""``: the site root). ``index`` must exist. Options:
    ``cache_control`` for assets, ``index_cache_control`` for the index and fallback answers (default
    ``no-cache``), ``fallback`` (SPA, default on), ``precompressed`` (serve ``.br``/``.gz`` siblings),
    ``headers`` (extra, never content/cache/validator/range headers), ``not_found_page``/``error_page`` (files
    under ``root``), ``mime_types`` (``{".ext": "type"}``)."""

    def __init__(self, root: str | os.PathLike[str], *, prefix: str = "", index: str = "index.html",
                 cache_control: str = "", index_cache_control: str = "no-cache", fallback: bool = True,
                 precompressed: bool = False, headers: Mapping[str, str] | None = None,
                 not_found_page: str | None = None, error_page: str | None = None,
                 mime_types: Mapping[str, str] | None = None) -> None:
        base = Path(root)
        if not base.is_dir():
            raise ValueError(f"frontend: root {str(root)!r} is not a directory")
        self.root = os.path.realpath(base)
        if prefix and (not prefix.startswith("/") or prefix.endswith("/") or "*" in prefix or ":" in prefix):
            raise ValueError("frontend: prefix must start with '/', not end with '/', and hold no pattern")
        self.prefix = prefix
        for name, value in (("cache_control", cache_control), ("index_cache_control", index_cache_control)):
            if any(ord(c) < 32 or ord(c) == 127 for c in value):
                raise ValueError(f"frontend: {name} has a control character")
        self.cache_control = cache_control
        self.index_cache_control = index_cache_control
        self.fallback = fallback
        self.precompressed = precompressed
        for name, value in (headers or {}).items():
            _check_header(name, value)
        self.extra_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
        self.types = dict(_DEFAULT_TYPES)
        for ext, media in (mime_types or {}).items():
            if not ext.startswith(".") or ext.count(".") != 1 or len(ext) < 2 or "/" not in media:
                raise ValueError(f"frontend: mime type key {ext!r} must be one extension like '.wasm'")
            self.types[ext.lower()] = media
        self.index = index
        index_path = self._inside(index)
        if index_path is None or not os.path.isfile(index_path):
            raise ValueError(f"frontend: index {index!r} does not exist under {self.root}")
        self.index_path: str = index_path
        self.not_found_page = self._page(not_found_page, "not_found_page")
        self.error_page = self._page(error_page, "error_page")
        self.variants: dict[str, tuple[str, ...]] = self._scan() if precompressed else {}

    def _page(self, name: str | None, option: str) -> str | None:
        if name is None:
            return None
        path = self._inside(name)
        if path is None or not os.path.isfile(path):
            raise ValueError(f"frontend: {option} {name!r} does not exist under {self.root}")
        return path

    def _scan(self) -> dict[str, tuple[str, ...]]:
        """Precompressed siblings, found once at construction: ``{real path of the original: (encodings...)}``."""
        found: dict[str, list[str]] = {}
        for directory, _, files in os.walk(self.root):
            names = set(files)
            for name in files:
                for encoding, suffix in _ENCODINGS:
                    original = name[: -len(suffix)]
                    variant = os.path.realpath(os.path.join(directory, name))
                    if (name.endswith(suffix) and original in names
                            and variant.startswith(self.root + os.sep)):
                        found.setdefault(os.path.join(directory, original), []).append(encoding)
        return {path: tuple(e for e, _ in _ENCODINGS if e in encs) for path, encs in found.items()}

    def _inside(self, relative: str) -> str | None:
        """The real path of ``relative`` under the root, or None when it escapes (``..``, absolute, a symlink that
        points outside, NUL)."""
        if "\x00" in relative or "\\" in relative:
            return None
        clean = posixpath.normpath("/" + relative).lstrip("/")
        if clean.startswith("..") or clean == ".":
            clean = "" if clean == "." else clean
            if clean:
                return None
        full = os.path.realpath(os.path.join(self.root, clean))
        if full != self.root and not full.startswith(self.root + os.sep):
            return None
        return full

    # --- registration ---------------------------------------------------------------------------
    def register(self, router: RouteRegistrar | Any) -> None:
        """Routes (Go's): root mount ANY ``/`` and ANY ``/*filepath``; prefix mount ANY ``<prefix>`` and ANY
        ``<prefix>/*filepath``. Register API routes on the same router first or after: a static or parameter
        route always beats the mount's catch-all."""
        registrar: RouteRegistrar = getattr(router, "router", router)
        registrar.add_asgi_route("ANY", self.prefix or "/", self, tags=("frontend",))
        registrar.add_asgi_route("ANY", f"{self.prefix}/*filepath", self, tags=("frontend",))

    @property
    def handler(self) -> ASGIApp:
        return self

    # --- serving --------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await ErrorResponse(APIError(ErrorType.METHOD_NOT_ALLOWED, "method not allowed"),
                                {"Allow": "GET, HEAD"})(scope, receive, send)
            return
        params = scope.get(SCOPE_PATH_PARAMS) or {}
        relative = params.get("filepath", "")
        if "%" in relative:
            relative = unquote(relative)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or ()}
        try:
            found = await asyncio.to_thread(self._lookup, relative, headers)
        except OSError:
            await self._error(scope, receive, send, 500)
            return
        if found is None:
            await self._error(scope, receive, send, 404)
            return
        path, is_index, fallback = found
        await self._serve(scope, send, path, headers, index=is_index or fallback)

    def _lookup(self, relative: str, headers: Mapping[str, str]) -> tuple[str, bool, bool] | None:
        """(file, is an index, is a fallback answer) or None for 404. Runs in a worker thread."""
        if not relative.strip("/"):
            return self.index_path, True, False
        full = self._inside(relative)
        if full is None:
            return None
        try:
            st = os.stat(full)
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode):
            index = os.path.join(full, self.index)
            if os.path.isfile(index) and self._inside(os.path.relpath(index, self.root)) == index:
                return index, True, False
            st = None
        if st is not None and stat.S_ISREG(st.st_mode):
            return full, full == self.index_path, False
        last = relative.rstrip("/").rsplit("/", 1)[-1]
        if self.fallback and "." not in last and _accepts_html(headers.get("accept", "")):
            return self.index_path, True, True
        return None

    def _media_type(self, path: str) -> str:
        ext = os.path.splitext(path)[1].lower()
        media = self.types.get(ext)
        if media is None:
            guessed, _ = mimetypes.guess_type(path)
            media = guessed or "application/octet-stream"
            if media.startswith("text/"):
                media += "; charset=utf-8"
        return media

    async def _serve(self, scope: Scope, send: Send, path: str, headers: Mapping[str, str], *, index: bool) -> None:
        variants = self.variants.get(path, ())
        # a file without variants can only be served as identity: a header refusing identity still means 406
        encoding, acceptable = _choose_encoding(headers.get("accept-encoding"), variants)
        if not acceptable:
            await ErrorResponse(APIError(ErrorType.NOT_ACCEPTABLE, "no acceptable content encoding"),
                                {"Vary": "Accept-Encoding"} if variants else None)(scope, _no_receive, send)
            return
        serve_path = path + dict(_ENCODINGS)[encoding] if encoding else path
        try:
            info = await asyncio.to_thread(_read_small, serve_path)
        except OSError:
            await self._error(scope, _no_receive, send, 404 if encoding is None else 500)
            return
        etag = f'"{info.mtime_ns:x}-{info.size:x}{"-" + encoding if encoding else ""}"'
        last_modified = email.utils.formatdate(info.mtime_ns / 1e9, usegmt=True)
        out: list[tuple[bytes, bytes]] = [*self.extra_headers]
        out.append((b"content-type", self._media_type(path).encode("latin-1")))
        cache = self.index_cache_control if index else self.cache_control
        if cache:
            out.append((b"cache-control", cache.encode("latin-1")))
        if encoding:
            out.append((b"content-encoding", encoding.encode("ascii")))
        if variants:
            out.append((b"vary", b"Accept-Encoding"))
        out += [(b"etag", etag.encode("ascii")), (b"last-modified", last_modified.encode("ascii")),
                (b"accept-ranges", b"bytes")]
        if _not_modified(headers, etag, info.mtime_ns):
            await send({"type": "http.response.start", "status": 304,
                        "headers": [h for h in out if h[0] != b"content-type"]})
            await send({"type": "http.response.body", "body": b""})
            return
        start, end, status = 0, info.size - 1, 200
        range_header = headers.get("range")
        if range_header and _if_range_ok(headers.get("if-range"), etag, last_modified):
            parsed = _parse_range(range_header, info.size)
            if parsed is False:
                await send({"type": "http.response.start", "status": 416,
                            "headers": [*out, (b"content-range", f"bytes */{info.size}".encode()),
                                        (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
                return
            if isinstance(parsed, tuple):
                start, end, status = parsed[0], parsed[1], 206
                out.append((b"content-range", f"bytes {start}-{end}/{info.size}".encode()))
        length = max(0, end - start + 1)
        out.append((b"content-length", str(length).encode("ascii")))
        await send({"type": "http.response.start", "status": status, "headers": out})
        if scope.get("method") == "HEAD" or length == 0:
            await send({"type": "http.response.body", "body": b""})
            return
        if info.body is not None:
            await send({"type": "http.response.body", "body": info.body[start:end + 1]})
            return
        await _stream(serve_path, start, length, send)

    async def _error(self, scope: Scope, receive: Receive, send: Send, status: int) -> None:
        page = self.not_found_page if status == 404 else self.error_page
        if page is not None:
            try:
                body = await asyncio.to_thread(Path(page).read_bytes)
            except OSError:
                body = None
            if body is not None:
                headers = [*self.extra_headers, (b"content-type", self._media_type(page).encode("latin-1")),
                           (b"cache-control", b"no-cache"), (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})
                return
        err = (APIError(ErrorType.NOT_FOUND, "not found") if status == 404
               else APIError(ErrorType.INTERNAL, "internal server error"))
        await ErrorResponse(err)(scope, receive, send)


async def _no_receive() -> dict[str, Any]:  # pragma: no cover - responses here never read the body
    return {"type": "http.disconnect"}


def _read_small(path: str) -> _File:
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(path)
        body = fh.read() if st.st_size <= _SMALL else None
    return _File(path, st.st_size, st.st_mtime_ns, body)


async def _stream(path: str, start: int, length: int, send: Send) -> None:
    fh = await asyncio.to_thread(open, path, "rb")
    try:
        await asyncio.to_thread(fh.seek, start)
        remaining = length
        while remaining > 0:
            chunk = await asyncio.to_thread(fh.read, min(_CHUNK * 4, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
        if remaining > 0:       # the file shrank under us: end the body rather than hang the client
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        await asyncio.to_thread(fh.close)


def _etags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def _not_modified(headers: Mapping[str, str], etag: str, mtime_ns: int) -> bool:
    inm = headers.get("if-none-match")
    if inm is not None:
        tags = _etags(inm)
        return "*" in tags or etag in tags
    ims = headers.get("if-modified-since")
    if ims:
        try:
            since = email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return int(mtime_ns / 1e9) <= since
    return False


def _if_range_ok(if_range: str | None, etag: str, last_modified: str) -> bool:
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return value == etag                      # strong comparison only
    return value == last_modified


def register_from_dir(router: RouteRegistrar | Any, root: str | os.PathLike[str], **options: Any) -> Mount:
    """Go's ``RegisterFromDir``: build a :class:`Mount` for ``root`` and register its routes."""
    mount = Mount(root, **options)
    mount.register(router)
    return mount
