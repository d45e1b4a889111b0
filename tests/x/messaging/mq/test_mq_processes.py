"""The queue across processes, for real: several consumer processes share one queue, a worker killed with
SIGKILL mid-task has its task redelivered after the lease, and an acknowledged enqueue survives kill -9 of the
producer. Runs for every backend."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from plumego.x.messaging.mq import TaskQueue, TaskStatus, open_queue

CHILD = Path(__file__).with_name("mq_child.py")
REPO = Path(__file__).resolve().parents[4]


def spawn(mode: str, url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, str(CHILD), mode, url], stdout=subprocess.PIPE, text=True, env=env,
                            cwd=REPO)


async def test_consumer_processes_share_the_queue(queue: TaskQueue, queue_url: str) -> None:
    ids = {(await queue.enqueue("t", b"%d" % i)).id for i in range(90)}
    children = [spawn("consume", queue_url) for _ in range(3)]
    outputs = [await asyncio.to_thread(c.communicate, timeout=120) for c in children]
    assert all(c.returncode == 0 for c in children)
    acked = [line for out, _ in outputs for line in out.split()]
    assert sorted(acked) == sorted(ids)                  # each task acked exactly once across the processes
    assert (await queue.stats()).done == 90


async def test_worker_killed_mid_task_is_redelivered(queue_url: str) -> None:
    queue = await open_queue(queue_url)                  # the real clock: the child's lease runs out for real
    try:
        task = await queue.enqueue("crash", b"x")
        child = spawn("hang", queue_url)
        try:
            assert child.stdout is not None
            line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 60)
            assert line.split() == ["started", task.id]
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        running = await queue.get(task.id)
        assert running is not None and running.status == TaskStatus.LEASED
        loop = asyncio.get_running_loop()
        end = loop.time() + 60
        while not (got := await queue.reserve(["crash"], consumer_id="rescuer")):
            assert loop.time() < end, "the task was never redelivered"
            await asyncio.sleep(0.1)
        assert got[0].id == task.id and got[0].attempts == 2
    finally:
        await queue.close()


async def test_acknowledged_enqueue_survives_kill_of_the_producer(queue_url: str) -> None:
    child = spawn("produce", queue_url)
    acknowledged: list[str] = []
    try:
        assert child.stdout is not None
        while len(acknowledged) < 25:
            line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 60)
            assert line, "the producer stopped early"
            acknowledged.append(line.strip())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    queue = await open_queue(queue_url)
    try:
        for task_id in acknowledged:
            stored = await queue.get(task_id)
            assert stored is not None and stored.status == TaskStatus.QUEUED
    finally:
        await queue.close()
