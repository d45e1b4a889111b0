"""The idempotency state machine every shared backend applies inside its own atomic step.

Owns pure functions over an :class:`IdempotencyRecord` (the stable store's type) and the caller's clock, so
PostgreSQL, MySQL/MariaDB and Redis make exactly the decisions of the stable memory and SQLite stores: a completed
record replays, a live lock refuses, an expired lock is taken over, another fingerprint conflicts, and only the
lock holder may complete or release. Imports the standard library and plumego.store.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from plumego.store import (
    IdempotencyClaim,
    IdempotencyConflictError,
    IdempotencyInProgressError,
    IdempotencyLockLostError,
    IdempotencyRecord,
    IdempotencyStatus,
    InvalidKeyError,
    StoreError,
    validate_key,
)

__all__ = ["IdempotencyBackendError", "begin", "completed", "owned", "validate"]


class IdempotencyBackendError(StoreError):
    """The engine failed (unreachable, restarted, timed out). Nothing was decided: the request must not run
    (fail closed) and may be retried. The message may name hosts: for logs, not for clients."""


def validate(key: str, fingerprint: str, ttl: float, lock_ttl: float) -> None:
    validate_key(key)
    if not fingerprint:
        raise InvalidKeyError("fingerprint is required")
    if ttl <= 0 or lock_ttl <= 0:
        raise ValueError("ttl and lock_ttl must be > 0")


def begin(current: IdempotencyRecord | None, key: str, fingerprint: str, now: float, ttl: float,
          lock_ttl: float) -> tuple[IdempotencyClaim, IdempotencyRecord | None]:
    """The claim, and the record to write (None: write nothing)."""
    if current is not None and current.expires_at <= now:
        current = None
    if current is not None:
        if current.fingerprint != fingerprint:
            raise IdempotencyConflictError(f"idempotency key {key!r} was used with a different request")
        if current.status is IdempotencyStatus.COMPLETED:
            return IdempotencyClaim(acquired=False, token=None, record=current), None
        if current.lock_expires_at is not None and current.lock_expires_at > now:
            raise IdempotencyInProgressError(f"idempotency key {key!r} is being processed")
    token = secrets.token_urlsafe(18)
    created = current.created_at if current is not None else now
    record = IdempotencyRecord(key=key, fingerprint=fingerprint, status=IdempotencyStatus.IN_PROGRESS, response=None,
                               created_at=created, updated_at=now, expires_at=max(created + ttl, now + lock_ttl),
                               lock_token=token, lock_expires_at=now + lock_ttl)
    return IdempotencyClaim(acquired=True, token=token, record=None), record


def owned(current: IdempotencyRecord | None, key: str, token: str, now: float) -> IdempotencyRecord:
    if (current is None or current.expires_at <= now or current.status is not IdempotencyStatus.IN_PROGRESS
            or current.lock_token != token):
        raise IdempotencyLockLostError(f"lock on idempotency key {key!r} is not held by this token")
    return current


def completed(current: IdempotencyRecord, response: bytes, now: float) -> IdempotencyRecord:
    return replace(current, status=IdempotencyStatus.COMPLETED, response=bytes(response), updated_at=now,
                   lock_token=None, lock_expires_at=None)
