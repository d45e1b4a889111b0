"""Timeout middleware: cancels a handler that runs past its deadline and answers 504.

Owns the per-request deadline. Unlike Go plumego it does not buffer the response: the handler is
cancelled (Python can, Go cannot), so streaming keeps working. Imports only the standard library and
plumego.contract.
"""

from __future__ import annotations

import asyncio
import weakref

from plumego.contract import APIError, ASGIApp, ErrorCode, ErrorType, Message, Middleware, Receive, Scope, Send
from plumego.middleware._asgi import send_error


class ResponseTimeout(Exception):
    """Raised when the deadline passes after the response has started: the server aborts the connection."""


class _Deadline:
    __slots__ = ("when", "task", "expired")

    def __init__(self, when: float, task: asyncio.Task[object]) -> None:
        self.when = when
        self.task = task
        self.expired = False


class _Watchdog:
    """One timer per event loop instead of one per request.

    Every request under one middleware has the same timeout, so deadlines arrive in insertion order:
    an insertion-ordered dict is a priority queue, and only its oldest entry needs a timer. A request
    costs a dict insert and delete; ``asyncio.timeout`` costs a timer handle and heap churn (~5 µs).
    """

    __slots__ = ("loop", "entries", "handle", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.entries: dict[_Deadline, None] = {}
        self.handle: asyncio.TimerHandle | None = None

    def add(self, deadline: _Deadline) -> None:
        self.entries[deadline] = None
        if self.handle is None:
            self.handle = self.loop.call_at(deadline.when, self.fire)

    def discard(self, deadline: _Deadline) -> None:
        self.entries.pop(deadline, None)

    def fire(self) -> None:
        self.handle = None
        now = self.loop.time()
        entries = self.entries
        while entries:
            oldest = next(iter(entries))
            if oldest.when > now:
                self.handle = self.loop.call_at(oldest.when, self.fire)
                return
            del entries[oldest]
            oldest.expired = True
            oldest.task.cancel()


def _forget_cancellation(deadline: _Deadline, task: asyncio.Task[object]) -> None:
    if deadline.expired and task.cancelling() > 0:
        task.uncancel()


def timeout(seconds: float) -> Middleware:
    """Cancel the inner app of an HTTP request after ``seconds`` (``<= 0`` disables the middleware).

    If nothing was sent yet the client gets 504 ``gateway_timeout`` / code ``TIMEOUT`` /
    ``"request timed out"``. If the response had already started, the remaining body can no longer be
    replaced, so :class:`ResponseTimeout` is raised and the server drops the connection (a truncated
    response must not look complete). Sends attempted after the deadline are dropped. A
    ``TimeoutError`` or cancellation that does not come from this deadline propagates unchanged.
    """

    def wrap(app: ASGIApp) -> ASGIApp:
        if seconds <= 0:
            return app
        watchdogs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watchdog] = weakref.WeakKeyDictionary()
        last: list[_Watchdog] = []  # the watchdog of the loop seen last: skips the weak-dict lookup

        def watchdog_for(loop: asyncio.AbstractEventLoop) -> _Watchdog:
            if last and last[0].loop is loop:
                return last[0]
            found = watchdogs.get(loop)
            if found is None:
                found = watchdogs[loop] = _Watchdog(loop)
            last[:] = [found]
            return found

        async def timeout_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            task = asyncio.current_task()
            if task is None:  # not inside a task (never under an ASGI server): nothing to cancel
                await app(scope, receive, send)
                return
            loop = asyncio.get_running_loop()
            deadline = _Deadline(loop.time() + seconds, task)
            watchdog = watchdog_for(loop)
            started = False

            async def deadline_send(message: Message) -> None:
                nonlocal started
                if deadline.expired:
                    return
                if message["type"] == "http.response.start":
                    started = True
                await send(message)

            watchdog.add(deadline)
            try:
                await app(scope, receive, deadline_send)
            except asyncio.CancelledError:
                if not deadline.expired or task.uncancel() > 0:
                    raise  # not our deadline, or someone else cancelled the request too: honour that
            except BaseException:
                _forget_cancellation(deadline, task)  # the handler turned our cancel into another error
                raise
            else:
                _forget_cancellation(deadline, task)  # the handler swallowed our cancel and returned
            finally:
                watchdog.discard(deadline)
            if not deadline.expired:
                return
            if not started:
                err = APIError(ErrorType.GATEWAY_TIMEOUT, "request timed out", code=ErrorCode.TIMEOUT)
                await send_error(scope, send, err)
                return
            raise ResponseTimeout(f"request exceeded {seconds:g}s after the response started")

        return timeout_app

    return wrap
