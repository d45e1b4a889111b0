"""JSON Web Keys (RFC 7517/7518/8037): a JWK or a JWK Set to and from :class:`SigningKey`, and JWKS files.

Reads ``oct`` (HS256/384/512), ``RSA`` (RS256), ``EC`` P-256 (ES256) and ``OKP`` Ed25519 (EdDSA) keys; asymmetric
keys load as verify-only public keys (any private member is ignored), and a key without ``kid`` gets its RFC 7638
thumbprint. Writes public JWKs, so a plumego issuer can publish its own JWKS. ``cryptography`` is imported lazily
for asymmetric keys. Imports only the standard library otherwise; never store, core or plumego.x.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ._jwt import KeyRing, SigningKey, _crypto

__all__ = ["JWKError", "jwk_thumbprint", "jwks_document", "key_from_jwk", "key_to_jwk", "keys_from_jwks", "load_jwks"]

_HMAC_ALGS = ("HS256", "HS384", "HS512")
_MAX_JWKS_FILE_BYTES = 1 << 20


class JWKError(ValueError):
    """A JWK or JWK Set that cannot be used: malformed, an unsupported key type or algorithm, or a weak key."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _member(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise JWKError(f"JWK member {name!r} is missing")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JWKError(f"JWK member {name!r} is not base64url") from exc
    if _b64url(data) != value.rstrip("="):
        raise JWKError(f"JWK member {name!r} is not canonical base64url")
    return data


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url) over the key type's required members."""
    required = {
        "oct": ("k", "kty"),
        "RSA": ("e", "kty", "n"),
        "EC": ("crv", "kty", "x", "y"),
        "OKP": ("crv", "kty", "x"),
    }
    kty = jwk.get("kty")
    if kty not in required:
        raise JWKError(f"unsupported JWK key type {kty!r}")
    members = {name: jwk.get(name) for name in required[str(kty)]}
    if not all(isinstance(v, str) and v for v in members.values()):
        raise JWKError(f"JWK of type {kty} lacks one of {', '.join(required[str(kty)])}")
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return _b64url(hashlib.sha256(canonical).digest())


def _public_pem(public: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def key_from_jwk(jwk: Mapping[str, Any]) -> SigningKey:
    """A :class:`SigningKey` from one JWK; :class:`JWKError` when it cannot verify JWS signatures here.

    ``alg`` comes from the JWK or, for asymmetric keys, from the key type (RSA -> RS256, EC P-256 -> ES256, OKP
    Ed25519 -> EdDSA); an ``oct`` key must name its ``alg``. A key marked ``"use": "enc"`` or whose ``key_ops``
    exclude ``verify`` is refused.
    """
    if not isinstance(jwk, Mapping):
        raise JWKError("a JWK is a JSON object")
    kty, alg, use = jwk.get("kty"), jwk.get("alg"), jwk.get("use")
    if use is not None and use != "sig":
        raise JWKError(f"JWK use {use!r} is not 'sig'")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        raise JWKError("JWK key_ops do not include 'verify'")
    kid = jwk.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid):
        raise JWKError("JWK kid must be a non-empty string")
    kid = kid or jwk_thumbprint(jwk)
    if kty == "oct":
        if alg not in _HMAC_ALGS:
            raise JWKError(f"an oct JWK must name an HMAC alg ({', '.join(_HMAC_ALGS)}), got {alg!r}")
        try:
            return SigningKey(kid=kid, alg=str(alg), secret=_member(jwk, "k"))
        except ValueError as exc:
            raise JWKError(str(exc)) from exc
    expected = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}.get(str(kty))
    if expected is None:
        raise JWKError(f"unsupported JWK key type {kty!r}")
    if alg is not None and alg != expected:
        raise JWKError(f"unsupported algorithm {alg!r} for a {kty} JWK (supported: {expected})")
    _crypto(expected)
    public: Any
    if kty == "RSA":
        from cryptography.hazmat.primitives.asymmetric import rsa

        e, n = int.from_bytes(_member(jwk, "e"), "big"), int.from_bytes(_member(jwk, "n"), "big")
        numbers = rsa.RSAPublicNumbers(e, n)
        try:
            public = numbers.public_key()
        except ValueError as exc:
            raise JWKError(f"bad RSA JWK: {exc}") from exc
    elif kty == "EC":
        from cryptography.hazmat.primitives.asymmetric import ec

        if jwk.get("crv") != "P-256":
            raise JWKError(f"unsupported EC curve {jwk.get('crv')!r} (supported: P-256)")
        x, y = _member(jwk, "x"), _member(jwk, "y")
        if len(x) != 32 or len(y) != 32:
            raise JWKError("P-256 coordinates are 32 bytes")
        try:
            public = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            ).public_key()
        except ValueError as exc:  # not a point on the curve
            raise JWKError(f"bad EC JWK: {exc}") from exc
    else:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        if jwk.get("crv") != "Ed25519":
            raise JWKError(f"unsupported OKP curve {jwk.get('crv')!r} (supported: Ed25519)")
        x = _member(jwk, "x")
        if len(x) != 32:
            raise JWKError("an Ed25519 public key is 32 bytes")
        public = ed25519.Ed25519PublicKey.from_public_bytes(x)
    try:
        return SigningKey(kid=kid, alg=expected, public_pem=_public_pem(public))
    except ValueError as exc:  # e.g. an RSA key under 2048 bits
        raise JWKError(str(exc)) from exc


