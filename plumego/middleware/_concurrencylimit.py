"""Concurrency-limit middleware: caps in-flight HTTP requests, with an optional bounded wait queue.

Owns the admission decision and its 503 envelopes. State (slot counters) belongs to one middleware
instance, never to the module. Imports only the standard library and plumego.contract.
"""

from __future__ import annotations

import asyncio
from collections import deque

from plumego.contract import APIError, ASGIApp, ErrorType, Middleware, Receive, Scope, Send
from plumego.middleware._asgi import send_error

CODE_SERVER_BUSY = "server_busy"
CODE_SERVER_QUEUE_TIMEOUT = "server_queue_timeout"


class _Slots:
    """FIFO slot hand-off: a finishing request passes its slot straight to the oldest waiter."""

    __slots__ = ("limit", "active", "waiters")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self.waiters: deque[asyncio.Future[None]] = deque()

    def try_acquire(self) -> bool:
        if self.active < self.limit and not self.waiters:
            self.active += 1
            return True
        return False

    async def acquire(self, timeout: float) -> bool:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter
            return True
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                return True  # the slot arrived just as the timer fired: keep it
            return False
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot we will never use
            raise
        finally:
            if not waiter.done():
                waiter.cancel()
            try:
                self.waiters.remove(waiter)
            except ValueError:
                pass

    def release(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # slot handed over; ``active`` is unchanged
                return
        self.active -= 1


def concurrency_limit(
    max_concurrent: int,
    *,
    queue_depth: int = 0,
    queue_timeout: float = 0.1,
) -> Middleware:
    """Run at most ``max_concurrent`` HTTP requests at once (``<= 0`` disables the middleware).

    Up to ``queue_depth`` further requests wait (FIFO) at most ``queue_timeout`` seconds for a slot.
    When running plus waiting requests already reach ``max_concurrent + queue_depth`` the request is
    answered 503 ``service_unavailable`` with code ``server_busy``; a wait that times out gets 503 code
    ``server_queue_timeout`` with details ``{queue_occupancy, queue_capacity}``. Both carry
    ``Retry-After: 1``. A client that goes away while waiting just leaves the queue.
    """
    if queue_depth < 0:
        raise ValueError("queue_depth must be >= 0")

    def wrap(app: ASGIApp) -> ASGIApp:
        if max_concurrent <= 0:
            return app
        slots = _Slots(max_concurrent)
        capacity = max_concurrent + queue_depth

        async def concurrency_limit_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            if not slots.try_acquire():
                occupancy = slots.active + len(slots.waiters)
                if occupancy >= capacity or queue_timeout <= 0:
                    err = APIError(ErrorType.UNAVAILABLE, "server busy", code=CODE_SERVER_BUSY)
                    await send_error(scope, send, err, [(b"retry-after", b"1")])
                    return
                if not await slots.acquire(queue_timeout):
                    err = APIError(
                        ErrorType.UNAVAILABLE,
                        "timed out waiting for a free request slot",
                        code=CODE_SERVER_QUEUE_TIMEOUT,
                        details={"queue_occupancy": slots.active + len(slots.waiters), "queue_capacity": capacity},
                    )
                    await send_error(scope, send, err, [(b"retry-after", b"1")])
                    return
            try:
                await app(scope, receive, send)
            finally:
                slots.release()

        return concurrency_limit_app

    return wrap
