"""A child process for the crash tests: ``python mq_child.py MODE URL``.

- ``produce``: enqueue tasks forever, printing each id once its enqueue has returned (was acknowledged).
- ``consume``: reserve and ack until the queue is empty, printing each id it acked.
- ``hang``: run a Worker (lease 1 s) whose handler prints ``started <id>`` and never returns.
The parent kills it with SIGKILL where the test says so.
"""

from __future__ import annotations

import asyncio
import sys

from plumego.x.messaging.mq import Task, Worker, open_queue


async def main(mode: str, url: str) -> None:
    queue = await open_queue(url)
    if mode == "produce":
        i = 0
        while True:
            task = await queue.enqueue("crash", b"%d" % i)
            print(task.id, flush=True)
            i += 1
    elif mode == "consume":
        name = f"child-{id(queue)}"
        while batch := await queue.reserve(["t"], consumer_id=name, limit=2):
            for t in batch:
                await queue.ack(t.id, name)
                print(t.id, flush=True)
    elif mode == "hang":
        async def handler(task: Task) -> None:
            print("started", task.id, flush=True)
            await asyncio.Event().wait()

        worker = Worker(queue, lease=1.0, poll_interval=0.05)
        worker.register("crash", handler)
        await worker.start()
        await asyncio.Event().wait()
    await queue.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