def key_to_jwk(key: SigningKey) -> dict[str, Any]:
    """The public JWK of an asymmetric key (``kid``, ``alg``, ``use: sig``); HMAC secrets are never published."""
    if key.secret is not None:
        raise JWKError(f"key {key.kid!r} is an HMAC secret; only public keys go into a JWKS")
    _crypto(key.alg)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    assert key.public_pem is not None
    public = serialization.load_pem_public_key(key.public_pem)
    jwk: dict[str, Any]
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        jwk = {
            "kty": "RSA",
            "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        }
    elif isinstance(public, ec.EllipticCurvePublicKey):
        point = public.public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": _b64url(point.x.to_bytes(32, "big")),
               "y": _b64url(point.y.to_bytes(32, "big"))}
    elif isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    else:  # pragma: no cover - SigningKey only holds the three types above
        raise JWKError(f"unsupported key type for {key.kid!r}")
    jwk.update({"kid": key.kid, "alg": key.alg, "use": "sig"})
    return jwk


def jwks_document(keys: KeyRing | Iterable[SigningKey]) -> dict[str, Any]:
    """``{"keys": [...]}`` with the public JWK of every asymmetric key (HMAC keys are left out)."""
    items = keys.keys() if isinstance(keys, KeyRing) else list(keys)
    return {"keys": [key_to_jwk(key) for key in items if key.secret is None]}


def keys_from_jwks(document: Mapping[str, Any] | str | bytes, *, strict: bool = False) -> list[SigningKey]:
    """The usable keys of a JWK Set (a mapping or its JSON text).

    Keys this module cannot use (``enc`` keys, PS256, P-384, ...) are skipped, as a JWKS routinely mixes them;
    ``strict=True`` raises :class:`JWKError` instead. Duplicate ``kid`` values are an error either way.
    """
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except (ValueError, RecursionError) as exc:
            raise JWKError("JWKS is not valid JSON") from exc
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise JWKError('a JWKS is an object with a "keys" list')
    keys: list[SigningKey] = []
    seen: set[str] = set()
    for item in document["keys"]:
        try:
            key = key_from_jwk(item)
        except JWKError:
            if strict:
                raise
            continue
        if key.kid in seen:
            raise JWKError(f"duplicate kid {key.kid!r} in JWKS")
        seen.add(key.kid)
        keys.append(key)
    return keys


def load_jwks(source: Mapping[str, Any] | str | os.PathLike[str], *, strict: bool = False) -> KeyRing:
    """A verify-only :class:`KeyRing` from a JWKS given as a mapping (or a single JWK) or a file path."""
    if isinstance(source, Mapping):
        document: Mapping[str, Any] | bytes = source if "keys" in source else {"keys": [source]}
        strict = strict or "keys" not in source
    else:
        with open(source, "rb") as handle:
            document = handle.read(_MAX_JWKS_FILE_BYTES + 1)
        if len(document) > _MAX_JWKS_FILE_BYTES:
            raise JWKError(f"JWKS file {os.fspath(source)!r} is larger than {_MAX_JWKS_FILE_BYTES} bytes")
    keys = keys_from_jwks(document, strict=strict)
    if not keys:
        raise JWKError("the JWKS holds no usable signing key")
    return KeyRing(keys)
