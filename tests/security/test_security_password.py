"""Passwords: a Go-made PBKDF2 hash verifies, new hashes default to Go's format, scrypt on request, needs_rehash,
malformed hashes refused (numbers in ASCII digits only)."""

from __future__ import annotations

import pytest

from plumego.security import (
    InvalidHashError,
    PasswordHasher,
    PasswordTooLongError,
    hash_password,
    needs_rehash,
    password_strength_problems,
    verify_password,
)

# Computed independently of this code base with OpenSSL, per Go Plumego's documented format
# "<cost>$<std base64 salt>$<std base64 hash>" (PBKDF2-HMAC-SHA512, 16-byte salt, 64-byte key):
#   openssl kdf -keylen 64 -kdfopt digest:SHA512 -kdfopt pass:'Corr3ct-Horse-Battery' \
#     -kdfopt hexsalt:9f1c2a7be04d3168c55a0e72b9d4f813 -kdfopt iter:100000 PBKDF2
GO_HASH = (
    "100000$nxwqe+BNMWjFWg5yudT4Ew==$"
    "WR9pn5wmIPNkbx8MPmknhLt+oufoBlX9Im+gvahYZFq6vxxzipEWygsPCrtGzpKlpZbx2DTxqUzA2M7yrn34Vw=="
)
# Go's legacy 32-byte digest form (same command with -keylen 32).
GO_LEGACY_HASH = "100000$nxwqe+BNMWjFWg5yudT4Ew==$WR9pn5wmIPNkbx8MPmknhLt+oufoBlX9Im+gvahYZFo="
PASSWORD = "Corr3ct-Horse-Battery"
FAST_SCRYPT = PasswordHasher(scheme="scrypt", scrypt_n=2**10, scrypt_r=8, scrypt_p=1)


def test_go_made_hashes_verify() -> None:
    assert verify_password(GO_HASH, PASSWORD)
    assert not verify_password(GO_HASH, PASSWORD + "x")
    assert verify_password(GO_LEGACY_HASH, PASSWORD)
    assert needs_rehash(GO_HASH)  # cost 100 000 is below the default 210 000
    assert needs_rehash(GO_LEGACY_HASH, PasswordHasher(scheme="pbkdf2-sha512", pbkdf2_cost=100_000))
    assert not needs_rehash(GO_HASH, PasswordHasher(scheme="pbkdf2-sha512", pbkdf2_cost=100_000))


def test_pbkdf2_hashes_are_in_go_format() -> None:
    hasher = PasswordHasher(scheme="pbkdf2-sha512", pbkdf2_cost=100_000)
    encoded = hasher.hash("pässwörd")
    cost, salt, digest = encoded.split("$")
    assert cost == "100000" and len(salt) == 24 and len(digest) == 88
    assert verify_password(encoded, "pässwörd")
    assert PasswordHasher().pbkdf2_cost == 210_000


def test_default_hashes_are_go_format_so_a_go_service_can_verify_them() -> None:
    encoded = hash_password(PASSWORD)
    cost, salt, digest = encoded.split("$")
    assert cost == "210000" and len(salt) == 24 and len(digest) == 88
    assert PasswordHasher().scheme == "pbkdf2-sha512"
    # Recompute the digest the way Go does (PBKDF2-HMAC-SHA512, 64-byte key) from the stored salt.
    import base64
    import hashlib

    expected = hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), base64.b64decode(salt), 210_000, 64)
    assert base64.b64decode(digest) == expected
    assert not needs_rehash(encoded)


def test_scrypt_round_trip_and_rehash_policy() -> None:
    encoded = hash_password("secret", FAST_SCRYPT)
    assert encoded.startswith("scrypt$n=1024,r=8,p=1$")
    assert FAST_SCRYPT.verify(encoded, "secret")
    assert not FAST_SCRYPT.verify(encoded, "Secret")
    assert not FAST_SCRYPT.needs_rehash(encoded)
    assert PasswordHasher(scheme="scrypt").needs_rehash(encoded)  # weaker than the default N
    assert PasswordHasher().needs_rehash(encoded)  # another scheme than the default
    assert hash_password("secret", FAST_SCRYPT) != encoded  # fresh salt


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "plain",
        "99$c2FsdA==$aGFzaA==",  # cost below the minimum
        "100000$!!!$aGFzaA==",
        "100000$c2FsdA==$aGFzaA==",  # wrong digest length
        "scrypt$n=1000,r=8,p=1$c2FsdA==$" + "A" * 88,  # N not a power of two
        "scrypt$n=1073741824,r=8,p=1$c2FsdA==$" + "A" * 88,  # N beyond the DoS bound
        "scrypt$n=1024,r=8$c2FsdA==$" + "A" * 88,
        # Only ASCII digits are numbers (Go's strconv): superscript, full-width, Arabic-Indic, signs, spaces.
        "\u00b2\u00b9\u2070\u2070\u2070\u2070$c2FsdA==$" + "A" * 88,
        "\uff12\uff11\uff10\uff10\uff10\uff10$c2FsdA==$" + "A" * 88,
        "\u0662\u0661\u0660\u0660\u0660\u0660$c2FsdA==$" + "A" * 88,
        "+210000$c2FsdA==$" + "A" * 88,
        " 210000$c2FsdA==$" + "A" * 88,
        "210_000$c2FsdA==$" + "A" * 88,
        "scrypt$n=\uff11\uff10\uff12\uff14,r=8,p=1$c2FsdA==$" + "A" * 88,
        "scrypt$n=1_024,r=8,p=1$c2FsdA==$" + "A" * 88,
        "scrypt$n=1024,r=+8,p=1$c2FsdA==$" + "A" * 88,
    ],
)
def test_malformed_hashes_raise(bad: str) -> None:
    with pytest.raises(InvalidHashError):
        verify_password(bad, "x")


def test_length_limit_and_strength() -> None:
    with pytest.raises(PasswordTooLongError):
        hash_password("x" * 4097, FAST_SCRYPT)
    assert password_strength_problems("Abcdefg1") == []
    assert len(password_strength_problems("short")) == 3


@pytest.mark.parametrize("digits", ["\uff11\uff10\uff10\uff10\uff10\uff10", "\u0661\u0660\u0660\u0660\u0660\u0660"])
def test_non_ascii_digit_cost_is_refused_even_when_the_rest_is_valid(digits: str) -> None:
    # GO_HASH with its cost (100000) written in full-width or Arabic-Indic digits: Go's parser refuses it.
    _, salt, digest = GO_HASH.split("$")
    with pytest.raises(InvalidHashError):
        verify_password(f"{digits}${salt}${digest}", PASSWORD)
