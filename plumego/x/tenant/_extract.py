"""Tenant extractors: functions from an ASGI scope to a tenant id (or None), and ``chain`` (first non-empty wins).

Owns the header, query, cookie, subdomain and JWT-claim extractors. An extractor returns the raw value; the
resolve step validates it (so a bad value is answered 400, never silently skipped). Imports the standard library
and plumego.middleware (for the authenticated principal); never plumego.core.
"""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from plumego.contract import Scope
from plumego.middleware import principal_from_scope

__all__ = ["Extractor", "chain", "from_claim", "from_cookie", "from_header", "from_query", "from_subdomain"]

Extractor = Callable[[Scope], "str | None"]
"""Returns the tenant id the request names, or None. May raise; the resolve step treats an error as "missing"."""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1").strip()
    return None


def from_header(name: str) -> Extractor:
    wanted = name.lower().encode("latin-1")

    def extract(scope: Scope) -> str | None:
        return _header(scope, wanted) or None
    return extract


def from_query(param: str) -> Extractor:
    def extract(scope: Scope) -> str | None:
        raw = bytes(scope.get("query_string", b"")).decode("latin-1")
        for key, value in parse_qsl(raw, keep_blank_values=True):
            if key == param:
                return value or None
        return None
    return extract


def from_cookie(name: str) -> Extractor:
    def extract(scope: Scope) -> str | None:
        raw = _header(scope, b"cookie")
        if not raw:
            return None
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw)
        except CookieError:
            return None
        morsel = jar.get(name)
        return morsel.value or None if morsel is not None else None
    return extract


def from_subdomain() -> Extractor:
    """The first label of the Host header (port stripped) when the host has at least two labels:
    ``acme.api.example.com:8443`` -> ``acme``. IP literals name no tenant."""
    def extract(scope: Scope) -> str | None:
        host = _header(scope, b"host") or ""
        if host.startswith("["):
            return None
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        labels = host.split(".")
        if len(labels) < 2 or all(label.isdigit() for label in labels):
            return None
        return labels[0] or None
    return extract


def from_claim(claim: str = "tenant_id") -> Extractor:
    """A string claim of the authenticated principal's verified token (``authenticate`` must run first)."""
    def extract(scope: Scope) -> str | None:
        principal = principal_from_scope(scope)
        if principal is None:
            return None
        value = principal.token_claims.get(claim)
        return value if isinstance(value, str) and value else None
    return extract


def chain(*extractors: Extractor) -> Extractor:
    """The first extractor that returns a non-empty value wins; one that raises is skipped."""
    def extract(scope: Scope) -> str | None:
        for extractor in extractors:
            try:
                value = extractor(scope)
            except Exception:       # noqa: BLE001 - an extractor error means "not found here"
                continue
            if value:
                return value
        return None
    return extract
