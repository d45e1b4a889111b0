"""Security-headers middleware: stamps a plumego.security HeaderPolicy onto every HTTP response start.

Owns only the HTTP adaptation (HTTPS detection per request, no duplicate headers); the policy data and its
validation live in plumego.security. Imports only the standard library, plumego.contract and plumego.security.
"""

from __future__ import annotations

from collections.abc import Awaitable

from plumego.contract import ASGIApp, Message, Middleware, Receive, Scope, Send
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

    def wrap(app: ASGIApp) -> ASGIApp:
        if not secure:
            return app

        async def security_headers_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            lines = secure if _request_is_https(scope, trust_forwarded) else plain

            def headers_send(message: Message) -> Awaitable[None]:  # no extra coroutine per message
                if message["type"] == "http.response.start":
                    existing = message.get("headers") or ()
                    taken: set[bytes] | None = None
                    for name, _ in existing:
                        # ASGI says names are lowercase: an exact set lookup; case-fold only names with capitals.
                        if name in policy_names or (not name.islower() and bytes(name).lower() in policy_names):
                            if taken is None:
                                taken = set()
                            taken.add(bytes(name).lower())
                    if taken is None:
                        message = {**message, "headers": [*existing, *lines]}
                    else:  # rare: the app set some of them itself, and its values win
                        message = {**message, "headers": [*existing, *(ln for ln in lines if ln[0] not in taken)]}
                return send(message)

            await app(scope, receive, headers_send)

        return security_headers_app

    return wrap
