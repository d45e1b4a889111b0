"""JWT issue and verify: HMAC (HS256/384/512) with the standard library; EdDSA, RS256 and ES256 via `cryptography`.

Owns signing keys with ``kid`` and rotation, access/refresh token pairs with Go Plumego's defaults and claim layout,
and fail-closed verification whose required claims and accepted ``typ`` values are configuration (Go's rules by
default), against a local key ring and optionally a remote key source (a JWKS, see ``_jwks``). ``cryptography``
(the optional extra ``jwt``) is imported lazily inside functions and only for asymmetric algorithms. Imports only
the standard library otherwise; never store, core or plumego.x.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "TokenError",
    "InvalidTokenError",
    "ExpiredTokenError",
    "NotYetValidTokenError",
    "UnknownKeyError",
    "MissingSubjectError",
    "CryptoBackendMissingError",
    "NoSigningKeyError",
    "RemoteKeySource",
    "SigningKey",
    "KeyRing",
    "JWTConfig",
    "TokenPair",
    "TokenClaims",
    "JWTManager",
    "encode_jwt",
    "decode_jwt",
]

SUPPORTED_ALGORITHMS: tuple[str, ...] = ("HS256", "HS384", "HS512", "EdDSA", "RS256", "ES256")
_HMAC_HASHES: Mapping[str, Callable[..., Any]] = MappingProxyType(
    {
        "HS256": hashlib.sha256,
        "HS384": hashlib.sha384,
        "HS512": hashlib.sha512,
    }
)
_HMAC_MIN_KEY: Mapping[str, int] = MappingProxyType({"HS256": 32, "HS384": 48, "HS512": 64})
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_MAX_SEGMENT = 8 * 1024


# -- errors -------------------------------------------------------------------------------------------------------


class TokenError(Exception):
    """Base of every verification failure. ``decode_jwt``/``JWTManager.verify`` raise nothing else for bad input."""


class InvalidTokenError(TokenError):
    """Malformed, wrongly signed, wrong issuer/audience/type, or otherwise not acceptable."""


class ExpiredTokenError(TokenError):
    """``exp`` (plus clock skew) is in the past."""


class NotYetValidTokenError(TokenError):
    """``nbf`` or ``iat`` (minus clock skew) is in the future."""


class UnknownKeyError(InvalidTokenError):
    """The header's ``kid`` names no key in the key ring."""


class MissingSubjectError(InvalidTokenError):
    """The token carries no subject."""


class NoSigningKeyError(ValueError):
    """Issuing was asked of a manager whose key ring holds no signing key (a verify-only ring or key source)."""


class CryptoBackendMissingError(RuntimeError):
    """An asymmetric algorithm was requested but the optional ``cryptography`` package is not installed."""


def _crypto(alg: str) -> Any:
    try:
        import cryptography.hazmat.primitives.serialization as serialization
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise CryptoBackendMissingError(
            f"JWT algorithm {alg} needs the 'cryptography' package: pip install 'plumego[jwt]'"
        ) from exc
    return serialization


