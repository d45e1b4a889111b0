"""plumego.x.ai.session (beta): conversation sessions with a TTL, message and token budgets, auto-trim, a
key/value context and the active context that fits a token budget; stored in memory (per process), SQLite (the
default for persistence) or Redis (shared by every worker), chosen by URL with ``open_storage``.

Better than Go Plumego here: Go keeps sessions in memory only; these persist and survive several workers
appending at once (compare-and-set on a version). Imports the standard library and x/ai; redis-py lazily.
"""

from ._manager import BudgetExceeded, Manager, SessionConfig
from ._model import (Session, SessionError, SessionExpired, SessionNotFound, StoredMessage, VersionConflict,
                     message_from_dict, message_to_dict)
from ._storage import MemoryStorage, RedisStorage, SessionStorage, SQLiteStorage, open_storage

__all__ = ["BudgetExceeded", "Manager", "MemoryStorage", "RedisStorage", "SQLiteStorage", "Session", "SessionConfig",
           "SessionError", "SessionExpired", "SessionNotFound", "SessionStorage", "StoredMessage", "VersionConflict",
           "message_from_dict", "message_to_dict", "open_storage"]
