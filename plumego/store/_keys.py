"""Key validation shared by the cache, KV and idempotency stores.

Imports only the standard library.
"""

from __future__ import annotations

from ._errors import InvalidKeyError

__all__ = ["validate_key", "MAX_KEY_LENGTH"]

#: Longest key, in UTF-8 bytes, accepted by every store (the Go cache allows 256 bytes; Redis keys are larger,
#: but a bound keeps per-entry overhead predictable and keeps keys usable in logs).
MAX_KEY_LENGTH = 1024


def validate_key(key: str, max_length: int = MAX_KEY_LENGTH) -> bytes:
    """Return the UTF-8 encoding of ``key`` or raise :class:`InvalidKeyError`.

    Rejects empty keys, keys longer than ``max_length`` bytes, control characters and lone surrogates
    (which have no UTF-8 encoding and would sort inconsistently between engines).
    """
    if not isinstance(key, str) or not key:
        raise InvalidKeyError("key must be a non-empty string")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidKeyError("key is not encodable as UTF-8") from exc
    if len(encoded) > max_length:
        raise InvalidKeyError(f"key longer than {max_length} bytes")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise InvalidKeyError("key contains control characters")
    return encoded