# -- base64url / JSON ---------------------------------------------------------------------------------------------


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(segment: str) -> bytes:
    if not _B64URL.match(segment) or len(segment) % 4 == 1:
        raise InvalidTokenError("segment is not base64url")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidTokenError("segment is not base64url") from exc
    if _b64encode(data) != segment:  # non-canonical trailing bits: one token, one encoding
        raise InvalidTokenError("segment is not canonical base64url")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise InvalidTokenError(f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise InvalidTokenError(f"{what} is not a JSON object")
    return value


def _json_bytes(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")


# -- keys ---------------------------------------------------------------------------------------------------------


class SigningKey:
    """One key: an HMAC secret, or an asymmetric key pair (private part optional for verify-only keys).

    Immutable after construction. Loaded ``cryptography`` key objects are cached on the instance.
    """

    __slots__ = ("kid", "alg", "secret", "private_pem", "public_pem", "created_at", "_loaded", "_load_lock")

    def __init__(
        self,
        *,
        kid: str,
        alg: str,
        secret: bytes | None = None,
        private_pem: bytes | None = None,
        public_pem: bytes | None = None,
        created_at: float | None = None,
    ) -> None:
        if alg not in SUPPORTED_ALGORITHMS:
            raise ValueError(f"unsupported JWT algorithm {alg!r}; supported: {', '.join(SUPPORTED_ALGORITHMS)}")
        if not kid or not isinstance(kid, str):
            raise ValueError("kid must be a non-empty string")
        if alg in _HMAC_HASHES:
            if secret is None or len(secret) < _HMAC_MIN_KEY[alg]:
                raise ValueError(f"{alg} needs a secret of at least {_HMAC_MIN_KEY[alg]} bytes (RFC 7518 3.2)")
            if private_pem or public_pem:
                raise ValueError("an HMAC key has no PEM parts")
        else:
            if secret is not None:
                raise ValueError(f"{alg} keys use PEM, not a shared secret")
            if private_pem is None and public_pem is None:
                raise ValueError(f"{alg} key needs a private or public PEM")
        self.kid = kid
        self.alg = alg
        self.secret = secret
        self.private_pem = private_pem
        self.public_pem = public_pem
        self.created_at = time.time() if created_at is None else created_at
        self._loaded: dict[str, Any] = {}
        self._load_lock = threading.Lock()
        if alg not in _HMAC_HASHES:
            self._check_key_type()
            if self.public_pem is None:
                self.public_pem = _public_pem(self._private_key())

    def __repr__(self) -> str:  # never print secrets
        return f"SigningKey(kid={self.kid!r}, alg={self.alg!r}, can_sign={self.can_sign})"

    @property
    def can_sign(self) -> bool:
        return self.secret is not None or self.private_pem is not None

    @classmethod
    def generate(cls, alg: str = "HS256", *, kid: str | None = None, created_at: float | None = None) -> SigningKey:
        """A fresh random key: HMAC secrets as long as the hash, Ed25519, RSA-2048 or P-256."""
        kid = kid or secrets.token_hex(8)
        if alg in _HMAC_HASHES:
            return cls(kid=kid, alg=alg, secret=secrets.token_bytes(_HMAC_MIN_KEY[alg]), created_at=created_at)
        serialization = _crypto(alg)
        private: Any
        if alg == "EdDSA":
            from cryptography.hazmat.primitives.asymmetric import ed25519

            private = ed25519.Ed25519PrivateKey.generate()
        elif alg == "RS256":
            from cryptography.hazmat.primitives.asymmetric import rsa

            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "ES256":
            from cryptography.hazmat.primitives.asymmetric import ec

            private = ec.generate_private_key(ec.SECP256R1())
        else:  # pragma: no cover - guarded by SUPPORTED_ALGORITHMS
            raise ValueError(alg)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls(kid=kid, alg=alg, private_pem=pem, created_at=created_at)

    def metadata(self) -> dict[str, Any]:
        """Go's ``SigningKeyMetadata``: ``id``, ``alg``, ``public`` (PEM or empty for HMAC), ``created_at``."""
        return {
            "id": self.kid,
            "alg": self.alg,
            "public": (self.public_pem or b"").decode("ascii"),
            "created_at": self.created_at,
        }

    def to_dict(self, *, include_private: bool = True) -> dict[str, Any]:
        """JSON-able form for persisting a key ring (secrets base64-encoded). Treat the output as a secret."""
        data = self.metadata()
        if include_private:
            if self.secret is not None:
                data["secret"] = base64.b64encode(self.secret).decode("ascii")
            if self.private_pem is not None:
                data["private"] = self.private_pem.decode("ascii")
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SigningKey:
        secret = data.get("secret")
        private = data.get("private")
        public = data.get("public") or None
        return cls(
            kid=str(data["id"]),
            alg=str(data["alg"]),
            secret=base64.b64decode(secret) if secret else None,
            private_pem=private.encode("ascii") if private else None,
            public_pem=None if private or secret else (public.encode("ascii") if public else None),
            created_at=float(data.get("created_at", 0.0)),
        )

    # -- crypto -----------------------------------------------------------------------------------------------

    def sign(self, signing_input: bytes) -> bytes:
        if not self.can_sign:
            raise ValueError(f"key {self.kid!r} is verify-only")
        if self.secret is not None:
            return hmac.new(self.secret, signing_input, _HMAC_HASHES[self.alg]).digest()
        private = self._private_key()
        if self.alg == "EdDSA":
            return bytes(private.sign(signing_input))
        from cryptography.hazmat.primitives import hashes

        if self.alg == "RS256":
            from cryptography.hazmat.primitives.asymmetric import padding

            return bytes(private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256()))
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS wants raw r||s, not DER

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        if self.secret is not None:
            expected = hmac.new(self.secret, signing_input, _HMAC_HASHES[self.alg]).digest()
            return hmac.compare_digest(expected, signature)
        from cryptography.exceptions import InvalidSignature

        public = self._public_key()
        try:
            if self.alg == "EdDSA":
                public.verify(signature, signing_input)
            elif self.alg == "RS256":
                from cryptography.hazmat.primitives import hashes
                from cryptography.hazmat.primitives.asymmetric import padding

                public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            else:
                from cryptography.hazmat.primitives import hashes
                from cryptography.hazmat.primitives.asymmetric import ec
                from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

                if len(signature) != 64:
                    return False
                der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
                public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True

    def _private_key(self) -> Any:
        with self._load_lock:
            if "private" not in self._loaded:
                serialization = _crypto(self.alg)
                assert self.private_pem is not None
                self._loaded["private"] = serialization.load_pem_private_key(self.private_pem, password=None)
            return self._loaded["private"]

    def _public_key(self) -> Any:
        with self._load_lock:
            if "public" not in self._loaded:
                serialization = _crypto(self.alg)
                assert self.public_pem is not None
                self._loaded["public"] = serialization.load_pem_public_key(self.public_pem)
            return self._loaded["public"]

    def _check_key_type(self) -> None:
        """Refuse a PEM whose key type does not match ``alg`` (an RSA key under ES256, say)."""
        _crypto(self.alg)
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

        key = self._private_key() if self.private_pem is not None else self._public_key()
        expected: tuple[type, ...] = {
            "EdDSA": (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey),
            "RS256": (rsa.RSAPrivateKey, rsa.RSAPublicKey),
            "ES256": (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey),
        }[self.alg]
        if not isinstance(key, expected):
            raise ValueError(f"PEM key type does not match algorithm {self.alg}")
        if self.alg == "ES256" and not isinstance(getattr(key, "curve", None), ec.SECP256R1):
            raise ValueError("ES256 needs a P-256 key")
        if self.alg == "RS256" and getattr(key, "key_size", 0) < 2048:
            raise ValueError("RS256 needs an RSA key of at least 2048 bits")


def _public_pem(private: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


class KeyRing:
    """Keys by ``kid`` plus which one signs. Old keys stay for verification until removed. Thread-safe."""

    def __init__(self, keys: Iterable[SigningKey] = (), *, active: str | None = None) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        self._active: str | None = None
        for key in keys:
            self.add(key)
        if active is not None:
            self.activate(active)

    def add(self, key: SigningKey, *, activate: bool = False) -> None:
        with self._lock:
            existing = self._keys.get(key.kid)
            if existing is not None and existing is not key:
                raise ValueError(f"duplicate kid {key.kid!r}")
            self._keys[key.kid] = key
        if activate:
            self.activate(key.kid)

    def activate(self, kid: str) -> None:
        with self._lock:
            key = self._keys.get(kid)
            if key is None or not key.can_sign:
                raise ValueError(f"no signing key with kid {kid!r}")
            self._active = kid

    def get(self, kid: str) -> SigningKey | None:
        with self._lock:
            return self._keys.get(kid)

    def remove(self, kid: str) -> bool:
        with self._lock:
            if kid == self._active:
                raise ValueError("cannot remove the active key; rotate first")
            return self._keys.pop(kid, None) is not None

    @property
    def active(self) -> SigningKey | None:
        with self._lock:
            return self._keys.get(self._active) if self._active else None

    def keys(self) -> list[SigningKey]:
        with self._lock:
            return sorted(self._keys.values(), key=lambda k: (k.created_at, k.kid))

    def rotate(self, alg: str, *, now: float | None = None) -> SigningKey:
        """Generate a key, make it the signer and keep the previous ones for verification."""
        key = SigningKey.generate(alg, created_at=now)
        self.add(key, activate=True)
        return key

    def prune(self, older_than: float) -> list[str]:
        """Remove non-active keys created before ``older_than`` (unix time); returns their kids."""
        with self._lock:
            gone = [k for k, v in self._keys.items() if k != self._active and v.created_at < older_than]
            for kid in gone:
                del self._keys[kid]
            return gone

    def export(self, *, include_private: bool = True) -> dict[str, Any]:
        """JSON-able snapshot (Go stores ``jwt:keys:<kid>`` and ``jwt:active``; here one document)."""
        with self._lock:
            active = self._active
        return {"active": active, "keys": [k.to_dict(include_private=include_private) for k in self.keys()]}

    @classmethod
    def from_export(cls, data: Mapping[str, Any]) -> KeyRing:
        keys = [SigningKey.from_dict(item) for item in data.get("keys", [])]
        return cls(keys, active=data.get("active"))


# -- encode / decode ----------------------------------------------------------------------------------------------


def encode_jwt(claims: Mapping[str, Any], key: SigningKey, *, headers: Mapping[str, Any] | None = None) -> str:
    """Sign ``claims`` with ``key``: header ``{"alg", "typ": "JWT", "kid"}`` plus any extra ``headers``."""
    header: dict[str, Any] = {"alg": key.alg, "typ": "JWT", "kid": key.kid}
    if headers:
        header.update({k: v for k, v in headers.items() if k not in ("alg", "kid")})
    signing_input = f"{_b64encode(_json_bytes(header))}.{_b64encode(_json_bytes(claims))}".encode("ascii")
    return f"{signing_input.decode('ascii')}.{_b64encode(key.sign(signing_input))}"


KeyLookup = KeyRing | Callable[[str], SigningKey | None]


@runtime_checkable
class RemoteKeySource(Protocol):
    """Keys that live elsewhere (a JWKS URL): looked up from a cache, refreshed on demand.

    ``get`` and ``keys`` only read the cache and never block on the network; ``refresh_due`` says whether a
    refresh would be useful now (expired cache, or an unknown ``kid``) and allowed (rate limit); ``refresh`` does
    the blocking fetch and keeps the old keys when it fails.
    """

    def get(self, kid: str) -> SigningKey | None: ...

    def keys(self) -> list[SigningKey]: ...

    def refresh_due(self, kid: str | None) -> bool: ...

    def refresh(self) -> None: ...


def _media_type(value: str) -> str:
    """RFC 7515 4.1.9: ``typ`` compares case-insensitively and ``application/`` may be left out."""
    folded = value.strip().lower()
    return folded.removeprefix("application/")


def _select_key(
    header: Mapping[str, Any], keys: KeyLookup, candidates: Callable[[], Iterable[SigningKey]] | None
) -> SigningKey:
    kid, alg = header.get("kid"), header.get("alg")
    if kid is None and candidates is not None:
        # No kid: acceptable only when exactly one key of the header's algorithm could have signed it.
        matching = [key for key in candidates() if key.alg == alg]
        if len(matching) != 1:
            raise InvalidTokenError("kid header is required to choose among several keys")
        return matching[0]
    if not isinstance(kid, str) or not kid:
        raise InvalidTokenError("kid header is required")
    key = keys.get(kid) if isinstance(keys, KeyRing) else keys(kid)
    if key is None:
        raise UnknownKeyError(f"unknown key id {kid!r}")
    return key


def _parse_header(parts: list[str]) -> dict[str, Any]:
    return _json_object(_b64decode(parts[0]), "header")


def _split(token: str | bytes, max_token_bytes: int) -> list[str]:
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise InvalidTokenError("token is not ASCII") from exc
    if not isinstance(token, str) or not token:
        raise InvalidTokenError("token must be a non-empty string")
    if len(token) > max_token_bytes:
        raise InvalidTokenError("token too large")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts) or any(len(p) > _MAX_SEGMENT for p in parts):
        raise InvalidTokenError("token must have three non-empty segments")
    return parts


def peek_kid(token: str | bytes, max_token_bytes: int = 16 * 1024) -> str | None:
    """The ``kid`` of a token's header, unverified (to decide whether keys must be fetched); None if absent or
    unreadable. Never trust it for anything else."""
    try:
        kid = _parse_header(_split(token, max_token_bytes)).get("kid")
    except TokenError:
        return None
    return kid if isinstance(kid, str) and kid else None


def _decode_verified(
    token: str | bytes,
    keys: KeyLookup,
    *,
    issuer: str | None,
    audience: str | None,
    leeway: float,
    now: float | None,
    require: Sequence[str],
    algorithms: Iterable[str],
    max_token_bytes: int,
    types: Iterable[str],
    candidates: Callable[[], Iterable[SigningKey]] | None,
) -> tuple[dict[str, Any], dict[str, Any], SigningKey]:
    """Verify and return (header, payload, the key that verified the signature)."""
    parts = _split(token, max_token_bytes)
    header = _parse_header(parts)
    alg = header.get("alg")
    allowed = set(algorithms) & set(SUPPORTED_ALGORITHMS)
    if not isinstance(alg, str) or alg not in allowed:
        raise InvalidTokenError(f"algorithm {alg!r} not accepted")
    if "crit" in header:
        raise InvalidTokenError("critical header extensions are not supported")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or _media_type(typ) not in {_media_type(t) for t in types}):
        raise InvalidTokenError(f"typ {typ!r} not accepted")
    key = _select_key(header, keys, candidates)
    if key.alg != alg:
        raise InvalidTokenError("header alg does not match the key's algorithm")
    signature = _b64decode(parts[2])
    try:
        valid = key.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), signature)
    except CryptoBackendMissingError:
        raise
    except Exception as exc:  # any backend failure on hostile input is a bad token, never a crash
        raise InvalidTokenError("signature verification failed") from exc
    if not valid:
        raise InvalidTokenError("signature verification failed")
    payload = _json_object(_b64decode(parts[1]), "payload")
    kid = header.get("kid")
    if "kid" in payload and payload["kid"] != kid:
        raise InvalidTokenError("payload kid does not match header kid")
    current = time.time() if now is None else now
    for name in require:
        if name not in ("exp", "iat", "nbf") and payload.get(name) in (None, ""):
            raise InvalidTokenError(f"claim {name!r} is required")
    exp = _number(payload, "exp", "exp" in require)
    iat = _number(payload, "iat", "iat" in require)
    nbf = _number(payload, "nbf", "nbf" in require)
    if iat is not None and current < iat - leeway:
        raise NotYetValidTokenError("token issued in the future")
    if nbf is not None and current < nbf - leeway:
        raise NotYetValidTokenError("token not valid yet")
    if exp is not None and current > exp + leeway:
        raise ExpiredTokenError("token expired")
    if issuer is not None and payload.get("iss") != issuer:
        raise InvalidTokenError("issuer mismatch")
    if audience is not None:
        aud = payload.get("aud")
        auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if audience not in [a for a in auds if isinstance(a, str)]:
            raise InvalidTokenError("audience mismatch")
    return header, payload, key


