"""plumego.x.data.cache (experimental): a Redis cache adapter, a consistent-hash cache over many nodes, and
leaderboards on Redis sorted sets with an in-memory fallback.

:class:`RedisCache` and :class:`DistributedCache` implement the stable store's ``Cache`` protocol, so either drops
in where a ``MemoryCache`` was. Imports the standard library and plumego.store; redis-py when Redis is used.
"""

from ._leaderboard import Leaderboard, MemoryLeaderboard, RedisLeaderboard, open_leaderboard
from ._redis import CacheClearRefused, RedisCache
from ._ring import DistributedCache, HashRing, NoHealthyNodeError, fnv1a64

__all__ = ["CacheClearRefused", "DistributedCache", "HashRing", "Leaderboard", "MemoryLeaderboard",
           "NoHealthyNodeError", "RedisCache", "RedisLeaderboard", "fnv1a64", "open_leaderboard"]
