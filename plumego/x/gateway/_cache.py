"""The HTTP response cache middleware (Go ``x/gateway/cache``): GET/HEAD answers kept in an LRU store for their
``max-age`` (default TTL 5 min), ``X-Cache: HIT``/``MISS``, ETag + ``If-None-Match`` -> 304, and key strategies.

Owns :func:`cache`, :class:`MemoryCacheStore` and the key strategies. The response streams to the client while
it is copied; a body larger than ``max_size`` is passed through uncached. Not cached: request ``no-store``;
responses with ``no-store``, ``private``, ``no-cache``, ``Set-Cookie`` or ``Vary: *``; requests carrying
``Authorization`` unless the key strategy is per user. Request ``no-cache`` skips the lookup but stores the
fresh answer. The memory store is per process. Imports only the standard library and plumego.contract.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlencode

from plumego.contract import ASGIApp, Message, Middleware, Receive, Scope, Send

__all__ = [
    "CacheEntry",
    "CacheKey",
    "CacheStore",
    "MemoryCacheStore",
    "cache",
    "composite_key",
    "default_key",
    "header_aware_key",
    "no_cache_key",
    "path_pattern_key",
    "query_param_key",
    "tenant_aware_key",
    "url_only_key",
    "user_aware_key",
]


@dataclass(frozen=True, slots=True)
class CacheEntry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str
    stored_at: float
    expires_at: float


class CacheStore(Protocol):
    def get(self, key: str) -> CacheEntry | None: ...
    def set(self, key: str, entry: CacheEntry) -> None: ...
    def delete(self, key: str) -> None: ...
    def clear(self) -> None: ...


class MemoryCacheStore:
    """An LRU of at most ``max_entries`` (Go default 1000); expired entries are dropped when read."""

    def __init__(self, max_entries: int = 1000, *, clock: Callable[[], float] = time.time) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max, self._clock = max_entries, clock
        self._items: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> CacheEntry | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            if entry.expires_at <= self._clock():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return entry

    def set(self, key: str, entry: CacheEntry) -> None:
        with self._lock:
            self._items[key] = entry
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# --- key strategies -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CacheKey:
    """A key strategy: ``build(scope)`` gives the key, or None for "do not cache this request".

    ``per_user`` says the key separates users, so requests with ``Authorization`` may be cached.
    """

    build: Callable[[Scope], str | None]
    per_user: bool = False

    def __call__(self, scope: Scope) -> str | None:
        return self.build(scope)


def _header(scope: Scope, name: str) -> str:
    n = name.lower().encode()
    return ",".join(v.decode("latin-1") for k, v in scope.get("headers", ()) if k == n)


def _url(scope: Scope, query: bytes | None = None) -> str:
    q = scope.get("query_string", b"") if query is None else query
    path: str = scope.get("path", "/")
    return path + ("?" + q.decode("latin-1") if q else "")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def url_only_key() -> CacheKey:
    return CacheKey(lambda s: _digest(s.get("method", "GET"), _url(s)))


def header_aware_key(headers: Iterable[str]) -> CacheKey:
    names = [h.lower() for h in headers]
    return CacheKey(lambda s: _digest(s.get("method", "GET"), _url(s), *(_header(s, n) for n in names)))


def default_key() -> CacheKey:
    """Method, URL and the headers that usually change a representation (Accept, Accept-Encoding, -Language)."""
    return header_aware_key(("accept", "accept-encoding", "accept-language"))


def query_param_key(ignore: Iterable[str]) -> CacheKey:
    """Method and URL with the ``ignore``d query parameters (tracking ids, cache busters) removed and the rest
    sorted, so ``?b=2&a=1&utm_source=x`` and ``?a=1&b=2`` share an entry."""
    skip = set(ignore)

    def build(s: Scope) -> str:
        pairs = sorted((k, v) for k, v in parse_qsl(s.get("query_string", b"").decode("latin-1"),
                                                    keep_blank_values=True) if k not in skip)
        return _digest(s.get("method", "GET"), _url(s, urlencode(pairs).encode()))

    return CacheKey(build)


def user_aware_key(header: str = "authorization") -> CacheKey:
    """One entry per user (hashed ``header``, Authorization by default)."""
    return CacheKey(lambda s: _digest(s.get("method", "GET"), _url(s), "user", _header(s, header)), per_user=True)


def tenant_aware_key(header: str = "x-tenant-id") -> CacheKey:
    return CacheKey(lambda s: _digest(s.get("method", "GET"), _url(s), "tenant", _header(s, header)))


def composite_key(*strategies: CacheKey) -> CacheKey:
    """All strategies' keys joined; any strategy refusing refuses."""

    def build(s: Scope) -> str | None:
        keys = [k(s) for k in strategies]
        return None if any(k is None for k in keys) else _digest(*(k for k in keys if k is not None))

    return CacheKey(build, per_user=any(k.per_user for k in strategies))


