"""Password hashing: Go Plumego's PBKDF2-SHA512 ``cost$salt$hash`` format by default, scrypt on request.

Verifies hashes made by the Go project unchanged (including its legacy 32-byte form) and writes new ones in that
same format unless ``PasswordHasher(scheme="scrypt")`` is chosen, so a mixed Go/Python fleet can share a user
table. Says when a stored hash should be upgraded (``needs_rehash``) and compares in constant time. Numbers in a
stored hash are ASCII digits only, as Go's parser requires. Imports only the standard library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "PasswordError",
    "InvalidHashError",
    "PasswordTooLongError",
    "PasswordHasher",
    "hash_password",
    "verify_password",
    "needs_rehash",
    "password_strength_problems",
    "PBKDF2_DEFAULT_COST",
    "PBKDF2_MINIMUM_COST",
    "PBKDF2_MAXIMUM_COST",
    "MAX_PASSWORD_BYTES",
]

PBKDF2_DEFAULT_COST = 210_000
PBKDF2_MINIMUM_COST = 100_000
PBKDF2_MAXIMUM_COST = 2_000_000
MAX_PASSWORD_BYTES = 4096
_SALT_BYTES = 16
_PBKDF2_KEY_BYTES = 64
_PBKDF2_LEGACY_KEY_BYTES = 32
_SCRYPT_KEY_BYTES = 64
# Upper bounds on parameters read from a stored hash, so a planted hash cannot make verify eat the machine.
_SCRYPT_MAX_N = 2**20
_SCRYPT_MAX_R = 32
_SCRYPT_MAX_P = 16

Scheme = Literal["scrypt", "pbkdf2-sha512"]
_ASCII_NUMBER = re.compile(r"[0-9]{1,10}")


class PasswordError(Exception):
    """Base of password-hashing errors."""


class InvalidHashError(PasswordError, ValueError):
    """The stored hash is not in a recognised format, or its parameters are out of bounds."""


class PasswordTooLongError(PasswordError, ValueError):
    """The password is longer than ``MAX_PASSWORD_BYTES`` UTF-8 bytes (hashing it would be a DoS lever)."""


def _password_bytes(password: str | bytes) -> bytes:
    data = password.encode("utf-8") if isinstance(password, str) else bytes(password)
    if len(data) > MAX_PASSWORD_BYTES:
        raise PasswordTooLongError(f"password longer than {MAX_PASSWORD_BYTES} bytes")
    return data


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise InvalidHashError("hash is not valid base64") from exc


@dataclass(frozen=True, slots=True)
class _Parsed:
    scheme: Scheme
    salt: bytes
    digest: bytes
    cost: int = 0
    n: int = 0
    r: int = 0
    p: int = 0


def _ascii_int(text: str) -> int | None:
    """``int(text)`` for 1-10 ASCII digits, else None. ``str.isdigit``/``int`` would take ``²``, ``１`` or ``٣``."""
    return int(text) if _ASCII_NUMBER.fullmatch(text) else None


def _parse(encoded: str) -> _Parsed:
    if not isinstance(encoded, str):
        raise InvalidHashError("hash must be a string")
    parts = encoded.split("$")
    cost = _ascii_int(parts[0]) if len(parts) == 3 else None
    if cost is not None:  # Go: "<cost>$<b64 salt>$<b64 hash>"
        if not PBKDF2_MINIMUM_COST <= cost <= PBKDF2_MAXIMUM_COST:
            raise InvalidHashError(f"PBKDF2 cost {cost} out of bounds")
        salt, digest = _unb64(parts[1]), _unb64(parts[2])
        if not salt or len(digest) not in (_PBKDF2_KEY_BYTES, _PBKDF2_LEGACY_KEY_BYTES):
            raise InvalidHashError("PBKDF2 hash has a bad salt or digest length")
        return _Parsed("pbkdf2-sha512", salt, digest, cost=cost)
    if len(parts) == 4 and parts[0] == "scrypt":  # "scrypt$n=<N>,r=<r>,p=<p>$<b64 salt>$<b64 hash>"
        try:
            params = dict(item.split("=", 1) for item in parts[1].split(","))
        except ValueError as exc:
            raise InvalidHashError("bad scrypt parameters") from exc
        numbers = [_ascii_int(params.get(name, "")) for name in ("n", "r", "p")]
        if set(params) != {"n", "r", "p"} or None in numbers:
            raise InvalidHashError("bad scrypt parameters")
        n, r, p = (number or 0 for number in numbers)
        if n < 2 or n & (n - 1) or n > _SCRYPT_MAX_N:
            raise InvalidHashError("bad scrypt N")
        if not 1 <= r <= _SCRYPT_MAX_R or not 1 <= p <= _SCRYPT_MAX_P:
            raise InvalidHashError("bad scrypt r or p")
        salt, digest = _unb64(parts[2]), _unb64(parts[3])
        if not salt or len(digest) != _SCRYPT_KEY_BYTES:
            raise InvalidHashError("scrypt hash has a bad salt or digest length")
        return _Parsed("scrypt", salt, digest, n=n, r=r, p=p)
    raise InvalidHashError("unrecognised password hash format")


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password, salt=salt, n=n, r=r, p=p, dklen=_SCRYPT_KEY_BYTES, maxmem=128 * r * (n + p + 2) + 2**20
    )


@dataclass(frozen=True, slots=True)
class PasswordHasher:
    """Hashing policy for new hashes; verification accepts both schemes whatever the policy.

    Default: ``scheme="pbkdf2-sha512"`` with cost 210 000 (Go's ``DefaultCost``), the ``<cost>$<salt>$<hash>``
    format a Go Plumego service verifies, so Go and Python services can share one user table. ``scheme="scrypt"``
    (N=2^15, r=8, p=3: OWASP's 32 MiB setting) is memory-hard and stronger against GPU cracking, but only Python
    services can verify it; choose it when no Go service reads the hashes.
    """

    scheme: Scheme = "pbkdf2-sha512"
    scrypt_n: int = 2**15
    scrypt_r: int = 8
    scrypt_p: int = 3
    pbkdf2_cost: int = PBKDF2_DEFAULT_COST

    def __post_init__(self) -> None:
        if self.scheme not in ("scrypt", "pbkdf2-sha512"):
            raise ValueError(f"unknown scheme {self.scheme!r}")
        if not PBKDF2_MINIMUM_COST <= self.pbkdf2_cost <= PBKDF2_MAXIMUM_COST:
            raise ValueError("pbkdf2_cost out of bounds")
        n = self.scrypt_n
        if n < 2 or n & (n - 1) or n > _SCRYPT_MAX_N or not 1 <= self.scrypt_r <= _SCRYPT_MAX_R:
            raise ValueError("bad scrypt parameters")
        if not 1 <= self.scrypt_p <= _SCRYPT_MAX_P:
            raise ValueError("bad scrypt p")

    def hash(self, password: str | bytes) -> str:
        data = _password_bytes(password)
        salt = secrets.token_bytes(_SALT_BYTES)
        if self.scheme == "pbkdf2-sha512":
            digest = hashlib.pbkdf2_hmac("sha512", data, salt, self.pbkdf2_cost, _PBKDF2_KEY_BYTES)
            return f"{self.pbkdf2_cost}${_b64(salt)}${_b64(digest)}"
        digest = _scrypt(data, salt, self.scrypt_n, self.scrypt_r, self.scrypt_p)
        return f"scrypt$n={self.scrypt_n},r={self.scrypt_r},p={self.scrypt_p}${_b64(salt)}${_b64(digest)}"

    def verify(self, encoded: str, password: str | bytes) -> bool:
        """True when ``password`` matches; raises :class:`InvalidHashError` for a malformed stored hash."""
        parsed = _parse(encoded)
        data = _password_bytes(password)
        if parsed.scheme == "pbkdf2-sha512":
            computed = hashlib.pbkdf2_hmac("sha512", data, parsed.salt, parsed.cost, _PBKDF2_KEY_BYTES)
            # The legacy Go form stored 32 bytes: PBKDF2's first 32 output bytes are the same computation.
            computed = computed[: len(parsed.digest)]
        else:
            computed = _scrypt(data, parsed.salt, parsed.n, parsed.r, parsed.p)
        return hmac.compare_digest(computed, parsed.digest)

    def needs_rehash(self, encoded: str) -> bool:
        """True when the stored hash uses another scheme, weaker parameters, or the legacy 32-byte digest."""
        parsed = _parse(encoded)
        if parsed.scheme != self.scheme:
            return True
        if parsed.scheme == "pbkdf2-sha512":
            return parsed.cost < self.pbkdf2_cost or len(parsed.digest) != _PBKDF2_KEY_BYTES
        return parsed.n < self.scrypt_n or parsed.r < self.scrypt_r or parsed.p < self.scrypt_p


def hash_password(password: str | bytes, hasher: PasswordHasher | None = None) -> str:
    return (hasher or PasswordHasher()).hash(password)


def verify_password(encoded: str, password: str | bytes) -> bool:
    """Verify against any supported format (the parameters come from the stored hash)."""
    return PasswordHasher().verify(encoded, password)


def needs_rehash(encoded: str, hasher: PasswordHasher | None = None) -> bool:
    return (hasher or PasswordHasher()).needs_rehash(encoded)


def password_strength_problems(
    password: str,
    *,
    min_length: int = 8,
    max_length: int = 1024,
    require_upper: bool = True,
    require_lower: bool = True,
    require_digit: bool = True,
    require_special: bool = False,
) -> list[str]:
    """Go's ``ValidatePasswordStrength`` defaults, as a list of problems (empty = acceptable). Lengths in
    characters after NFC normalisation."""
    text = unicodedata.normalize("NFC", password)
    problems: list[str] = []
    if len(text) < min_length:
        problems.append(f"must be at least {min_length} characters")
    if len(text) > max_length:
        problems.append(f"must be at most {max_length} characters")
    if require_upper and not any(c.isupper() for c in text):
        problems.append("must contain an uppercase letter")
    if require_lower and not any(c.islower() for c in text):
        problems.append("must contain a lowercase letter")
    if require_digit and not any(c.isdigit() for c in text):
        problems.append("must contain a digit")
    if require_special and all(c.isalnum() or c.isspace() for c in text):
        problems.append("must contain a special character")
    return problems