def _number(payload: Mapping[str, Any], name: str, required: bool) -> float | None:
    value = payload.get(name)
    if value is None:
        if required or name in payload:
            raise InvalidTokenError(f"claim {name!r} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTokenError(f"claim {name!r} must be a positive number")
    try:
        number = float(value)
    except OverflowError as exc:  # an integer beyond float range
        raise InvalidTokenError(f"claim {name!r} is out of range") from exc
    if not math.isfinite(number) or number <= 0:
        raise InvalidTokenError(f"claim {name!r} must be a positive number")
    return number


def decode_jwt(
    token: str | bytes,
    keys: KeyLookup,
    *,
    issuer: str | None = None,
    audience: str | None = None,
    leeway: float = 5.0,
    now: float | None = None,
    require: Sequence[str] = ("exp", "iat"),
    algorithms: Iterable[str] = SUPPORTED_ALGORITHMS,
    max_token_bytes: int = 16 * 1024,
    types: Iterable[str] = ("JWT",),
    require_kid: bool = True,
) -> dict[str, Any]:
    """Verify ``token`` and return its claims, failing closed; raises only :class:`TokenError` subclasses.

    Rejects: anything but three canonical base64url segments, ``alg`` ``none`` or outside ``algorithms``, ``crit``
    headers, a ``typ`` outside ``types`` (compared case-insensitively, ``application/`` optional; a missing ``typ``
    is accepted), an unknown ``kid``, a missing one unless ``require_kid=False`` and ``keys`` is a :class:`KeyRing`
    holding exactly one key of the header's algorithm, a header ``alg`` different from the key's own (alg/key
    confusion), a bad signature, duplicate JSON members, a payload ``kid`` different from the header's, a missing
    claim named in ``require`` (``exp``/``iat``/``nbf`` must also be positive numbers), expiry, ``nbf``/``iat`` in
    the future, and wrong ``iss``/``aud``.
    """
    candidates = keys.keys if (not require_kid and isinstance(keys, KeyRing)) else None
    return _decode_verified(
        token,
        keys,
        issuer=issuer,
        audience=audience,
        leeway=leeway,
        now=now,
        require=require,
        algorithms=algorithms,
        max_token_bytes=max_token_bytes,
        types=types,
        candidates=candidates,
    )[1]  # payload


# -- manager ------------------------------------------------------------------------------------------------------


GO_REQUIRED_CLAIMS: tuple[str, ...] = ("exp", "iat", "nbf")


@dataclass(frozen=True, slots=True)
class JWTConfig:
    """Go's ``DefaultJWTConfig``: issuer ``plumego``, audience ``plumego-client``, access 15 min, refresh 7 days,
    rotation 24 h, HS256, 5 s clock skew. Empty issuer/audience disable those checks.

    Verification rules, Go's by default: ``required_claims`` (``exp``, ``iat`` and ``nbf``; ``exp`` is always
    required), ``accepted_types`` for the header ``typ`` (``JWT``; a token without ``typ`` passes), ``require_kid``
    (a ``kid`` header; when False a token without one verifies only if exactly one known key has its ``alg``) and
    ``require_token_type`` (plumego's ``token_type`` claim must name the expected type; when False a token without
    the claim passes, but one naming another type -- a refresh token used as an access token -- still fails).
    :meth:`for_identity_provider` relaxes these for tokens from an OpenID Connect provider.
    """

    issuer: str = "plumego"
    audience: str = "plumego-client"
    access_ttl: float = 15 * 60.0
    refresh_ttl: float = 7 * 24 * 3600.0
    rotation_interval: float = 24 * 3600.0
    algorithm: str = "HS256"
    clock_skew: float = 5.0
    max_token_bytes: int = 16 * 1024
    required_claims: tuple[str, ...] = GO_REQUIRED_CLAIMS
    accepted_types: tuple[str, ...] = ("JWT",)
    require_kid: bool = True
    require_token_type: bool = True

    @classmethod
    def for_identity_provider(cls, issuer: str, audience: str, **overrides: Any) -> JWTConfig:
        """Settings for access tokens from an OpenID Connect / OAuth 2 provider: ``iss`` and ``aud`` checked,
        ``exp`` and ``iat`` required (``nbf`` when present), ``typ`` ``JWT`` or ``at+jwt`` (RFC 9068), ``kid``
        optional with a single candidate key, no plumego ``token_type`` claim needed."""
        if not issuer or not audience:
            raise ValueError("an identity provider's tokens must be checked for issuer and audience")
        settings: dict[str, Any] = {
            "issuer": issuer,
            "audience": audience,
            "required_claims": ("exp", "iat"),
            "accepted_types": ("JWT", "at+jwt"),
            "require_kid": False,
            "require_token_type": False,
        }
        settings.update(overrides)
        return cls(**settings)

    def __post_init__(self) -> None:
        object.__setattr__(self, "required_claims", tuple(self.required_claims))
        object.__setattr__(self, "accepted_types", tuple(self.accepted_types))
        if "exp" not in self.required_claims:
            raise ValueError("required_claims must include 'exp': a token without expiry would never expire")
        if not self.accepted_types or not all(isinstance(t, str) and t.strip() for t in self.accepted_types):
            raise ValueError("accepted_types must name at least one typ value")
        if self.access_ttl <= 0 or self.refresh_ttl <= 0:
            raise ValueError("access_ttl and refresh_ttl must be > 0")
        if self.refresh_ttl < self.access_ttl:
            raise ValueError("refresh_ttl must be >= access_ttl")
        if self.rotation_interval < 0 or self.clock_skew < 0:
            raise ValueError("rotation_interval and clock_skew must be >= 0")
        if self.algorithm not in SUPPORTED_ALGORITHMS:
            raise ValueError(f"unsupported algorithm {self.algorithm!r}")


@dataclass(frozen=True, slots=True)
class TokenPair:
    """Go's ``TokenPair`` JSON: ``access_token``, ``refresh_token``, ``expires_in`` (access TTL, s), ``token_type``."""

    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "token_type": self.token_type,
        }


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """Verified claims. Go Plumego's layout (``identity``/``authorization`` objects) first, then the common
    OAuth/OIDC places: ``roles`` from ``authorization.roles`` or a top-level ``roles`` list; ``permissions`` from
    ``authorization.permissions``, else the ``scope`` string (space-separated) or ``scp`` list. ``key_id`` is the
    ``kid`` of the key that verified the token (from the header). ``raw`` holds every verified claim (name,
    email, ...) and ``header`` the token header; both are read-only."""

    token_id: str
    token_type: str
    subject: str
    version: str
    roles: tuple[str, ...]
    permissions: tuple[str, ...]
    issuer: str | None
    audience: str | None
    issued_at: float | None
    not_before: float | None
    expires_at: float
    key_id: str
    raw: Mapping[str, Any] = field(repr=False)
    header: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidTokenError(f"claim {name!r} must be a list of strings")
    return tuple(value)


