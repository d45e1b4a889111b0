"""The circuit breaker: closed -> open on a failure *rate*, open -> half-open after a timeout, half-open -> closed
after consecutive successful probes (Go ``x/resilience/circuitbreaker`` semantics).

Owns :class:`CircuitBreaker`, its states, counts and errors. State is per process (one breaker object); it is
meant to protect this process's calls to a dependency, which is what each worker observes on its own.
Imports only the standard library.
"""

from __future__ import annotations

import enum
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "BreakerStats",
    "CircuitBreaker",
    "CircuitBreakerError",
    "CircuitOpenError",
    "Counts",
    "State",
    "TooManyRequestsError",
]

T = TypeVar("T")
_log = logging.getLogger("plumego.x.resilience")


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"

    def __str__(self) -> str:
        return self.value


class CircuitBreakerError(Exception):
    """A call refused by the breaker (never raised by the protected call itself)."""

    def __init__(self, name: str, state: State, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.state = state


class CircuitOpenError(CircuitBreakerError):
    """The circuit is open: fail fast (Go ``ErrCircuitOpen``)."""


class TooManyRequestsError(CircuitBreakerError):
    """Half-open and every probe slot is taken (Go ``ErrTooManyRequests``)."""


@dataclass(frozen=True, slots=True)
class Counts:
    requests: int = 0
    successes: int = 0
    failures: int = 0
    consecutive_successes: int = 0
    consecutive_failures: int = 0

    @property
    def failure_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def success_rate(self) -> float:
        return self.successes / self.requests if self.requests else 0.0


@dataclass(frozen=True, slots=True)
class BreakerStats:
    name: str
    state: State
    counts: Counts
    state_age: float
    """Seconds since the last state change."""


StateCallback = Callable[[str, State, State], None]


class CircuitBreaker:
    """Fail fast while a dependency is failing, then probe it back to health.

    * **closed**: every finished call is counted; once ``requests >= min_requests`` and the failure rate reaches
      ``failure_threshold`` (0-1, default 0.5) — or ``should_trip(counts)`` says so — the circuit opens.
    * **open**: calls raise :class:`CircuitOpenError` until ``timeout`` seconds passed, then the circuit is
      half-open.
    * **half-open**: at most ``max_requests`` probes run at once (more raise :class:`TooManyRequestsError`);
      ``success_threshold`` consecutive successes close the circuit, any failure opens it again.

    ``on_state_change(name, from, to)`` is called after each transition; an exception in it is logged, never
    raised into the call. Better than Go: the half-open limit counts probes *in flight* (Go counts finished
    probes, so with its defaults — 1 probe, 3 successes to close — a half-open breaker can never close), and
    counts restart on every transition.

    Use :meth:`call` for a function or coroutine, or :meth:`acquire` / :meth:`record` when success is decided
    later (the gateway decides on the response status).
    """

    def __init__(
        self,
        name: str = "circuit-breaker",
        *,
        failure_threshold: float = 0.5,
        success_threshold: int = 3,
        timeout: float = 30.0,
        min_requests: int = 10,
        max_requests: int = 1,
        on_state_change: StateCallback | None = None,
        should_trip: Callable[[Counts], bool] | None = None,
        is_failure: Callable[[BaseException], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < failure_threshold <= 1:
            raise ValueError(f"failure_threshold is a failure rate in (0, 1], got {failure_threshold!r}")
        if success_threshold < 1 or min_requests < 1 or max_requests < 1:
            raise ValueError("success_threshold, min_requests and max_requests must be at least 1")
        if timeout < 0:
            raise ValueError(f"timeout must be >= 0 seconds, got {timeout!r}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.success_threshold = success_threshold
        self.timeout = timeout
        self.min_requests = min_requests
        self.max_requests = max_requests
        self._on_state_change = on_state_change
        self._should_trip = should_trip
        self._is_failure = is_failure or (lambda exc: True)
        self._clock = clock
        self._lock = threading.Lock()
        self._state = State.CLOSED
        self._changed_at = clock()
        self._generation = 0
        self._counts = Counts()
        self._probes = 0
        self._pending: list[tuple[State, State]] = []

    # --- state ----------------------------------------------------------------------------------------------
    @property
    def state(self) -> State:
        with self._lock:
            state = self._current_state(self._clock())
        self._flush()
        return state

    def counts(self) -> Counts:
        with self._lock:
            return self._counts

    def stats(self) -> BreakerStats:
        with self._lock:
            now = self._clock()
            stats = BreakerStats(self.name, self._current_state(now), self._counts, now - self._changed_at)
        self._flush()
        return stats

    def reset(self) -> None:
        """Close the circuit and forget the counts."""
        self._transition(State.CLOSED)

    def trip(self) -> None:
        """Open the circuit now."""
        self._transition(State.OPEN)

    # --- two-step use ---------------------------------------------------------------------------------------
    def acquire(self) -> int:
        """Admit one call or raise :class:`CircuitOpenError` / :class:`TooManyRequestsError`.

        Returns a ticket to pass to :meth:`record` when the call finishes (exactly once).
        """
        with self._lock:
            state = self._current_state(self._clock())
            if state is State.OPEN:
                error: CircuitBreakerError | None = CircuitOpenError(self.name, state, "circuit breaker is open")
            elif state is State.HALF_OPEN and self._probes >= self.max_requests:
                error = TooManyRequestsError(self.name, state, "too many requests while half-open")
            else:
                error = None
                if state is State.HALF_OPEN:
                    self._probes += 1
            ticket = self._generation
        self._flush()
        if error is not None:
            raise error
        return ticket

    def record(self, ticket: int, success: bool) -> None:
        """Count the outcome of a call admitted by :meth:`acquire`; outcomes from before a transition are ignored."""
        with self._lock:
            if ticket != self._generation:
                return
            c = self._counts
            if success:
                c = Counts(c.requests + 1, c.successes + 1, c.failures, c.consecutive_successes + 1, 0)
            else:
                c = Counts(c.requests + 1, c.successes, c.failures + 1, 0, c.consecutive_failures + 1)
            self._counts = c
            if self._state is State.HALF_OPEN:
                self._probes -= 1
                if not success:
                    self._set(State.OPEN)
                elif c.consecutive_successes >= self.success_threshold:
                    self._set(State.CLOSED)
            elif self._state is State.CLOSED and not success and c.requests >= self.min_requests:
                trip = self._should_trip(c) if self._should_trip else c.failure_rate >= self.failure_threshold
                if trip:
                    self._set(State.OPEN)
        self._flush()

    # --- one-step use ---------------------------------------------------------------------------------------
    async def call(self, fn: Callable[..., Awaitable[T] | T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` (awaited when it returns an awaitable) under the breaker.

        An exception counts as a failure unless ``is_failure(exc)`` says otherwise; it is re-raised.
        """
        ticket = self.acquire()
        try:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except BaseException as exc:
            self.record(ticket, not (isinstance(exc, Exception) and self._is_failure(exc)))
            raise
        self.record(ticket, True)
        return result

    def call_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """:meth:`call` for plain functions, from any thread."""
        ticket = self.acquire()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self.record(ticket, not (isinstance(exc, Exception) and self._is_failure(exc)))
            raise
        self.record(ticket, True)
        return result

    # --- internals (hold the lock) --------------------------------------------------------------------------
    def _current_state(self, now: float) -> State:
        if self._state is State.OPEN and now - self._changed_at >= self.timeout:
            self._set(State.HALF_OPEN)
        return self._state

    def _set(self, to: State) -> None:
        before = self._state
        if before is to:
            return
        self._state = to
        self._changed_at = self._clock()
        self._generation += 1
        self._counts = Counts()
        self._probes = 0
        self._pending.append((before, to))

    def _transition(self, to: State) -> None:
        with self._lock:
            self._set(to)
        self._flush()

    def _flush(self) -> None:
        """Run the state callbacks for transitions made under the lock, outside it, in order."""
        while self._pending:
            try:
                before, after = self._pending.pop(0)
            except IndexError:  # another thread flushed it
                return
            if self._on_state_change is None:
                continue
            try:
                self._on_state_change(self.name, before, after)
            except Exception:  # a broken observer must not break the protected call
                _log.exception("circuit breaker %s: on_state_change failed", self.name)
