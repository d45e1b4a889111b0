"""plumego.x.ai.orchestration (experimental): a small workflow engine: sequential, parallel, conditional and
retry steps over a shared state dict, agent steps that call a provider with a prompt template, and progress
reported to a ``streaming.StreamManager`` (so a client can follow a workflow over SSE).

A parallel step cancels its siblings when one fails; a workflow has an optional overall timeout; cancellation of
the caller cancels every running step. Imports the standard library and x/ai.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..provider import CompletionRequest, Message, Provider, Role
from ..streaming import ProgressUpdate, StreamManager

__all__ = ["AgentStep", "Conditional", "Engine", "FuncStep", "Parallel", "Retry", "Sequential", "Step",
           "StepFailed", "Workflow"]

State = dict[str, Any]


class StepFailed(Exception):
    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"step {step!r} failed: {type(cause).__name__}: {cause}")
        self.step = step
        self.cause = cause


@dataclass
class _Run:
    workflow_id: str
    progress: StreamManager | None
    counter: int = 0

    def report(self, step: Step, status: str, kind: str, **kw: Any) -> None:
        if self.progress is not None and self.progress.is_open(self.workflow_id):
            self.progress.publish(ProgressUpdate(self.workflow_id, step.name, self.counter, status, kind, **kw))


class Step(Protocol):
    name: str

    async def run(self, state: State, run: _Run) -> Any: ...


class FuncStep:
    """Runs ``fn(state)``; its result is stored under ``output`` (default: the step name)."""

    def __init__(self, name: str, fn: Callable[[State], Awaitable[Any]], output: str | None = None) -> None:
        self.name, self.fn, self.output = name, fn, output or name

    async def run(self, state: State, run: _Run) -> Any:
        run.report(self, "started", "sequential")
        try:
            result = await self.fn(state)
        except asyncio.CancelledError:
            run.report(self, "cancelled", "sequential")
            raise
        except Exception as exc:
            run.report(self, "failed", "sequential", error=str(exc))
            raise StepFailed(self.name, exc) from exc
        state[self.output] = result
        run.counter += 1
        run.report(self, "completed", "sequential")
        return result


class AgentStep(FuncStep):
    """Renders ``prompt`` with ``str.format_map(state)`` and stores the model's text answer."""

    def __init__(self, name: str, provider: Provider, model: str, prompt: str, *, system: str = "",
                 max_tokens: int = 512, output: str | None = None) -> None:
        async def call(state: State) -> str:
            text = prompt.format_map(state)
            resp = await provider.complete(CompletionRequest(model, [Message(Role.USER, text)], system=system,
                                                             max_tokens=max_tokens))
            return resp.text()
        super().__init__(name, call, output)


class Sequential:
    def __init__(self, name: str, steps: Sequence[Step]) -> None:
        self.name, self.steps = name, list(steps)

    async def run(self, state: State, run: _Run) -> Any:
        result: Any = None
        for step in self.steps:
            result = await step.run(state, run)
        return result


class Parallel:
    """Runs the steps concurrently on the same state; the first failure cancels the others."""

    def __init__(self, name: str, steps: Sequence[Step]) -> None:
        self.name, self.steps = name, list(steps)

    async def run(self, state: State, run: _Run) -> Any:
        run.report(self, "started", "parallel", parallel_total=len(self.steps))
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(s.run(state, run)) for s in self.steps]
        run.report(self, "completed", "parallel", parallel_total=len(self.steps))
        return [t.result() for t in tasks]


class Conditional:
    def __init__(self, name: str, predicate: Callable[[State], bool], then: Step, otherwise: Step | None = None
                 ) -> None:
        self.name, self.predicate, self.then, self.otherwise = name, predicate, then, otherwise

    async def run(self, state: State, run: _Run) -> Any:
        branch = self.then if self.predicate(state) else self.otherwise
        run.report(self, "completed", "conditional", message=branch.name if branch else "(skipped)")
        return await branch.run(state, run) if branch is not None else None


class Retry:
    def __init__(self, name: str, step: Step, *, attempts: int = 3, backoff: float = 0.1,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.name, self.step, self.attempts, self.backoff, self._sleep = name, step, attempts, backoff, sleep

    async def run(self, state: State, run: _Run) -> Any:
        for attempt in range(1, self.attempts + 1):
            try:
                return await self.step.run(state, run)
            except StepFailed as exc:
                if attempt == self.attempts:
                    raise
                run.report(self, "failed", "retry", message=f"attempt {attempt} failed; retrying",
                           error=str(exc.cause))
                await self._sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")   # pragma: no cover


@dataclass
class Workflow:
    name: str
    root: Step
    timeout: float | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


class Engine:
    def __init__(self, progress: StreamManager | None = None) -> None:
        self.progress = progress

    async def execute(self, workflow: Workflow, state: State | None = None) -> State:
        """Run the workflow; returns the final state. Failures raise StepFailed (a parallel group's failures come
        as an ExceptionGroup); the progress stream ends with ``complete`` or ``error``."""
        state = state if state is not None else {}
        run = _Run(workflow.id, self.progress)
        try:
            if workflow.timeout is not None:
                async with asyncio.timeout(workflow.timeout):
                    await workflow.root.run(state, run)
            else:
                await workflow.root.run(state, run)
        except BaseException as exc:
            if self.progress is not None and self.progress.is_open(workflow.id):
                self.progress.complete(workflow.id, error=f"{type(exc).__name__}: {exc}")
            raise
        if self.progress is not None and self.progress.is_open(workflow.id):
            self.progress.complete(workflow.id, result={k: v for k, v in state.items() if _jsonable(v)})
        return state


def _jsonable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), list, dict))