def _scopes(payload: Mapping[str, Any], authorization: Mapping[str, Any]) -> tuple[str, ...]:
    if authorization.get("permissions") is not None:
        return _strings(authorization.get("permissions"), "authorization.permissions")
    scope = payload.get("scope")
    if scope is not None:
        if not isinstance(scope, str):
            raise InvalidTokenError("claim 'scope' must be a space-separated string")
        return tuple(scope.split())
    scp = payload.get("scp")
    if isinstance(scp, str):
        return tuple(scp.split())
    return _strings(scp, "scp")


def _frozen(value: Any) -> Any:
    """A read-only deep copy of a JSON value (dicts become mapping proxies, lists tuples)."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


class JWTManager:
    """Issues and verifies access/refresh tokens with a :class:`KeyRing`; rotates the signing key on schedule.

    Without ``keys`` (or with an empty ring) and without a ``key_source``, the manager makes a first key of
    ``config.algorithm``; a ring with signing keys but none active activates the newest. A ring of verify-only
    keys (public PEMs, keys loaded from a JWKS) or a ``key_source`` (a :class:`RemoteKeySource` such as
    ``RemoteJWKS``) makes a verify-only manager: it never invents a signing key, and :meth:`issue` raises
    :class:`NoSigningKeyError`. When the active key is older than
    ``rotation_interval`` (and that is > 0), issuing rotates first; old keys keep verifying until pruned.
    Verification looks in the ring first, then in the key source.
    """

    def __init__(
        self,
        keys: KeyRing | None = None,
        config: JWTConfig | None = None,
        *,
        clock: Callable[[], float] = time.time,
        key_source: RemoteKeySource | None = None,
    ) -> None:
        self.config = config or JWTConfig()
        self.keys = keys if keys is not None else KeyRing()
        self.key_source = key_source
        self._clock = clock
        self._rotate_lock = threading.Lock()
        # One key-source refresh in flight per event loop: concurrent requests await it instead of each taking a
        # worker thread (threads shared with sync handlers) to wait on the fetch lock.
        self._refreshes: dict[asyncio.AbstractEventLoop, asyncio.Future[None]] = {}
        self._refreshes_lock = threading.Lock()
        if key_source is None and not self.keys.keys():
            self.keys.rotate(self.config.algorithm, now=clock())
        elif self.keys.active is None:
            signers = [key for key in self.keys.keys() if key.can_sign]
            if signers:  # keys loaded without an active marker: the newest one signs (keys() is oldest first)
                self.keys.activate(signers[-1].kid)

    def rotate(self) -> SigningKey:
        with self._rotate_lock:
            return self.keys.rotate(self.config.algorithm, now=self._clock())

    def _signing_key(self, now: float) -> SigningKey:
        with self._rotate_lock:
            key = self.keys.active
            if key is None:
                raise NoSigningKeyError(
                    "this JWTManager has no signing key (its ring is verify-only); add one with "
                    "keys.add(key, activate=True) or call rotate()"
                )
            interval = self.config.rotation_interval
            if interval > 0 and now - key.created_at >= interval:
                key = self.keys.rotate(self.config.algorithm, now=now)
            return key

    def issue(
        self,
        subject: str,
        token_type: str = "access",
        *,
        roles: Sequence[str] = (),
        permissions: Sequence[str] = (),
        version: str = "",
        ttl: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        if not subject:
            raise ValueError("subject is required")
        if token_type not in ("access", "refresh"):
            raise ValueError("token_type must be 'access' or 'refresh'")
        now = self._clock()
        key = self._signing_key(now)
        if ttl is None:
            ttl = self.config.access_ttl if token_type == "access" else self.config.refresh_ttl
        iat = int(now)
        authorization: dict[str, Any] = {}
        if roles:
            authorization["roles"] = list(roles)
        if permissions:
            authorization["permissions"] = list(permissions)
        claims: dict[str, Any] = dict(extra or {})
        claims.update(
            {
                "jti": _b64encode(secrets.token_bytes(16)),
                "token_type": token_type,
                "sub": subject,
                "identity": {"sub": subject, "ver": version} if version else {"sub": subject},
                "authorization": authorization,
                "iat": iat,
                "nbf": iat,
                "exp": iat + max(1, int(math.ceil(ttl))),
                "kid": key.kid,
            }
        )
        if self.config.issuer:
            claims["iss"] = self.config.issuer
        if self.config.audience:
            claims["aud"] = self.config.audience
        return encode_jwt(claims, key)

    def issue_pair(
        self, subject: str, *, roles: Sequence[str] = (), permissions: Sequence[str] = (), version: str = ""
    ) -> TokenPair:
        common: dict[str, Any] = {"roles": roles, "permissions": permissions, "version": version}
        return TokenPair(
            access_token=self.issue(subject, "access", **common),
            refresh_token=self.issue(subject, "refresh", **common),
            expires_in=int(self.config.access_ttl),
        )

    def verify(self, token: str | bytes, expected_type: str = "access") -> TokenClaims:
        """Verify signature, time claims, issuer, audience, token type and subject; raises :class:`TokenError`.

        With a key source, an unknown ``kid`` may fetch keys here, blocking the calling thread: in async code use
        :meth:`averify`, which fetches in a worker thread.
        """
        return self._verify(token, expected_type, fetch=True)

    async def averify(self, token: str | bytes, expected_type: str = "access") -> TokenClaims:
        """:meth:`verify` for the event loop: a key-source refresh (network I/O) runs in a worker thread."""
        source = self.key_source
        if source is not None:
            kid = peek_kid(token, self.config.max_token_bytes)
            if (kid is None or self.keys.get(kid) is None) and source.refresh_due(kid):
                await self._refresh_off_loop(source)
        return self._verify(token, expected_type, fetch=False)

    async def _refresh_off_loop(self, source: RemoteKeySource) -> None:
        loop = asyncio.get_running_loop()
        with self._refreshes_lock:
            pending = self._refreshes.get(loop)
            if pending is None or pending.done():
                pending = self._refreshes[loop] = asyncio.ensure_future(asyncio.to_thread(source.refresh))
                pending.add_done_callback(lambda done: self._forget_refresh(loop, done))
        await asyncio.shield(pending)  # a cancelled request must not cancel the refresh others wait for

    def _forget_refresh(self, loop: asyncio.AbstractEventLoop, done: asyncio.Future[None]) -> None:
        with self._refreshes_lock:
            if self._refreshes.get(loop) is done:
                del self._refreshes[loop]

    def _lookup(self, fetch: bool) -> Callable[[str], SigningKey | None]:
        ring, source = self.keys, self.key_source

        def lookup(kid: str) -> SigningKey | None:
            key = ring.get(kid)
            if key is None and source is not None:
                if fetch and source.refresh_due(kid):
                    source.refresh()
                key = source.get(kid)
            return key

        return lookup

    def _candidates(self) -> list[SigningKey]:
        keys = self.keys.keys()
        if self.key_source is not None:
            keys += self.key_source.keys()
        return keys

    def _verify(self, token: str | bytes, expected_type: str, *, fetch: bool) -> TokenClaims:
        config = self.config
        candidates: Callable[[], Iterable[SigningKey]] | None = None
        if not config.require_kid:
            if fetch and self.key_source is not None and self.key_source.refresh_due(None):
                self.key_source.refresh()
            candidates = self._candidates
        header, payload, key = _decode_verified(
            token,
            self._lookup(fetch),
            issuer=config.issuer or None,
            audience=config.audience or None,
            leeway=config.clock_skew,
            now=self._clock(),
            require=config.required_claims,
            algorithms=SUPPORTED_ALGORITHMS,
            max_token_bytes=config.max_token_bytes,
            types=config.accepted_types,
            candidates=candidates,
        )
        token_type = payload.get("token_type")
        if token_type is None and not config.require_token_type:
            token_type = expected_type
        if token_type != expected_type:
            raise InvalidTokenError(f"expected a {expected_type} token")
        identity = payload.get("identity", {})
        authorization = payload.get("authorization", {})
        if not isinstance(identity, dict) or not isinstance(authorization, dict):
            raise InvalidTokenError("identity and authorization claims must be objects")
        subject = payload.get("sub", identity.get("sub"))
        if "sub" in identity and identity["sub"] != subject:
            raise InvalidTokenError("conflicting subjects")
        if not isinstance(subject, str) or not subject:
            raise MissingSubjectError("token has no subject")
        version = identity.get("ver", "")
        jti = payload.get("jti", "")
        if not isinstance(version, str) or not isinstance(jti, str):
            raise InvalidTokenError("ver and jti must be strings")
        roles = authorization.get("roles")
        if roles is None and "roles" in payload:
            roles = payload["roles"]
        aud = payload.get("aud")
        iat, nbf = payload.get("iat"), payload.get("nbf")
        return TokenClaims(
            token_id=jti,
            token_type=expected_type,
            subject=subject,
            version=version,
            roles=_strings(roles, "roles"),
            permissions=_scopes(payload, authorization),
            issuer=payload.get("iss") if isinstance(payload.get("iss"), str) else None,
            audience=aud if isinstance(aud, str) else None,
            issued_at=None if iat is None else float(iat),
            not_before=None if nbf is None else float(nbf),
            expires_at=float(payload["exp"]),
            key_id=key.kid,  # the header kid, or the single candidate chosen when require_kid is off
            raw=_frozen(payload),
            header=_frozen(header),
        )

    def refresh(self, refresh_token: str | bytes) -> TokenPair:
        """Exchange a valid refresh token for a new pair with the same identity and grants.

        There is no revocation list here: a stolen refresh token stays usable until it expires. Keep a denylist of
        ``token_id`` values in a store if that matters to you.
        """
        claims = self.verify(refresh_token, "refresh")
        return self.issue_pair(
            claims.subject, roles=claims.roles, permissions=claims.permissions, version=claims.version
        )
