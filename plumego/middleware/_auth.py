"""Authentication and authorization middleware: who is calling (Authenticator) and may they (authorize).

Owns the Principal carrier in the scope (``plumego.principal``), bearer-token extraction, the JWT and API-key
authenticators and the Go-compatible 401/403 envelopes with ``WWW-Authenticate``. Token crypto is
plumego.security's. Imports only the standard library, plumego.contract and plumego.security.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Protocol, runtime_checkable

from plumego.contract import APIError, ASGIApp, ErrorType, Middleware, Receive, Scope, Send
from plumego.middleware._asgi import header_value, send_error
from plumego.security import ExpiredTokenError, JWTManager, TokenError

SCOPE_PRINCIPAL: Final = "plumego.principal"
"""Scope key holding the authenticated :class:`Principal` (set by :func:`authenticate`)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. Immutable: roles and scopes are tuples, claims read-only mappings.

    ``claims`` is Go's ``map[string]string`` (for a JWT: ``token_id``, ``token_type``, ``key_id``);
    ``token_claims`` holds every verified claim of the token it came from (``name``, ``email``, ``scope``, ...),
    empty for other authenticators.
    """

    subject: str
    tenant_id: str = ""
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    claims: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    token_claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not self.subject:
            raise ValueError("a principal needs a subject")
        object.__setattr__(self, "roles", tuple(self.roles))
        object.__setattr__(self, "scopes", tuple(self.scopes))
        object.__setattr__(self, "claims", MappingProxyType(dict(self.claims)))
        if not isinstance(self.token_claims, MappingProxyType):
            object.__setattr__(self, "token_claims", MappingProxyType(dict(self.token_claims)))


def principal_from_scope(scope: Scope) -> Principal | None:
    """The principal :func:`authenticate` stored for this request, or None (unauthenticated)."""
    principal = scope.get(SCOPE_PRINCIPAL)
    return principal if isinstance(principal, Principal) else None


def with_principal(scope: Scope, principal: Principal) -> None:
    """Store ``principal`` in the scope; inner apps read it with :func:`principal_from_scope`."""
    scope[SCOPE_PRINCIPAL] = principal


class InvalidCredentialsError(Exception):
    """Credentials were presented but are not valid (bad token, unknown API key). Answered 401 ``UNAUTHORIZED``, reason
    ``invalid_token``."""


class ExpiredCredentialsError(InvalidCredentialsError):
    """Credentials were valid once but have expired. Answered 401 ``UNAUTHORIZED``, reason ``expired_token``."""


@runtime_checkable
class Authenticator(Protocol):
    """Turns a request into a principal.

    Return None when the request carries no credentials of this kind; raise :class:`InvalidCredentialsError`
    (or :class:`ExpiredCredentialsError`, a plumego.security ``TokenError`` or an ``APIError``) when it carries
    bad ones.
    """

    async def authenticate(self, scope: Scope) -> Principal | None: ...


def extract_bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive, as in Go Plumego).

    None when there is no Authorization header or it uses another scheme; :class:`InvalidCredentialsError`
    when the scheme is Bearer but the token is empty or contains whitespace. Never looks at the query string.
    """
    raw = header_value(scope, b"authorization")
    if raw is None:
        return None
    text = raw.decode("latin-1")
    scheme, sep, rest = text.partition(" ")
    if not sep:
        scheme, sep, rest = text.partition("\t")
    if scheme.lower() != "bearer":
        return None
    token = rest.strip(" \t")
    if not token or any(c.isspace() for c in token):
        raise InvalidCredentialsError("malformed bearer token")
    return token


class BearerJWTAuthenticator:
    """``Authorization: Bearer <jwt>`` verified by a :class:`plumego.security.JWTManager` (``averify``: a JWKS
    refresh never blocks the event loop).

    Principal: ``subject`` = ``sub``, ``roles`` and ``scopes`` as ``TokenClaims`` reads them (Go's
    ``authorization.roles``/``permissions``, else ``roles`` and the OAuth ``scope``/``scp`` claims), ``tenant_id``
    = a string ``tenant_id`` claim, ``claims`` = ``{token_id, token_type, key_id}`` (as Go's
    ``PrincipalFromClaims``; ``key_id`` is the header ``kid``), ``token_claims`` = every verified claim. Tokens
    from other issuers verify when a key in the manager's ring or key source signed them and they carry the
    claims its config requires (``JWTConfig.for_identity_provider`` for an OpenID Connect provider).
    """

    __slots__ = ("_manager", "_token_type")

    def __init__(self, manager: JWTManager, *, token_type: str = "access") -> None:
        self._manager = manager
        self._token_type = token_type

    async def authenticate(self, scope: Scope) -> Principal | None:
        token = extract_bearer_token(scope)
        if token is None:
            return None
        claims = await self._manager.averify(token, self._token_type)  # TokenError is mapped by the middleware
        tenant = claims.raw.get("tenant_id")
        return Principal(
            subject=claims.subject,
            tenant_id=tenant if isinstance(tenant, str) else "",
            roles=claims.roles,
            scopes=claims.permissions,
            claims={"token_id": claims.token_id, "token_type": claims.token_type, "key_id": claims.key_id},
            token_claims=claims.raw,
        )


