"""Sharding: strategies, routing and rewriting through sqlglot, fail-closed refusals, cross-shard policies, and
real execution on PostgreSQL with one connection pool per shard (each shard its own schema)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from plumego.x.data.sharding import (
    CrossShardError,
    HashStrategy,
    ListStrategy,
    ModStrategy,
    PoolShard,
    RangeStrategy,
    ShardingError,
    ShardingRule,
    ShardRouter,
    fnv1a32,
)

RULES = [ShardingRule("orders", "user_id", ModStrategy(), 4),
         ShardingRule("events", "day", RangeStrategy([(0, 100, 0), (100, 200, 1), (200, 300, 2)]), 3),
         ShardingRule("users", "region", ListStrategy({"eu": 0, "us": 1}, default=2), 3),
         ShardingRule("sessions", "token", HashStrategy(), 8)]


def test_strategies() -> None:
    assert fnv1a32(b"") == 0x811C9DC5 and fnv1a32(b"a") == 0xE40C292C           # FNV-1a test vectors
    assert HashStrategy().shard("42", 8) == HashStrategy().shard(42, 8)
    assert ModStrategy().shard(10, 4) == 2 and ModStrategy().shard("-1", 4) == 3
    assert ModStrategy().shard_range(3, 5, 4) == [0, 1, 3] and ModStrategy().shard_range(0, 99, 4) == [0, 1, 2, 3]
    rng = RangeStrategy([(0, 100, 0), (100, 200, 1)])
    assert rng.shard(99, 2) == 0 and rng.shard(100, 2) == 1 and rng.shard_range(50, 150, 2) == [0, 1]
    with pytest.raises(ShardingError):
        rng.shard(500, 2)
    with pytest.raises(ValueError):
        RangeStrategy([(0, 10, 0), (5, 20, 1)])
    assert ListStrategy({"eu": 0}, default=1).shard("xx", 2) == 1
    with pytest.raises(ShardingError):
        ListStrategy({"eu": 0}).shard("xx", 2)
    with pytest.raises(ShardingError):
        ModStrategy().shard("12abc", 4)


def test_routing_and_rewriting_keeps_literals_and_comments() -> None:
    router = ShardRouter(RULES)
    plan = router.route("SELECT id, note FROM orders WHERE user_id = %s AND note = 'orders; DROP' -- orders", [6])
    assert plan.shards == [2] and not plan.cross_shard
    assert plan.statements[2] == ("SELECT id, note FROM orders_2 WHERE user_id = %s AND note = 'orders; DROP' "
                                  "/* orders */")
    assert router.route("UPDATE orders SET note = 'x' WHERE 7 = user_id", None).statements == {
        3: "UPDATE orders_3 SET note = 'x' WHERE 7 = user_id"}
    assert router.route("DELETE FROM orders WHERE user_id = %(u)s", {"u": 5}).shards == [1]
    assert router.route("INSERT INTO orders (id, user_id) VALUES (1, 9), (2, %s)", [13]).statements == {
        1: "INSERT INTO orders_1 (id, user_id) VALUES (1, 9), (2, %s)"}
    assert router.route("SELECT * FROM events WHERE day BETWEEN 150 AND 180").shards == [1]
    assert router.route("SELECT * FROM users WHERE region = 'apac'").shards == [2]
    assert router.route("SELECT * FROM orders WHERE user_id IN (4, 8, 12)").shards == [0]


@pytest.mark.parametrize("sql", [
    "SELECT * FROM orders o JOIN users u ON u.id = o.user_id WHERE o.user_id = 1",
    "SELECT * FROM orders WHERE user_id = (SELECT max(id) FROM users)",
    "SELECT * FROM orders WHERE user_id = 1 UNION SELECT * FROM orders WHERE user_id = 2",
    "WITH x AS (SELECT 1) SELECT * FROM orders WHERE user_id = 1",
    "SELECT * FROM orders WHERE user_id = 1 OR user_id = 2",
    "DELETE FROM orders WHERE user_id = 1 RETURNING id",
    "INSERT INTO orders (id, user_id) SELECT id, user_id FROM orders_old",
    "SELECT * FROM public.orders WHERE user_id = 1",
    "UPDATE orders SET user_id = 2 WHERE user_id = 1",
    "SELECT * FROM orders WHERE user_id = 1; DROP TABLE orders",
    "DROP TABLE orders",
    "SELECT * FROM orders WHERE user_id = other_column",
    "INSERT INTO orders (id, note) VALUES (1, 'no key')",
    "SELEC * FROM orders",
    "SELECT * FROM unknown_table WHERE id = 1",
])
def test_fails_closed(sql: str) -> None:
    with pytest.raises(ShardingError):
        ShardRouter(RULES, cross_shard="first").route(sql)


def test_cross_shard_policies() -> None:
    for sql in ("SELECT * FROM orders", "SELECT * FROM orders WHERE user_id IN (1, 2)",
                "INSERT INTO orders (id, user_id) VALUES (1, 1), (2, 2)"):
        with pytest.raises(CrossShardError):
            ShardRouter(RULES).route(sql)
    first = ShardRouter(RULES, cross_shard="first").route("SELECT * FROM orders WHERE note = 'x'")
    assert first.shards == [0] and first.cross_shard
    assert ShardRouter(RULES, cross_shard="first_success").route("SELECT * FROM orders").shards == [0, 1, 2, 3]
    assert ShardRouter(RULES, default_shard=0).route("SELECT * FROM plain").statements == {
        0: "SELECT * FROM plain"}
    with pytest.raises(ShardingError):
        ShardRouter(RULES).route("SELECT * FROM orders WHERE user_id = %s", [])


@pytest.fixture
async def pg_shards(pg_schema: tuple[str, str]) -> AsyncIterator[list[Any]]:
    """Three shards, each a pool whose search_path is its own schema (separate databases in production)."""
    psycopg_pool = pytest.importorskip("psycopg_pool")
    base, schema = pg_schema
    pools = []
    import psycopg

    async with await psycopg.AsyncConnection.connect(base, autocommit=True) as admin:
        await admin.execute(f"CREATE SCHEMA {schema}")
        for shard in range(3):
            await admin.execute(f"CREATE SCHEMA {schema}_s{shard}")
            for table in range(3):
                await admin.execute(f"CREATE TABLE {schema}_s{shard}.orders_{table} "
                                    "(id INT PRIMARY KEY, user_id INT NOT NULL, note TEXT)")
    try:
        for shard in range(3):
            pool = psycopg_pool.AsyncConnectionPool(base, min_size=1, max_size=2, open=False,
                                                    kwargs={"autocommit": True,
                                                            "options": f"-c search_path={schema}_s{shard}"})
            await pool.open(wait=True)
            pools.append(pool)
        yield [PoolShard(p) for p in pools]
    finally:
        for pool in pools:
            await pool.close()
        async with await psycopg.AsyncConnection.connect(base, autocommit=True) as admin:
            for shard in range(3):
                await admin.execute(f"DROP SCHEMA IF EXISTS {schema}_s{shard} CASCADE")


@pytest.mark.services
async def test_on_postgres_shards(pg_shards: list[Any]) -> None:
    # shard (database) = user_id mod 3, table suffix = the same rule: rows of user u live in shard u%3, orders_{u%3}
    router = ShardRouter([ShardingRule("orders", "user_id", ModStrategy(), 3)])
    for i, user in enumerate([1, 2, 3, 4, 5, 6]):
        await router.execute(pg_shards, "INSERT INTO orders (id, user_id, note) VALUES (%s, %s, %s)",
                             [i, user, f"order of {user}"])
    assert await router.execute(pg_shards, "SELECT note FROM orders WHERE user_id = %s", [4]) == [("order of 4",)]
    counts = []
    for shard in pg_shards:
        rows = await shard.execute("SELECT (SELECT count(*) FROM orders_0) + (SELECT count(*) FROM orders_1)"
                                   " + (SELECT count(*) FROM orders_2)")
        counts.append(rows[0][0])
    assert counts == [2, 2, 2]
    await router.execute(pg_shards, "UPDATE orders SET note = 'paid' WHERE user_id = %(u)s", {"u": 5})
    assert await router.execute(pg_shards, "SELECT note FROM orders WHERE user_id = 5") == [("paid",)]
    with pytest.raises(CrossShardError):
        await router.execute(pg_shards, "SELECT * FROM orders")
    lenient = ShardRouter([ShardingRule("orders", "user_id", ModStrategy(), 3)], cross_shard="first_success")
    rows = await lenient.execute(pg_shards, "SELECT user_id FROM orders WHERE note = 'order of 3'")
    assert rows == [(3,)]                         # shard 0 answered first (it holds user 3)
    await pg_shards[0].execute("DROP TABLE orders_0")
    rows = await lenient.execute(pg_shards, "SELECT user_id FROM orders WHERE note = 'order of 4'")
    assert rows == [(4,)]                         # shard 0 failed, shard 1 answered