def path_pattern_key(patterns: Sequence[str], inner: CacheKey | None = None) -> CacheKey:
    """Cache only paths matching one of the regular expressions; the key is ``inner``'s (default_key)."""
    compiled = [re.compile(p) for p in patterns]
    base = inner or default_key()
    return CacheKey(lambda s: base(s) if any(c.search(s.get("path", "")) for c in compiled) else None,
                    per_user=base.per_user)


def no_cache_key() -> CacheKey:
    return CacheKey(lambda s: None)


# --- the middleware -----------------------------------------------------------------------------------------
def _directives(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in value.split(","):
        name, _, arg = part.strip().partition("=")
        if name:
            out[name.lower()] = arg.strip().strip('"')
    return out


def _etag_matches(if_none_match: str, etag: str) -> bool:
    if not if_none_match or not etag:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in if_none_match.split(","))


def cache(*, store: CacheStore | None = None, ttl: float = 300.0, max_size: int = 1 << 20,
          methods: Iterable[str] = ("GET", "HEAD"), statuses: Iterable[int] = (200, 301, 404),
          key: CacheKey | None = None, clock: Callable[[], float] = time.time) -> Middleware:
    """The response cache (Go defaults: LRU 1000, TTL 5 min, 1 MB bodies, GET/HEAD, 200/301/404)."""
    cache_store: CacheStore = store if store is not None else MemoryCacheStore(clock=clock)
    allowed_methods = {m.upper() for m in methods}
    allowed_statuses = set(statuses)
    strategy = key or default_key()

    def wrap(app: ASGIApp) -> ASGIApp:
        async def cached(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope.get("method") not in allowed_methods:
                await app(scope, receive, send)
                return
            request_cc = _directives(_header(scope, "cache-control"))
            if "no-store" in request_cc or (_header(scope, "authorization") and not strategy.per_user):
                await app(scope, receive, send)
                return
            k = strategy(scope)
            if k is None:
                await app(scope, receive, send)
                return
            if "no-cache" not in request_cc:
                entry = cache_store.get(k)
                if entry is not None:
                    await _replay(scope, send, entry, clock())
                    return
            await _fill(app, scope, receive, send, k)

        async def _fill(app: ASGIApp, scope: Scope, receive: Receive, send: Send, k: str) -> None:
            status = 0
            headers: list[tuple[bytes, bytes]] = []
            keep = False
            parts: list[bytes] = []
            size = 0

            async def capture(message: Message) -> None:
                nonlocal size, status, headers, keep
                if message["type"] == "http.response.start":
                    status = int(message["status"])     # keys include the method: a HEAD answer stays apart
                    headers = list(message.get("headers", []))
                    keep = status in allowed_statuses and _storable(headers)
                    message = {**message, "headers": [*headers, (b"x-cache", b"MISS")]}
                elif message["type"] == "http.response.body" and keep:
                    size += len(message.get("body", b""))
                    if size > max_size:
                        keep = False
                        parts.clear()
                    else:
                        parts.append(message.get("body", b""))
                    if not message.get("more_body", False) and keep:
                        _store(k, status, headers, b"".join(parts))
                await send(message)

            await app(scope, receive, capture)

        def _store(k: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
            cc = _directives(",".join(v.decode("latin-1") for n, v in headers if n.lower() == b"cache-control"))
            lifetime = ttl
            for name in ("s-maxage", "max-age"):
                if name in cc:
                    try:
                        lifetime = float(int(cc[name]))
                    except ValueError:
                        return
                    break
            if lifetime <= 0:
                return
            etag = next((v.decode("latin-1") for n, v in headers if n.lower() == b"etag"), "")
            kept = [(n, v) for n, v in headers if n.lower() not in (b"x-cache", b"age", b"date")]
            if not etag:
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                kept.append((b"etag", etag.encode()))
            now = clock()
            cache_store.set(k, CacheEntry(status, kept, body, etag, now, now + lifetime))

        return cached

    return wrap


def _storable(headers: list[tuple[bytes, bytes]]) -> bool:
    cc = _directives(",".join(v.decode("latin-1") for n, v in headers if n.lower() == b"cache-control"))
    if {"no-store", "private", "no-cache"} & cc.keys():
        return False
    for name, value in headers:
        lower = name.lower()
        if lower == b"set-cookie" or (lower == b"vary" and value.strip() == b"*"):
            return False
    return True


async def _replay(scope: Scope, send: Send, entry: CacheEntry, now: float) -> None:
    age = str(max(0, int(now - entry.stored_at))).encode()
    if _etag_matches(_header(scope, "if-none-match"), entry.etag):
        keep = {b"etag", b"cache-control", b"vary", b"expires", b"last-modified", b"content-location"}
        headers = [(n, v) for n, v in entry.headers if n.lower() in keep]
        await send({"type": "http.response.start", "status": 304,
                    "headers": [*headers, (b"x-cache", b"HIT"), (b"age", age)]})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": entry.status,
                "headers": [*entry.headers, (b"x-cache", b"HIT"), (b"age", age)]})
    await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else entry.body})
