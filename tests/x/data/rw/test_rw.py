"""Read/write split: the statement classifier, and a Cluster over a real primary and its streaming replica
(started by the ``pg_replica_pair`` fixture with pg_basebackup), plus a replica that is down."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from plumego.x.data.rw import Cluster, NoReplicaError, Target, classify, force_primary, prefer_replica

P, R = Target.PRIMARY, Target.REPLICA


@pytest.mark.parametrize(("sql", "target"), [
    ("SELECT * FROM t", R),
    ("  select 'FOR UPDATE', \"delete\" from t -- update", R),
    ("WITH x AS (SELECT 1) SELECT * FROM x", R),
    ("SHOW search_path", R),
    ("SELECT * FROM t FOR UPDATE", P),
    ("SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED", P),
    ("select * from t for share", P),
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", P),
    ("SELECT nextval('s')", P),
    ("SELECT * INTO copy FROM t", P),
    ("/* SELECT */ DELETE FROM t", P),
    ("INSERT INTO t VALUES ('SELECT')", P),
    ("UPDATE t SET x = 1", P),
    ("DO $$ BEGIN PERFORM 1; END $$", P),
    ("EXPLAIN SELECT 1", P),
    ("", P),
    ("VACUUM t", P),
    ("SELECT $q$FOR UPDATE$q$", R),
])
def test_classify(sql: str, target: Target) -> None:
    assert classify(sql) is target


def dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"postgresql://postgres@127.0.0.1:{probe.getsockname()[1]}/postgres"


@pytest.fixture
async def cluster(pg_replica_pair: tuple[str, str]) -> AsyncIterator[Cluster]:
    primary, replica = pg_replica_pair
    c = await Cluster.open(primary, [replica], failure_threshold=1)
    yield c
    await c.close()


IN_RECOVERY = "SELECT pg_is_in_recovery()"


@pytest.mark.services
async def test_routing_on_a_real_replica(cluster: Cluster) -> None:
    assert await cluster.execute(IN_RECOVERY) == [(True,)]              # a read: the replica
    await cluster.execute("CREATE TABLE IF NOT EXISTS rw_items (id INT PRIMARY KEY, name TEXT)")
    await cluster.execute("INSERT INTO rw_items VALUES (%s, %s) ON CONFLICT DO NOTHING", [1, "ada"])
    with force_primary():
        assert await cluster.execute(IN_RECOVERY) == [(False,)]
        assert await cluster.execute("SELECT name FROM rw_items WHERE id = 1") == [("ada",)]   # read-your-writes
        with prefer_replica():
            assert await cluster.execute(IN_RECOVERY) == [(True,)]
    for _ in range(100):                                                    # the replica catches up
        if await cluster.execute("SELECT count(*) FROM pg_class WHERE relname = 'rw_items'") == [(1,)]:
            break
        await asyncio.sleep(0.05)
    assert await cluster.execute("SELECT name FROM rw_items WHERE id = 1 FOR UPDATE") == [("ada",)]   # primary
    async with cluster.transaction():
        assert await cluster.execute(IN_RECOVERY) == [(False,)]            # pinned to the primary
        await cluster.execute("UPDATE rw_items SET name = 'grace' WHERE id = 1")
    with pytest.raises(Exception):
        async with cluster.transaction():
            await cluster.execute("UPDATE rw_items SET name = 'lost' WHERE id = 1")
            raise RuntimeError("roll back")
    with force_primary():
        assert await cluster.execute("SELECT name FROM rw_items WHERE id = 1") == [("grace",)]


@pytest.mark.services
async def test_down_replica_is_skipped_and_fallback(pg_replica_pair: tuple[str, str]) -> None:
    primary, replica = pg_replica_pair
    c = await Cluster.open(primary, [dead_url(), replica], failure_threshold=1, checkout_timeout=0.5)
    try:
        results = {(await c.execute(IN_RECOVERY))[0][0] for _ in range(4)}
        assert results == {True}                                         # the dead one failed over to the live one
        assert [r.healthy for r in c.replicas] == [False, True]
        assert (await c.check()) == {"replica-0": False, "replica-1": True}
    finally:
        await c.close()
    alone = await Cluster.open(primary, [dead_url()], failure_threshold=1, checkout_timeout=0.5)
    try:
        with pytest.raises(NoReplicaError):
            await alone.execute(IN_RECOVERY)
        alone.fallback_to_primary = True
        assert await alone.execute(IN_RECOVERY) == [(False,)]
    finally:
        await alone.close()


@pytest.mark.services
@pytest.mark.parametrize("balancer", ["round_robin", "random", "least_conn", "weighted"])
async def test_balancers_spread_reads(pg_replica_pair: tuple[str, str], balancer: str) -> None:
    primary, replica = pg_replica_pair
    weights = [1, 3] if balancer == "weighted" else None
    c = await Cluster.open(primary, [replica, replica], balancer=balancer, weights=weights, max_connections=2)
    try:
        for _ in range(60):
            assert await c.execute(IN_RECOVERY) == [(True,)]
        served = [r.served for r in c.replicas]
        assert sum(served) == 60 and min(served) > 0
        if balancer in ("round_robin", "least_conn"):
            assert served == [30, 30]
        if balancer == "weighted":
            assert served[1] > served[0]          # P(failure) ~ 1e-5 at weights 1:3 over 60 reads
    finally:
        await c.close()
