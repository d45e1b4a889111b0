"""Choose tenant state and config backends by URL, so an app moves from one process to many by configuration.

State: ``memory`` (per process), ``sqlite:///path.db`` (every process on the machine), ``redis://host:6379/0?prefix=NS``
(every machine). Configs: ``memory``, ``sqlite:///path.db``, ``postgresql://host/db?schema=S``; each behind a
:class:`CachedConfigManager` when ``cache_ttl`` > 0. Owns URL parsing only; a backend's client library is imported
when its URL is used. Imports the standard library and this package.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ._config import CachedConfigManager, ConfigManager, InMemoryConfigManager
from ._session import MemorySessionStore, SessionStore
from ._state import MemoryStateStore, TenantStateStore

__all__ = ["open_config_manager", "open_session_store", "open_state_store"]


def _sqlite_path(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path[1:] if parts.path.startswith("/") else parts.path   # sqlite:///a.db -> a.db
    if not path:
        raise ValueError("a sqlite URL needs a file path: sqlite:///tenant.db")
    return path


def open_state_store(url: str) -> TenantStateStore:
    """Unknown schemes raise ValueError naming the supported ones."""
    scheme = urlsplit(url).scheme.lower() if "://" in url else url.lower()
    if scheme in ("", "memory"):
        return MemoryStateStore()
    if scheme == "sqlite":
        from ._state_sqlite import SQLiteStateStore

        return SQLiteStateStore(_sqlite_path(url))
    if scheme in ("redis", "rediss"):
        from ._state_redis import RedisStateStore

        return RedisStateStore.from_url(url)
    raise ValueError(f"unsupported tenant state URL {url!r}: use memory, sqlite:///path or redis://host")


async def open_config_manager(url: str, *, cache_size: int = 1024, cache_ttl: float = 5.0,
                              timeout: float = 5.0) -> ConfigManager:
    """``timeout`` bounds how long a PostgreSQL call waits for a connection before failing closed."""
    scheme = urlsplit(url).scheme.lower() if "://" in url else url.lower()
    manager: ConfigManager
    if scheme in ("", "memory"):
        return InMemoryConfigManager()
    if scheme == "sqlite":
        from ._config_sqlite import SQLiteConfigManager

        manager = SQLiteConfigManager(_sqlite_path(url))
    elif scheme in ("postgresql", "postgres"):
        from ._config_postgres import PostgresConfigManager

        manager = await PostgresConfigManager.open(url, timeout=timeout)
    else:
        raise ValueError(f"unsupported tenant config URL {url!r}: use memory, sqlite:///path or postgresql://...")
    return CachedConfigManager(manager, size=cache_size, ttl=cache_ttl) if cache_ttl > 0 else manager


def open_session_store(url: str) -> SessionStore:
    """``memory`` (per process), ``sqlite:///sessions.db`` (every process on the host), ``redis://host/0?prefix=NS``
    (every machine)."""
    scheme = urlsplit(url).scheme.lower() if "://" in url else url.lower()
    if scheme in ("", "memory"):
        return MemorySessionStore()
    if scheme == "sqlite":
        from ._session import SQLiteSessionStore

        return SQLiteSessionStore(_sqlite_path(url))
    if scheme in ("redis", "rediss"):
        from ._session_redis import RedisSessionStore

        return RedisSessionStore.from_url(url)
    raise ValueError(f"unsupported session store URL {url!r}: use memory, sqlite:///path or redis://host")
