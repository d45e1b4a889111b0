"""In-process pub/sub: publish-to-delivery rate against a bare asyncio.Queue fan-out (not a test).

Both sides publish N messages to S subscribers and each subscriber's reader takes all of them; the bare side is
a list of asyncio.Queue objects fed in a loop (no topics, no patterns, no policies). Reports messages delivered
per second (N x S / elapsed) and the ratio.
Usage: python bench/pubsub_bench.py [--messages N] [--runs R]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from plumego.x.messaging.pubsub import InProcBroker


async def plumego_run(n: int, subs: int) -> float:
    broker = InProcBroker()
    readers = [broker.subscribe("bench/topic", buffer=n) for _ in range(subs)]

    async def read(sub: object) -> None:
        for _ in range(n):
            await sub.get()  # type: ignore[attr-defined]

    start = time.perf_counter()
    tasks = [asyncio.create_task(read(s)) for s in readers]
    for i in range(n):
        await broker.publish("bench/topic", i)
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


async def bare_run(n: int, subs: int) -> float:
    queues: list[asyncio.Queue[int]] = [asyncio.Queue(maxsize=n) for _ in range(subs)]

    async def read(q: asyncio.Queue[int]) -> None:
        for _ in range(n):
            await q.get()

    start = time.perf_counter()
    tasks = [asyncio.create_task(read(q)) for q in queues]
    for i in range(n):
        for q in queues:
            q.put_nowait(i)
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.messages} messages; median of {args.runs} runs")
    print(f"{'subscribers':>11} {'plumego deliveries/s':>21} {'asyncio.Queue/s':>16} {'plumego/bare time':>18}")
    for subs in (1, 100):
        n = args.messages if subs == 1 else args.messages // 10
        ours = statistics.median([await plumego_run(n, subs) for _ in range(args.runs)])
        bare = statistics.median([await bare_run(n, subs) for _ in range(args.runs)])
        total = n * subs
        print(f"{subs:>11} {total / ours:>21,.0f} {total / bare:>16,.0f} {ours / bare:>17.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
