"""Task queue throughput: plumego's queue against the raw client doing the same operations (not a test).

For each backend, N tasks go through enqueue, then reserve (one at a time, with a lease) and ack, from one
process, one connection; the raw loop does what the issue names for that engine, without plumego:
- sqlite: INSERT; BEGIN IMMEDIATE + SELECT the oldest due row + UPDATE it leased; UPDATE it done (WAL, FULL),
  each transaction in a worker thread as async code must run sqlite3 (the thread hop costs about 0.15 ms each way
  on a small VM, more than a WAL commit);
- postgresql: INSERT; UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1); UPDATE done;
- redis: XADD; XREADGROUP COUNT 1; XACK;
- nats: JetStream publish to a work-queue stream; a no-wait pull of 1 from a durable consumer; +ACK (acked).
The raw loops keep no dedupe index, no lease fencing and no status counts, so the ratio is the price of those.
Besides wall time it reports the client process's CPU time per task for both loops, which a loaded machine
disturbs much less than wall time (the servers' own work is not in it).
Usage: python bench/mq_bench.py [--tasks N] [--runs R] [--backends sqlite,postgresql,redis,nats]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
import uuid

from plumego.x.messaging.mq import open_queue

CPU: list[float] = []        # client CPU seconds of each timed loop, in call order (less sensitive to machine load)
PG = os.environ.get("PLUMEGO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("PLUMEGO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NATS = os.environ.get("PLUMEGO_TEST_NATS_URL", "nats://127.0.0.1:4222")


async def plumego_loop(url: str, n: int) -> float:
    queue = await open_queue(url)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(n):
            await queue.enqueue("bench", b'{"n": %d}' % i)
        for _ in range(n):
            (task,) = await queue.reserve(["bench"], consumer_id="c", lease=30)
            await queue.ack(task.id, "c")
        CPU.append(time.process_time() - cpu)
        return time.perf_counter() - start
    finally:
        await queue.close()


async def raw_sqlite(path: str, n: int) -> float:
    """sqlite3 as async code must use it: each transaction in a worker thread (asyncio.to_thread), as the
    plumego queue does, so the comparison is the same operations from the same kind of caller."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE q (seq INTEGER PRIMARY KEY, id TEXT, topic TEXT, payload BLOB, status TEXT,"
                 " available_at REAL, lease_until REAL)")
    conn.execute("CREATE INDEX q_ready ON q (status, topic, available_at, seq)")

    def insert(i: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO q (id, topic, payload, status, available_at) VALUES (?, 'bench', ?, 'queued', ?)",
                     (uuid.uuid4().hex, b'{"n": %d}' % i, time.time()))
        conn.execute("COMMIT")

    def lease() -> int:
        conn.execute("BEGIN IMMEDIATE")
        (seq,) = conn.execute("SELECT seq FROM q WHERE status = 'queued' AND topic = 'bench' AND available_at <= ?"
                              " ORDER BY available_at, seq LIMIT 1", (time.time(),)).fetchone()
        conn.execute("UPDATE q SET status = 'leased', lease_until = ? WHERE seq = ?", (time.time() + 30, seq))
        conn.execute("COMMIT")
        return int(seq)

    def done(seq: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE q SET status = 'done' WHERE seq = ?", (seq,))
        conn.execute("COMMIT")

    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        await asyncio.to_thread(insert, i)
    for _ in range(n):
        await asyncio.to_thread(done, await asyncio.to_thread(lease))
    elapsed = time.perf_counter() - start
    CPU.append(time.process_time() - cpu)
    conn.close()
    return elapsed


async def raw_postgres(schema: str, n: int) -> float:
    import psycopg

    async with await psycopg.AsyncConnection.connect(PG, autocommit=True) as conn:
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(f"CREATE TABLE {schema}.q (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT,"
                           " topic TEXT, payload BYTEA, status TEXT, available_at DOUBLE PRECISION,"
                           " lease_until DOUBLE PRECISION)")
        await conn.execute(f"CREATE INDEX ON {schema}.q (status, topic, available_at, seq)")
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(n):
            await conn.execute(f"INSERT INTO {schema}.q (id, topic, payload, status, available_at)"
                               " VALUES (%s, 'bench', %s, 'queued', %s)", (uuid.uuid4().hex, b'{"n": %d}' % i,
                                                                           time.time()))
        for _ in range(n):
            cur = await conn.execute(
                f"UPDATE {schema}.q SET status = 'leased', lease_until = %s WHERE seq = (SELECT seq FROM {schema}.q"
                " WHERE status = 'queued' AND topic = 'bench' AND available_at <= %s ORDER BY available_at, seq"
                " LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING seq", (time.time() + 30, time.time()))
            row = await cur.fetchone()
            assert row is not None
            await conn.execute(f"UPDATE {schema}.q SET status = 'done' WHERE seq = %s", (row[0],))
        elapsed = time.perf_counter() - start
        CPU.append(time.process_time() - cpu)
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return elapsed


async def raw_redis(key: str, n: int) -> float:
    import redis.asyncio as aioredis

    r = aioredis.Redis.from_url(REDIS)
    try:
        await r.xgroup_create(key, "g", id="0", mkstream=True)
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(n):
            await r.xadd(key, {"id": uuid.uuid4().hex, "payload": b'{"n": %d}' % i})
        for _ in range(n):
            got = await r.xreadgroup("g", "c", {key: ">"}, count=1)
            entry_id = got[0][1][0][0]
            await r.xack(key, "g", entry_id)
        elapsed = time.perf_counter() - start
        CPU.append(time.process_time() - cpu)
        await r.delete(key)
    finally:
        await r.aclose()
    return elapsed


async def raw_nats(stream: str, n: int) -> float:
    import json

    import nats
    from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StreamConfig

    nc = await nats.connect(NATS)
    js = nc.jetstream()
    subject = f"{stream.lower()}.bench"
    try:
        await js.add_stream(StreamConfig(name=stream, subjects=[subject], retention=RetentionPolicy.WORK_QUEUE))
        await js.add_consumer(stream, ConsumerConfig(durable_name="c", filter_subject=subject,
                                                     ack_policy=AckPolicy.EXPLICIT, ack_wait=30))
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(n):
            await js.publish(subject, b'{"n": %d}' % i, headers={"Nats-Msg-Id": uuid.uuid4().hex})
        for _ in range(n):
            inbox = nc.new_inbox()
            sub = await nc.subscribe(inbox)
            await nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.c", json.dumps({"batch": 1, "no_wait": True})
                             .encode(), reply=inbox)
            msg = await sub.next_msg(timeout=10)
            await sub.unsubscribe()
            await nc.publish(msg.reply, b"+ACK")
        elapsed = time.perf_counter() - start
        CPU.append(time.process_time() - cpu)
    finally:
        await js.delete_stream(stream)
        await nc.close()
    return elapsed


