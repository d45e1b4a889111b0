"""A stored hash whose numbers are not ASCII digits is an InvalidHashError, never a stray ValueError."""

from __future__ import annotations

import pytest

from plumego.security import InvalidHashError, hash_password, verify_password


@pytest.mark.parametrize(
    "encoded",
    [
        "²$c2FsdHNhbHQ$" + "A" * 86,  # '²'.isdigit() is true but int('²') fails
        "scrypt$n=16384,r=+8,p=1$c2FsdA$" + "A" * 86,
        "scrypt$n=1_6384,r=8,p=1$c2FsdA$" + "A" * 86,
        "scrypt$n= 16384,r=8,p=1$c2FsdA$" + "A" * 86,
        "scrypt$n=١٦٣٨٤,r=8,p=1$c2FsdA$" + "A" * 86,
    ],
)
def test_malformed_numbers_in_a_stored_hash(encoded: str) -> None:
    with pytest.raises(InvalidHashError):
        verify_password(encoded, "secret")


def test_well_formed_hashes_still_verify() -> None:
    assert verify_password(hash_password("secret"), "secret")
