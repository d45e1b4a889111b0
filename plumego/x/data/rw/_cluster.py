"""A PostgreSQL primary with read replicas behind one object (Go's ``rw.Cluster``), on psycopg 3 async pools.

Owns :class:`Cluster`, the context helpers :func:`force_primary` and :func:`prefer_replica`, and the errors.
Statements are routed by :func:`classify` (writes, locking reads and unknown statements to the primary); inside
``async with cluster.transaction()`` every statement of the task uses the transaction's primary connection;
``force_primary()`` sends reads to the primary (read-your-writes), ``prefer_replica()`` lets a read go to a
replica even inside a force. Replicas are chosen round-robin, at random, by fewest in-flight statements or by
weight; a replica that fails ``failure_threshold`` times in a row is taken out until a health check (``check()``
or the background prober started by ``start()``) reaches it again. With every replica out, reads fail with
:class:`NoReplicaError` unless ``fallback_to_primary`` (Go's default is false as well). Install with
``pip install 'plumego[data]'``. Imports the standard library and this package; psycopg when a cluster opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ._policy import Target, classify

__all__ = ["BALANCERS", "Cluster", "NoReplicaError", "force_primary", "prefer_replica"]

BALANCERS = ("round_robin", "random", "least_conn", "weighted")
Params = Sequence[Any] | Mapping[str, Any] | None

_FORCE: ContextVar[str | None] = ContextVar("plumego_rw_force", default=None)
_TX: ContextVar[Any] = ContextVar("plumego_rw_tx", default=None)


class NoReplicaError(RuntimeError):
    """No healthy replica and ``fallback_to_primary`` is off."""


@contextlib.contextmanager
def force_primary() -> Iterator[None]:
    """Every statement in this block (this task and the tasks it starts) goes to the primary."""
    token = _FORCE.set("primary")
    try:
        yield
    finally:
        _FORCE.reset(token)


@contextlib.contextmanager
def prefer_replica() -> Iterator[None]:
    """Reads in this block go to a replica even inside :func:`force_primary` (writes still go to the primary)."""
    token = _FORCE.set("replica")
    try:
        yield
    finally:
        _FORCE.reset(token)


@dataclass(slots=True)
class _Replica:
    name: str
    pool: Any
    weight: int = 1
    failures: int = 0
    healthy: bool = True
    in_flight: int = 0
    served: int = field(default=0)


def _is_connection_error(exc: BaseException) -> bool:
    try:
        import psycopg
        from psycopg_pool import PoolTimeout
    except ImportError:  # pragma: no cover
        return isinstance(exc, OSError)
    return isinstance(exc, (psycopg.OperationalError, PoolTimeout, OSError))


class Cluster:
    def __init__(self, primary: Any, replicas: Sequence[Any] = (), *, balancer: str = "round_robin",
                 weights: Sequence[int] | None = None, fallback_to_primary: bool = False,
                 failure_threshold: int = 3, health_interval: float = 5.0) -> None:
        if balancer not in BALANCERS:
            raise ValueError(f"balancer must be one of {', '.join(BALANCERS)}")
        if weights is not None and (len(weights) != len(replicas) or any(w < 1 for w in weights)):
            raise ValueError("one weight >= 1 per replica")
        self.primary = primary
        self.replicas = [_Replica(f"replica-{i}", pool, (weights or [1] * len(replicas))[i])
                         for i, pool in enumerate(replicas)]
        self.balancer = balancer
        self.fallback_to_primary = fallback_to_primary
        self.failure_threshold = failure_threshold
        self.health_interval = health_interval
        self._rr = itertools.count()
        self._prober: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, primary_url: str, replica_urls: Sequence[str] = (), *, max_connections: int = 10,
                   checkout_timeout: float = 5.0, **options: Any) -> Cluster:
        """Open one pool per node. ``checkout_timeout``: how long a statement waits for a connection before the
        node counts as failed (a replica that is down costs this much once per failure)."""
        try:
            from psycopg_pool import AsyncConnectionPool
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError("the read/write cluster needs psycopg 3: pip install 'plumego[data]'") from exc

        async def pool(url: str, required: bool) -> Any:
            p: Any = AsyncConnectionPool(url, min_size=0 if not required else 1, max_size=max_connections,
                                         open=False, timeout=checkout_timeout,
                                         kwargs={"autocommit": True})
            await p.open(wait=required, timeout=10)
            return p

        primary = await pool(primary_url, True)
        replicas = [await pool(url, False) for url in replica_urls]   # a replica may be down at start
        return cls(primary, replicas, **options)

    # -- routing ------------------------------------------------------------------------------------------------

    def target(self, sql: str) -> Target:
        """Where ``sql`` would go now (transaction, force/prefer context and statement type considered)."""
        if _TX.get() is not None:
            return Target.PRIMARY
        kind = classify(sql)
        if kind is Target.PRIMARY:
            return Target.PRIMARY
        return Target.PRIMARY if _FORCE.get() == "primary" else Target.REPLICA

    def _pick(self, exclude: set[str]) -> _Replica | None:
        candidates = [r for r in self.replicas if r.healthy and r.name not in exclude]
        if not candidates:
            return None
        if self.balancer == "random":
            return random.choice(candidates)
        if self.balancer == "least_conn":
            return min(candidates, key=lambda r: (r.in_flight, r.served))
        if self.balancer == "weighted":
            return random.choices(candidates, weights=[r.weight for r in candidates])[0]
        return candidates[next(self._rr) % len(candidates)]

    async def _run(self, pool: Any, sql: str, params: Params) -> list[tuple[Any, ...]]:
        async with pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            rows: list[tuple[Any, ...]] = await cursor.fetchall() if cursor.description is not None else []
            return rows

    def _failed(self, replica: _Replica) -> None:
        replica.failures += 1
        if replica.failures >= self.failure_threshold:
            replica.healthy = False

    async def execute(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Run one statement where it belongs; returns its rows (empty for statements without a result)."""
        tx = _TX.get()
        if tx is not None:
            cursor = await tx.execute(sql, params)
            rows: list[tuple[Any, ...]] = await cursor.fetchall() if cursor.description is not None else []
            return rows
        if self.target(sql) is Target.PRIMARY:
            return await self._run(self.primary, sql, params)
        tried: set[str] = set()
        while True:
            replica = self._pick(tried)
            if replica is None:
                if self.fallback_to_primary or not self.replicas:
                    return await self._run(self.primary, sql, params)
                raise NoReplicaError("no healthy replica for a read, and fallback_to_primary is off")
            tried.add(replica.name)
            replica.in_flight += 1
            try:
                result = await self._run(replica.pool, sql, params)
            except Exception as exc:
                if not _is_connection_error(exc):
                    raise                           # the statement's fault, not the replica's
                self._failed(replica)
                continue
            finally:
                replica.in_flight -= 1
            replica.failures = 0
            replica.served += 1
            return result

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """A primary transaction; ``cluster.execute`` inside the block (same task) runs on it. Yields the
        connection for direct use. Commits on success, rolls back on an exception."""
        if _TX.get() is not None:
            raise RuntimeError("a cluster transaction is already open in this task")
        async with self.primary.connection() as conn:
            async with conn.transaction():
                token = _TX.set(conn)
                try:
                    yield conn
                finally:
                    _TX.reset(token)

    # -- health -------------------------------------------------------------------------------------------------

    async def check(self) -> dict[str, bool]:
        """Ping every replica (``SELECT 1``); a replica that answers is back in rotation."""
        status: dict[str, bool] = {}
        for replica in self.replicas:
            try:
                await asyncio.wait_for(self._run(replica.pool, "SELECT 1", None), timeout=5)
            except Exception:  # noqa: BLE001 - any failure counts against the replica
                self._failed(replica)
            else:
                replica.failures = 0
                replica.healthy = True
            status[replica.name] = replica.healthy
        return status

    async def _probe(self) -> None:
        while True:
            await asyncio.sleep(self.health_interval)
            await self.check()

    async def start(self) -> None:
        """Lifecycle hook: start the background health prober."""
        if self._prober is None and self.replicas:
            self._prober = asyncio.create_task(self._probe(), name="rw-health")

    async def stop(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
            self._prober = None

    async def close(self) -> None:
        await self.stop()
        for pool in [self.primary, *(r.pool for r in self.replicas)]:
            await pool.close()