async def run_backend(name: str, n: int) -> tuple[float, float]:
    tag = uuid.uuid4().hex[:10]
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            ours = await plumego_loop(f"sqlite:///{tmp}/q.db", n)
            raw = await raw_sqlite(f"{tmp}/raw.db", n)
        return ours, raw
    if name == "postgresql":
        import psycopg

        schema = f"bench_{tag}"
        try:
            ours = await plumego_loop(f"{PG}?schema={schema}", n)
        finally:
            async with await psycopg.AsyncConnection.connect(PG, autocommit=True) as conn:
                await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        raw = await raw_postgres(f"raw_{tag}", n)
        return ours, raw
    if name == "redis":
        import redis.asyncio as aioredis

        prefix = f"bench{tag}"
        try:
            ours = await plumego_loop(f"{REDIS}?prefix={prefix}", n)
        finally:
            r = aioredis.Redis.from_url(REDIS)
            keys = [k async for k in r.scan_iter(match="{" + prefix + "}*")]
            if keys:
                await r.delete(*keys)
            await r.aclose()
        raw = await raw_redis(f"rawbench{tag}", n)
        return ours, raw
    if name == "nats":
        import nats

        namespace = f"bench{tag}"
        try:
            ours = await plumego_loop(f"{NATS}?namespace={namespace}", n)
        finally:
            nc = await nats.connect(NATS)
            for stream in (f"MQ_{namespace}", f"KV_MQ_{namespace}"):
                await nc.jetstream().delete_stream(stream)
            await nc.close()
        raw = await raw_nats(f"RAW_{tag}", n)
        return ours, raw
    raise SystemExit(f"unknown backend {name}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--backends", default="sqlite,postgresql,redis")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.tasks} tasks; median of {args.runs} runs")
    print(f"{'backend':<11} {'plumego tasks/s':>16} {'raw tasks/s':>12} {'plumego/raw time':>17}"
          f" {'client CPU us/task ours/raw':>28}")
    for name in args.backends.split(","):
        results, cpus = [], []
        for _ in range(args.runs):
            CPU.clear()
            results.append(await run_backend(name, args.tasks))
            cpus.append((CPU[0], CPU[1]))
        ours = statistics.median(r[0] for r in results)
        raw = statistics.median(r[1] for r in results)
        cpu_ours = statistics.median(c[0] for c in cpus) / args.tasks * 1e6
        cpu_raw = statistics.median(c[1] for c in cpus) / args.tasks * 1e6
        print(f"{name:<11} {args.tasks / ours:>16,.0f} {args.tasks / raw:>12,.0f} {ours / raw:>16.2f}x"
              f" {cpu_ours:>14,.0f} / {cpu_raw:<,.0f}")


if __name__ == "__main__":
    asyncio.run(main())
