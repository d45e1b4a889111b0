"""plumego.x.data.idempotency (beta): the stable store's ``IdempotencyStore`` protocol on shared engines.

:class:`PostgresIdempotencyStore`, :class:`MySQLIdempotencyStore` (MySQL and MariaDB) and
:class:`RedisIdempotencyStore`, next to the stable store's SQLite one, chosen by URL with
:func:`open_idempotency`. All make the same decisions (one module holds the state machine) and pass the stable
store's own conformance tests. Beyond Go: Go's KV store is atomic within one process only; every engine here is
atomic across machines (row locks, WATCH/MULTI). Imports the standard library, plumego.store and this package;
drivers are optional extras imported when a store is opened.
"""

from ._decide import IdempotencyBackendError
from ._open import open_idempotency
from ._redis import RedisIdempotencyStore
from ._sql import MySQLIdempotencyStore, PostgresIdempotencyStore

__all__ = ["IdempotencyBackendError", "MySQLIdempotencyStore", "PostgresIdempotencyStore", "RedisIdempotencyStore",
           "open_idempotency"]
