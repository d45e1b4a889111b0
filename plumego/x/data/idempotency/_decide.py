"""The idempotency state machine every shared backend applies inside its own atomic step.

Owns :class:`IdempotencyBackendError` and names the decisions, which are the stable store's own
(:class:`plumego.store.IdempotencyRules`), so PostgreSQL, MySQL/MariaDB and Redis decide exactly as the stable
memory and SQLite stores: a completed record replays, a live lock refuses, an expired lock is taken over, another
fingerprint conflicts, and only the lock holder may complete or release. Imports plumego.store only.
"""

from __future__ import annotations

from plumego.store import IdempotencyRules, StoreError

__all__ = ["IdempotencyBackendError", "begin", "completed", "owned", "validate"]


class IdempotencyBackendError(StoreError):
    """The engine failed (unreachable, restarted, timed out). Nothing was decided: the request must not run
    (fail closed) and may be retried. The message may name hosts: for logs, not for clients."""


# The stable store's own decisions (plumego.store.IdempotencyRules), so the shared engines cannot drift from them.
validate = IdempotencyRules.validate
begin = IdempotencyRules.begin
owned = IdempotencyRules.owned
completed = IdempotencyRules.completed
