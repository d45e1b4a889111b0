"""Authentication for the upgrade: JWT bearer tokens through plumego.security, room passwords (PBKDF2, the Go hash
format) and an optional per-room authorizer. Imports only the standard library and plumego.security/contract.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from plumego.contract import Scope
from plumego.security import (
    KeyRing,
    PasswordHasher,
    SigningKey,
    TokenError,
    decode_jwt,
    password_strength_problems,
    verify_password,
)

__all__ = [
    "JWTAuth",
    "RoomAuthorizer",
    "RoomPasswords",
    "TokenAuthenticator",
    "UserInfo",
    "extract_user_info",
    "hs256_auth",
]


@dataclass(frozen=True, slots=True)
class UserInfo:
    """Who opened the connection (Go ``UserInfo``): from the token's ``sub`` (or ``user_id``/``id``), ``name``,
    ``email`` and ``roles`` claims; ``claims`` keeps them all."""

    id: str
    name: str = ""
    email: str = ""
    roles: tuple[str, ...] = ()
    claims: Mapping[str, Any] = field(default_factory=dict)


def extract_user_info(claims: Mapping[str, Any]) -> UserInfo:
    ident = next((str(claims[k]) for k in ("sub", "user_id", "id") if claims.get(k) not in (None, "")), "")
    roles_claim = claims.get("roles", ())
    if isinstance(roles_claim, str):
        roles: tuple[str, ...] = tuple(r for r in roles_claim.replace(",", " ").split() if r)
    elif isinstance(roles_claim, (list, tuple)):
        roles = tuple(str(r) for r in roles_claim)
    else:
        roles = ()
    name, email = claims.get("name", ""), claims.get("email", "")
    return UserInfo(ident, name if isinstance(name, str) else "", email if isinstance(email, str) else "", roles,
                    dict(claims))


class TokenAuthenticator(Protocol):
    """Turns a bearer token into a user; raises :class:`plumego.security.TokenError` when it is not acceptable."""

    def authenticate(self, token: str) -> UserInfo: ...


class _SingleKey(KeyRing):
    """One shared secret (Go's simple HS256 auth has no key ids): whatever ``kid`` a token names, or none, it is
    checked against this key; ``alg`` must still be the key's own."""

    def __init__(self, key: SigningKey) -> None:
        super().__init__([key], active=key.kid)
        self._only = key

    def get(self, kid: str) -> SigningKey | None:
        return self._only


class JWTAuth:
    """JWT verification with plumego.security's ``decode_jwt`` (fails closed: ``alg`` checked against the key,
    ``none`` refused, ``exp`` required). ``keys`` is a KeyRing, one SigningKey or a ``kid -> key`` lookup; options
    go to ``decode_jwt`` (``issuer``, ``audience``, ``require``, ``leeway``...)."""

    def __init__(self, keys: KeyRing | SigningKey | Callable[[str], SigningKey | None], **options: Any) -> None:
        if isinstance(keys, SigningKey):
            self._keys: KeyRing | Callable[[str], SigningKey | None] = _SingleKey(keys)
            options.setdefault("require_kid", False)
        else:
            self._keys = keys
        options.setdefault("require", ("exp",))
        self._options = options

    @property
    def secrets(self) -> list[bytes]:
        """The HMAC secrets this authenticator trusts (so the broadcast secret can be checked to differ)."""
        if isinstance(self._keys, KeyRing):
            return [k.secret for k in self._keys.keys() if k.secret]
        return []

    def authenticate(self, token: str) -> UserInfo:
        claims = decode_jwt(token, self._keys, **self._options)
        user = extract_user_info(claims)
        if not user.id:
            raise TokenError("token has no subject")
        return user


def hs256_auth(secret: bytes | str) -> JWTAuth:
    """Go's ``SimpleHS256TokenAuth``: compact HS256 tokens, ``alg`` and ``exp`` checked (secret >= 32 bytes)."""
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    return JWTAuth(SigningKey(kid="ws", alg="HS256", secret=raw), algorithms=("HS256",))


class RoomAuthorizer(Protocol):
    """May ``user`` (None when unauthenticated) join ``room``? Called before accept, after the token check."""

    def __call__(self, room: str, user: UserInfo | None, scope: Scope) -> Awaitable[bool] | bool: ...


class RoomPasswords:
    """Password-protected rooms (Go ``SecureRoomAuth``): passwords are stored PBKDF2-hashed in Go's
    ``cost$salt$hash`` format, checked in constant time off the event loop, and must pass the strength rules when
    set. A room without a password is open. The password travels in the ``X-WebSocket-Room-Password`` header."""

    def __init__(self, passwords: Mapping[str, str] | Iterable[tuple[str, str]] = (), *,
                 hasher: PasswordHasher | None = None, min_length: int = 8, check_strength: bool = True) -> None:
        self._hasher = hasher or PasswordHasher()
        self._min_length = min_length
        self._check_strength = check_strength
        self._hashes: dict[str, str] = {}
        items = passwords.items() if isinstance(passwords, Mapping) else passwords
        for room, password in items:
            self.set(room, password)

    def set(self, room: str, password: str) -> None:
        if self._check_strength:
            problems: Sequence[str] = password_strength_problems(password, min_length=self._min_length)
            if problems:
                raise ValueError(f"room {room!r} password " + "; ".join(problems))
        self._hashes[room] = self._hasher.hash(password)

    def set_hash(self, room: str, encoded: str) -> None:
        """Use an already-hashed password (from a Go service or a config file)."""
        self._hashes[room] = encoded

    def remove(self, room: str) -> None:
        self._hashes.pop(room, None)

    def protected(self, room: str) -> bool:
        return room in self._hashes

    async def verify(self, room: str, password: str) -> bool:
        encoded = self._hashes.get(room)
        if encoded is None:
            return True
        if not password:
            return False
        return await asyncio.to_thread(verify_password, encoded, password)