class APIKeyAuthenticator:
    """An API key in a request header (default ``X-API-Key``) mapped to a fixed principal.

    Keys are kept only as SHA-256 digests and every configured digest is compared with
    ``hmac.compare_digest`` on every request, so neither a key's content nor which key matched shows in the
    timing. An empty configured key is rejected at construction; an absent header is "no credentials".
    """

    __slots__ = ("_header", "_digests")

    def __init__(self, keys: Mapping[str, Principal], *, header: str = "X-API-Key") -> None:
        if not keys:
            raise ValueError("APIKeyAuthenticator needs at least one key")
        if any(not key for key in keys):
            raise ValueError("API keys must not be empty")
        self._header = header.lower().encode("latin-1")
        self._digests: tuple[tuple[bytes, Principal], ...] = tuple(
            (hashlib.sha256(key.encode("utf-8")).digest(), principal) for key, principal in keys.items()
        )

    async def authenticate(self, scope: Scope) -> Principal | None:
        presented = header_value(scope, self._header)
        if presented is None:
            return None
        digest = hashlib.sha256(presented.strip()).digest()
        found: Principal | None = None
        for candidate, principal in self._digests:
            if hmac.compare_digest(digest, candidate):
                found = principal
        if found is None:
            raise InvalidCredentialsError("unknown API key")
        return found


