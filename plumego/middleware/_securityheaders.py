"""Security-headers middleware: stamps a plumego.security HeaderPolicy onto every HTTP response start.

Owns only the HTTP adaptation (HTTPS detection per request, no duplicate headers) as a header layer (see
``_headerlayers``: run with request_id in one layer, or by the App itself when outermost); the policy data and its
validation live in plumego.security. Imports only the standard library, plumego.contract and plumego.security.
"""

from __future__ import annotations

from plumego.contract import ASGIApp, Middleware, Scope
from plumego.middleware._headerlayers import HeaderLayer, Headers
from plumego.security import HeaderPolicy, default_policy, is_https
from plumego.security import security_headers as render_policy

_HeaderLines = tuple[tuple[bytes, bytes], ...]


def _encode(lines: list[tuple[str, str]]) -> _HeaderLines:
    return tuple((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in lines)


def _request_is_https(scope: Scope, trust_forwarded: bool) -> bool:
    scheme = scope.get("scheme") or "http"
    if scheme == "https":
        return True
    if not trust_forwarded:
        return scheme != "http" and is_https(str(scheme))
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers") or ()]
    return is_https(scheme, headers, trust_forwarded=True)


def security_headers(policy: HeaderPolicy | None = None, *, trust_forwarded: bool = False) -> Middleware:
    """Add ``policy``'s headers (default: :func:`plumego.security.default_policy`) to every HTTP response.

    The policy is validated here, at construction (:class:`plumego.security.InvalidPolicyError`), never per
    request. ``Strict-Transport-Security`` is sent only when the request arrived over HTTPS: the ASGI scheme,
    or, with ``trust_forwarded=True`` (only behind a proxy you control that overwrites these headers), every
    ``X-Forwarded-Proto`` / ``Forwarded: proto=`` entry saying ``https``.

    The app's own value wins: a header the app already set (any case) is left alone and not sent twice, so a
    handler can loosen or tighten e.g. ``Content-Security-Policy`` for one route. Go Plumego behaves the same
    way (it sets the headers before the handler, which may overwrite them). WebSocket scopes pass through.
    """
    chosen = policy if policy is not None else default_policy()
    plain = _encode(render_policy(chosen, https=False))
    secure = _encode(render_policy(chosen, https=True))
    policy_names = frozenset(name for name, _ in secure)

    if not secure:
        return _unchanged

    def prepare(scope: Scope) -> _HeaderLines | None:
        if scope["type"] != "http":
            return None
        return secure if _request_is_https(scope, trust_forwarded) else plain

    def apply(headers: Headers, lines: _HeaderLines) -> Headers:
        taken: set[bytes] | None = None
        for name, _ in headers:
            # ASGI says names are lowercase: an exact set lookup; case-fold only names with capitals.
            if name in policy_names or (not name.islower() and bytes(name).lower() in policy_names):
                if taken is None:
                    taken = set()
                taken.add(bytes(name).lower())
        if taken is None:
            headers.extend(lines)
        else:  # rare: the app set some of them itself, and its values win
            headers.extend(line for line in lines if line[0] not in taken)
        return headers

    return HeaderLayer("security_headers", prepare, apply)


def _unchanged(app: ASGIApp) -> ASGIApp:
    return app
