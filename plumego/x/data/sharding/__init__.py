"""plumego.x.data.sharding (experimental): split tables over shards by key and route SQL to them.

Strategies (:class:`HashStrategy` FNV-1a, :class:`ModStrategy`, :class:`RangeStrategy`, :class:`ListStrategy`),
rules (:class:`ShardingRule`: logical table, key column, strategy, shard count, physical ``<table>_<n>``) and
:class:`ShardRouter`, which parses each statement with sqlglot, refuses what it cannot prove single-shard (joins,
subqueries, unions, CTEs, OR, RETURNING, ...), applies the cross-shard policy (deny by default) and rewrites the
table name. :class:`PoolShard` runs statements on a psycopg pool. Imports the standard library; sqlglot lazily.
"""

from ._router import CROSS_SHARD_POLICIES, CrossShardError, PoolShard, RoutePlan, ShardExecutor, ShardRouter
from ._strategy import (
    HashStrategy,
    ListStrategy,
    ModStrategy,
    RangeStrategy,
    ShardingError,
    ShardingRule,
    ShardingRules,
    Strategy,
    fnv1a32,
)

__all__ = ["CROSS_SHARD_POLICIES", "CrossShardError", "HashStrategy", "ListStrategy", "ModStrategy", "PoolShard",
           "RangeStrategy", "RoutePlan", "ShardExecutor", "ShardRouter", "ShardingError", "ShardingRule",
           "ShardingRules", "Strategy", "fnv1a32"]