def _quoted(name: str, value: str) -> str:
    if any(c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(f"{name} must not contain quotes, backslashes or control characters")
    return f'{name}="{value}"'


class _Challenge:
    """Pre-rendered ``WWW-Authenticate`` values for one realm and scheme."""

    __slots__ = ("missing", "invalid", "expired")

    def __init__(self, scheme: str, realm: str) -> None:
        if not scheme or not all(c.isalnum() or c in "-._~+/" for c in scheme):
            raise ValueError("challenge scheme must be an auth-scheme token such as 'Bearer'")
        params = [_quoted("realm", realm)] if realm else []
        self.missing = self._render(scheme, params)
        self.invalid = self._render(scheme, [*params, 'error="invalid_token"'])
        self.expired = self._render(
            scheme, [*params, 'error="invalid_token"', 'error_description="token expired"']
        )

    @staticmethod
    def _render(scheme: str, params: list[str]) -> bytes:
        return (scheme + (" " + ", ".join(params) if params else "")).encode("latin-1")


REASON_MISSING: Final = "missing_credentials"
REASON_INVALID: Final = "invalid_token"
REASON_EXPIRED: Final = "expired_token"


def _unauthorized(message: str, reason: str) -> APIError:
    """Go's 401: type ``unauthorized_request``, code ``UNAUTHORIZED``; the precise reason in ``details``."""
    return APIError(ErrorType.UNAUTHORIZED, message, details={"reason": reason})


def _unauthenticated() -> APIError:
    return _unauthorized("authentication required", REASON_MISSING)


async def _send_unauthorized(scope: Scope, send: Send, err: APIError, challenge: bytes) -> None:
    await send_error(scope, send, err, [(b"www-authenticate", challenge)])


def authenticate(
    authenticator: Authenticator,
    *,
    optional: bool = False,
    realm: str = "",
    challenge_scheme: str = "Bearer",
) -> Middleware:
    """Authenticate every HTTP/WebSocket request with ``authenticator`` and store the :class:`Principal`.

    The principal goes into the scope under ``SCOPE_PRINCIPAL`` (``"plumego.principal"``); read it with
    :func:`principal_from_scope`. Outcomes (401s carry ``WWW-Authenticate: Bearer realm="<realm>"`` plus
    ``error="invalid_token"`` when credentials were presented):

    - no credentials: 401 ``unauthorized_request`` / ``UNAUTHORIZED`` / ``"authentication required"``, or,
      with ``optional=True``, the request continues without a principal (for routes that :func:`authorize`);
    - invalid credentials (:class:`InvalidCredentialsError`, a security ``TokenError``): 401 ``invalid_token``
      / ``INVALID_TOKEN`` / ``"invalid token"`` -- also with ``optional=True``: bad credentials are never
      ignored;
    - expired (:class:`ExpiredCredentialsError`, ``ExpiredTokenError``): 401 ``expired_token`` /
      ``EXPIRED_TOKEN`` / ``"token expired"``, ``error_description="token expired"``;
    - an ``APIError`` raised by the authenticator is answered as itself.

    A WebSocket handshake that fails is refused with ``websocket.close`` code 1008 (the server answers 403).
    """
    challenge = _Challenge(challenge_scheme, realm)

    def wrap(app: ASGIApp) -> ASGIApp:
        async def authenticate_app(scope: Scope, receive: Receive, send: Send) -> None:
            kind = scope["type"]
            if kind not in ("http", "websocket"):
                await app(scope, receive, send)
                return
            failure: APIError | None = None
            header = challenge.invalid
            try:
                principal = await authenticator.authenticate(scope)
            except APIError as exc:
                failure, principal = exc, None
            except (ExpiredCredentialsError, ExpiredTokenError):
                failure, principal = _unauthorized("token expired", REASON_EXPIRED), None
                header = challenge.expired
            except (InvalidCredentialsError, TokenError):
                failure, principal = _unauthorized("invalid token", REASON_INVALID), None
            if failure is None and principal is None and not optional:
                failure, header = _unauthenticated(), challenge.missing
            if failure is not None:
                if kind == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                elif failure.status == 401:
                    await _send_unauthorized(scope, send, failure, header)
                else:
                    await send_error(scope, send, failure)
                return
            if principal is not None:
                with_principal(scope, principal)
            await app(scope, receive, send)

        return authenticate_app

    return wrap


def _folded(values: Iterable[str]) -> frozenset[str]:
    return frozenset(value.casefold() for value in values)


def authorize(
    *,
    any_roles: Sequence[str] = (),
    all_roles: Sequence[str] = (),
    any_scopes: Sequence[str] = (),
    all_scopes: Sequence[str] = (),
    check: Callable[[Principal, Scope], bool] | None = None,
    realm: str = "",
    challenge_scheme: str = "Bearer",
) -> Middleware:
    """Per-route/group authorization: apply with ``app.group(prefix, authorize(...))`` or a route's
    ``middleware=[authorize(...)]``, inside :func:`authenticate`.

    Every given requirement must hold (roles and scopes compare case-insensitively, as in Go's
    ``PolicyAuthorizer``): at least one of ``any_roles``, each of ``all_roles``, at least one of
    ``any_scopes``, each of ``all_scopes``, and ``check(principal, scope)`` is true. With no requirement it
    only demands an authenticated principal. No principal in the scope: 401 ``unauthorized_request`` /
    ``UNAUTHORIZED`` / ``"authentication required"`` with ``WWW-Authenticate``; a principal that fails: 403
    ``forbidden_request`` / ``FORBIDDEN`` / ``"access forbidden"``. WebSocket refusals close with 1008.
    """
    challenge = _Challenge(challenge_scheme, realm)
    need_any_role, need_all_roles = _folded(any_roles), _folded(all_roles)
    need_any_scope, need_all_scopes = _folded(any_scopes), _folded(all_scopes)

    def allowed(principal: Principal, scope: Scope) -> bool:
        roles = _folded(principal.roles)
        scopes = _folded(principal.scopes)
        if need_any_role and roles.isdisjoint(need_any_role):
            return False
        if not need_all_roles <= roles:
            return False
        if need_any_scope and scopes.isdisjoint(need_any_scope):
            return False
        if not need_all_scopes <= scopes:
            return False
        return check is None or bool(check(principal, scope))

    def wrap(app: ASGIApp) -> ASGIApp:
        async def authorize_app(scope: Scope, receive: Receive, send: Send) -> None:
            kind = scope["type"]
            if kind not in ("http", "websocket"):
                await app(scope, receive, send)
                return
            principal = principal_from_scope(scope)
            if principal is not None and allowed(principal, scope):
                await app(scope, receive, send)
                return
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            elif principal is None:
                await _send_unauthorized(scope, send, _unauthenticated(), challenge.missing)
            else:
                await send_error(scope, send, APIError(ErrorType.FORBIDDEN, "access forbidden"))

        return authorize_app

    return wrap
