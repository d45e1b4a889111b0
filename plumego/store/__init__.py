"""plumego.store: storage contracts and embedded implementations: cache, KV, file store and idempotency.

Stable root (ga). Imports only the standard library (plumego.contract, plumego.log, plumego.metrics are allowed
but unused); never plumego.x, the reference app or tooling.

Sync vs async: every contract (``Cache``, ``KVStore``, ``FileStore``, ``IdempotencyStore``) is a Protocol of
``async`` methods, because the backends that scale out (Redis, PostgreSQL, S3 in x/data) do network I/O and
handlers are coroutines. The embedded implementations satisfy those contracts and also expose ``<op>_sync``
twins: the memory ones never block; the SQLite and filesystem ones block, and their async methods run the twin in
a worker thread (``asyncio.to_thread``) so the event loop never waits on a disk.

Where this goes beyond Go Plumego: the cache evicts least-recently-used entries instead of refusing writes when
full; the KV store is SQLite in WAL mode (one row per write, multi-process safe) instead of rewriting one JSON file
per write; the file and idempotency stores ship working implementations, not just interfaces.
"""

from ._cache import Cache, CacheStats, MemoryCache
from ._errors import (
    FileExistsInStoreError,
    FileNotFoundInStoreError,
    IdempotencyConflictError,
    IdempotencyError,
    IdempotencyInProgressError,
    IdempotencyLockLostError,
    IntegrityError,
    InvalidKeyError,
    InvalidPathError,
    NotIntegerError,
    StoreClosedError,
    StoreError,
    ValueTooLargeError,
)
from ._file import FileContent, FileInfo, FileStore, LocalFileStore, normalize_store_path
from ._idempotency import (
    DEFAULT_IDEMPOTENCY_TTL,
    DEFAULT_LOCK_TTL,
    IdempotencyClaim,
    IdempotencyRecord,
    IdempotencyRules,
    IdempotencyStatus,
    IdempotencyStore,
    MemoryIdempotencyStore,
    SQLiteIdempotencyStore,
    request_fingerprint,
)
from ._keys import MAX_KEY_LENGTH, validate_key
from ._kv import KVStats, KVStore, SQLiteKVStore, prefix_upper_bound
from ._sqlite import SQLiteDatabase

__all__ = [
    # cache
    "Cache",
    "CacheStats",
    "MemoryCache",
    # kv
    "KVStore",
    "KVStats",
    "SQLiteKVStore",
    "prefix_upper_bound",
    # the WAL-mode SQLite plumbing the embedded stores share, for extensions that keep their own tables
    "SQLiteDatabase",
    # file
    "FileStore",
    "FileInfo",
    "FileContent",
    "LocalFileStore",
    "normalize_store_path",
    # idempotency
    "IdempotencyStore",
    "IdempotencyRecord",
    "IdempotencyClaim",
    "IdempotencyRules",
    "IdempotencyStatus",
    "MemoryIdempotencyStore",
    "SQLiteIdempotencyStore",
    "request_fingerprint",
    "DEFAULT_IDEMPOTENCY_TTL",
    "DEFAULT_LOCK_TTL",
    # keys and errors
    "MAX_KEY_LENGTH",
    "validate_key",
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
