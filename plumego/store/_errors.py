"""Error types shared by every plumego.store contract and implementation.

Backends in x/data raise these same classes so callers catch one family whatever the engine.
Imports only the standard library.
"""

from __future__ import annotations

__all__ = [
    "StoreError",
    "InvalidKeyError",
    "ValueTooLargeError",
    "StoreClosedError",
    "NotIntegerError",
    "FileNotFoundInStoreError",
    "FileExistsInStoreError",
    "InvalidPathError",
    "IntegrityError",
    "IdempotencyError",
    "IdempotencyConflictError",
    "IdempotencyInProgressError",
    "IdempotencyLockLostError",
]


class StoreError(Exception):
    """Base class of every error raised by plumego.store and its drop-in backends."""


class InvalidKeyError(StoreError, ValueError):
    """The key is empty, too long, or contains control characters or unencodable text."""


class ValueTooLargeError(StoreError, ValueError):
    """A single value is larger than the whole configured capacity, so it can never be stored."""


class StoreClosedError(StoreError):
    """The store was closed."""


class NotIntegerError(StoreError, ValueError):
    """incr was applied to a value that is not a decimal 64-bit integer."""


class FileNotFoundInStoreError(StoreError, FileNotFoundError):
    """The file store has no file at that path."""


class FileExistsInStoreError(StoreError, FileExistsError):
    """A put with ``overwrite=False`` hit an existing file."""


class InvalidPathError(StoreError, ValueError):
    """A file-store path is absolute, escapes the root (``..``, symlinks) or contains forbidden characters."""


class IntegrityError(StoreError):
    """Written content did not match the caller's expected SHA-256 digest; nothing was stored."""


class IdempotencyError(StoreError):
    """Base class of idempotency-protocol errors."""


class IdempotencyConflictError(IdempotencyError):
    """The key was already used for a request with a different fingerprint (a different payload)."""


class IdempotencyInProgressError(IdempotencyError):
    """Another worker holds the key's in-progress lock; retry later (HTTP 409 or 425 in middleware)."""


class IdempotencyLockLostError(IdempotencyError):
    """complete/release came from a worker whose lock expired and was taken over, or the record vanished."""
