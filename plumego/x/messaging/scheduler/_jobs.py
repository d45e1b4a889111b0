"""Job records, options and policies of the scheduler.

Owns the data: what a job is, how it retries, what happens when a tick comes while it runs. No I/O. Imports only
the standard library and this package's cron module.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DeadLetter", "DependencyCycleError", "DependencyFailure", "JobContext", "JobInfo", "JobOptions", "JobState",
           "Overlap", "RetryPolicy", "check_name", "find_cycle"]

_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def check_name(value: str, what: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"{what} {value!r} must be 1-128 letters, digits or _ . : -")
    return value


class JobState(enum.StrEnum):
    SCHEDULED = "scheduled"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELED = "canceled"
    DEAD = "dead"


class Overlap(enum.StrEnum):
    """What a tick does when the previous run of the job has not finished (Go's overlap policies)."""

    ALLOW = "allow"                    # run concurrently
    SKIP_IF_RUNNING = "skip"           # drop this tick
    SERIAL = "serial"                  # run this tick as soon as the previous run finishes


class DependencyFailure(enum.StrEnum):
    """What a due job does when one of its dependencies failed (its latest run failed, or it is dead or canceled):
    Go's ``DependencyFailureSkip|Cancel|Continue``."""

    SKIP = "skip"                      # drop this tick; try again at the next one
    CANCEL = "cancel"                  # cancel the job
    CONTINUE = "continue"              # run anyway


class DependencyCycleError(ValueError):
    """Adding the job would make its dependencies circular (the message shows the cycle)."""

    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__("job dependencies form a cycle: " + " -> ".join(cycle))
        self.cycle = tuple(cycle)


def find_cycle(graph: Mapping[str, Sequence[str]], start: str) -> list[str] | None:
    """A dependency cycle through ``start`` (``[start, ..., start]``), or None. ``graph`` maps a job to the jobs it
    depends on; iterative depth-first search, so a long chain cannot exhaust the stack."""
    stack: list[tuple[str, int]] = [(start, 0)]
    path: list[str] = [start]
    seen: set[str] = set()
    while stack:
        node, i = stack[-1]
        deps = graph.get(node, ())
        if i == len(deps):
            stack.pop()
            path.pop()
            seen.add(node)
            continue
        stack[-1] = (node, i + 1)
        nxt = deps[i]
        if nxt == start:
            return [*path, start]
        if nxt in seen or nxt in path:
            continue
        stack.append((nxt, 0))
        path.append(nxt)
    return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of a failed run inside the same tick: ``fixed`` waits ``base`` each time, ``exponential`` doubles it
    up to ``max_delay`` (Go's ``RetryFixed(n, d)`` and ``RetryExponential(n, base, max)``)."""

    max_retries: int
    base: float = 1.0
    exponential: bool = False
    max_delay: float = 300.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.base < 0 or self.max_delay < 0:
            raise ValueError("retry policy values must be >= 0")

    @classmethod
    def fixed(cls, retries: int, delay: float) -> RetryPolicy:
        return cls(retries, delay)

    @classmethod
    def exponential_backoff(cls, retries: int, base: float, max_delay: float) -> RetryPolicy:
        return cls(retries, base, True, max_delay)

    def delay(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1-based)."""
        if not self.exponential:
            return self.base
        return float(min(self.max_delay, self.base * 2.0 ** min(retry - 1, 62)))

    def to_json(self) -> dict[str, Any]:
        return {"max_retries": self.max_retries, "base": self.base, "exponential": self.exponential,
                "max_delay": self.max_delay}


@dataclass(frozen=True, slots=True)
class JobOptions:
    timeout: float | None = None       # a run that takes longer is cancelled and counts as failed
    overlap: Overlap = Overlap.ALLOW
    jitter: float = 0.0                # each run starts up to this many seconds late, at random
    max_runs: int = 0                  # 0: unlimited; the job completes after this many runs
    retry: RetryPolicy | None = None
    group: str = ""
    tags: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()   # job ids whose latest run must have succeeded before this job runs
    on_dependency_failure: DependencyFailure = DependencyFailure.SKIP

    def __post_init__(self) -> None:
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError("timeout must be > 0")
        if self.jitter < 0 or self.max_runs < 0:
            raise ValueError("jitter and max_runs must be >= 0")
        if self.group:
            check_name(self.group, "group")
        for tag in self.tags:
            check_name(tag, "tag")
        for dep in self.depends_on:
            check_name(dep, "dependency job id")

    def to_json(self) -> str:
        return json.dumps({"timeout": self.timeout, "overlap": self.overlap.value, "jitter": self.jitter,
                           "max_runs": self.max_runs, "retry": self.retry.to_json() if self.retry else None,
                           "depends_on": list(self.depends_on),
                           "on_dependency_failure": self.on_dependency_failure.value}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str, group: str, tags: Sequence[str]) -> JobOptions:
        d = json.loads(raw)
        retry = RetryPolicy(**d["retry"]) if d.get("retry") else None
        return cls(timeout=d.get("timeout"), overlap=Overlap(d.get("overlap", "allow")), jitter=d.get("jitter", 0.0),
                   max_runs=d.get("max_runs", 0), retry=retry, group=group, tags=tuple(tags),
                   depends_on=tuple(d.get("depends_on", ())),
                   on_dependency_failure=DependencyFailure(d.get("on_dependency_failure", "skip")))


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job as stored: ``spec`` is a cron spec or ``@every``; None for a one-off job."""

    id: str
    task: str
    spec: str | None
    location: str
    payload: Any
    state: JobState
    next_run: float | None
    runs: int
    failures: int
    last_error: str
    options: JobOptions
    running_until: float | None = None   # set while a run holds the job (renewed by the run's heart-beat)


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a task function receives for one run."""

    job_id: str
    task: str
    payload: Any
    tick: float                        # the scheduled time of this run (Unix seconds)
    attempt: int                       # 1 for the first try, then one more per retry
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A run that failed after its retries."""

    id: int
    job_id: str
    task: str
    tick: float
    attempts: int
    error: str
    failed_at: float
