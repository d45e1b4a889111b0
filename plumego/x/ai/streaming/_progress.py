"""Streaming completions and workflow progress as SSE events.

``completion_events(reader)`` turns a provider ``StreamReader`` into ``delta`` / ``tool_use`` / ``done`` events and
closes the reader however the stream ends (so a client disconnect closes the upstream HTTP stream too).
``StreamManager`` fans workflow ``ProgressUpdate``s (Go Plumego's fields) out to SSE subscribers: ``progress``
events, then ``complete`` (or ``error``). Subscriptions are per process: with several workers, run a workflow and
its subscribers in the same process (or relay the updates through a shared bus).

Imports the standard library and x/ai.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

from ..provider import StreamReader
from ._sse import Event

__all__ = ["ProgressUpdate", "StreamManager", "completion_events"]


async def completion_events(reader: StreamReader) -> AsyncIterator[Event]:
    """``delta`` {"text"}, ``tool_use`` {"id", "name", "input"}, then ``done`` {"stop_reason", "usage", "text"}."""
    try:
        async for chunk in reader:
            if chunk.type == "text" and chunk.text:
                yield Event({"text": chunk.text}, event="delta")
            elif chunk.type == "tool_use" and chunk.tool_use is not None:
                use = chunk.tool_use
                yield Event({"id": use.id, "name": use.name, "input": dict(use.input)}, event="tool_use")
        final = reader.response()
        yield Event({"stop_reason": str(final.stop_reason), "text": final.text(),
                     "usage": {"input_tokens": final.usage.input_tokens,
                               "output_tokens": final.usage.output_tokens}}, event="done")
    finally:
        await reader.aclose()


_STEP_TYPES = ("sequential", "parallel", "conditional", "retry")
_STATUSES = ("started", "completed", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class ProgressUpdate:
    workflow_id: str
    step_name: str
    step_index: int
    status: str
    step_type: str = "sequential"
    progress: float = 0.0
    session_id: str = ""
    message: str = ""
    result: Any = None
    error: str = ""
    parallel_index: int = 0
    parallel_total: int = 0
    timestamp: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}")
        if self.step_type not in _STEP_TYPES:
            raise ValueError(f"step_type must be one of {_STEP_TYPES}")
        if not 0.0 <= self.progress <= 1.0:
            raise ValueError("progress must be within 0..1")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_END = object()


class StreamManager:
    """Workflow id -> subscribers. ``publish`` never blocks: a subscriber whose queue (``buffer``) is full is
    dropped with an ``error`` event rather than slowing the workflow."""

    def __init__(self, buffer: int = 256) -> None:
        self.buffer = buffer
        self._subs: dict[str, set[asyncio.Queue[Any]]] = {}
        self._open: set[str] = set()

    def register(self, workflow_id: str) -> None:
        if not workflow_id:
            raise ValueError("a workflow id is required")
        if workflow_id in self._open:
            raise ValueError(f"workflow {workflow_id!r} is already streaming")
        self._open.add(workflow_id)
        self._subs.setdefault(workflow_id, set())

    def is_open(self, workflow_id: str) -> bool:
        return workflow_id in self._open

    def _fanout(self, workflow_id: str, item: Any) -> None:
        for queue in list(self._subs.get(workflow_id, ())):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                self._subs[workflow_id].discard(queue)
                _drain(queue)
                queue.put_nowait(Event({"message": "subscriber too slow; dropped"}, event="error"))
                queue.put_nowait(_END)

    def publish(self, update: ProgressUpdate) -> None:
        if update.workflow_id not in self._open:
            raise KeyError(f"workflow {update.workflow_id!r} is not registered")
        self._fanout(update.workflow_id, Event(update.as_dict(), event="progress"))

    def complete(self, workflow_id: str, result: Any = None, error: str = "") -> None:
        """End the workflow's stream with ``complete`` {"result"} or ``error`` {"message"}."""
        self._open.discard(workflow_id)
        event = Event({"message": error}, event="error") if error else Event({"result": result}, event="complete")
        self._fanout(workflow_id, event)
        self._fanout(workflow_id, _END)
        self._subs.pop(workflow_id, None)

    async def subscribe(self, workflow_id: str) -> AsyncIterator[Event]:
        if workflow_id not in self._open:
            raise KeyError(f"workflow {workflow_id!r} is not streaming")
        queue: asyncio.Queue[Any] = asyncio.Queue(self.buffer)
        self._subs[workflow_id].add(queue)
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                yield item
        finally:
            subs = self._subs.get(workflow_id)
            if subs is not None:
                subs.discard(queue)

    def subscribers(self, workflow_id: str) -> int:
        return len(self._subs.get(workflow_id, ()))


def _drain(queue: asyncio.Queue[Any]) -> None:
    while not queue.empty():
        queue.get_nowait()
