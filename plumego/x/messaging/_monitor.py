"""The channel monitor (Go's ``ChannelMonitor``): is each channel healthy, degraded or unhealthy?

Owns the per-channel health verdict, made from the outcomes of recent deliveries (a sliding window of the last
``window`` provider calls) and from active probes: a provider with an ``async def health() -> None`` method is
probed by ``check()``, which ``register(scheduler)`` runs as a scheduler job (Go registers its checks with the
scheduler too). The verdict is per process: each worker judges the deliveries it made. Imports the standard
library, plumego.log and the scheduler's job types; never plumego.core.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from plumego.log import DiscardLogger, StructuredLogger

from .scheduler import JobContext, Scheduler

__all__ = ["ChannelHealth", "ChannelMonitor", "ChannelState"]


class ChannelState(enum.StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    channel: str
    state: ChannelState
    samples: int
    failure_rate: float
    last_error: str
    checked_at: float

    def to_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "state": self.state.value, "samples": self.samples,
                "failure_rate": round(self.failure_rate, 4), "last_error": self.last_error,
                "checked_at": self.checked_at}


class ChannelMonitor:
    """``degraded`` at a failure rate of ``degraded_at`` or more over the last ``window`` outcomes, ``unhealthy``
    at ``unhealthy_at`` or more, or when the last probe failed."""

    def __init__(self, *, window: int = 50, degraded_at: float = 0.1, unhealthy_at: float = 0.5,
                 logger: StructuredLogger | None = None, clock: Callable[[], float] = time.time) -> None:
        if window < 1 or not 0 < degraded_at <= unhealthy_at <= 1:
            raise ValueError("window must be >= 1 and 0 < degraded_at <= unhealthy_at <= 1")
        self.window, self.degraded_at, self.unhealthy_at = window, degraded_at, unhealthy_at
        self._outcomes: dict[str, deque[bool]] = {}
        self._errors: dict[str, str] = {}
        self._probe_failed: dict[str, bool] = {}
        self._checked: dict[str, float] = {}
        self._providers: dict[str, Any] = {}
        self._states: dict[str, ChannelState] = {}
        self._log = logger or DiscardLogger()
        self._clock = clock

    def watch(self, channels: Mapping[str, Any]) -> None:
        """The providers to probe, by channel (the service calls this with its own)."""
        self._providers.update(channels)
        for channel in channels:
            self._outcomes.setdefault(channel, deque(maxlen=self.window))

    def record(self, channel: str, ok: bool, error: str = "") -> None:
        """One delivery outcome (the service calls this after each provider call)."""
        self._outcomes.setdefault(channel, deque(maxlen=self.window)).append(ok)
        if not ok:
            self._errors[channel] = error
        self._checked[channel] = self._clock()
        self._transition(channel)

    async def check(self) -> dict[str, ChannelHealth]:
        """Probe every provider that has ``health()``; a probe that raises marks its channel unhealthy."""
        for channel, provider in self._providers.items():
            probe = getattr(provider, "health", None)
            if probe is None:
                continue
            try:
                await probe()
                self._probe_failed[channel] = False
            except Exception as exc:
                self._probe_failed[channel] = True
                self._errors[channel] = f"probe: {type(exc).__name__}: {exc}"[:300]
            self._checked[channel] = self._clock()
            self._transition(channel)
        return self.health()

    def register(self, scheduler: Scheduler, *, job_id: str = "messaging.channel-check") -> None:
        """Register the probe as scheduler task ``messaging.channel-check``; ``await add_job(scheduler)`` next."""
        async def run(ctx: JobContext) -> None:
            await self.check()

        scheduler.register_task(job_id, run)

    async def add_job(self, scheduler: Scheduler, *, job_id: str = "messaging.channel-check",
                      every: str = "@every 30s") -> None:
        """Persist the recurring probe job (replacing an earlier one, so every instance may call this)."""
        await scheduler.add_cron(job_id, every, job_id, replace=True)

    def status(self, channel: str) -> ChannelHealth:
        outcomes = self._outcomes.get(channel, deque())
        failures = sum(1 for ok in outcomes if not ok)
        rate = failures / len(outcomes) if outcomes else 0.0
        if self._probe_failed.get(channel) or (outcomes and rate >= self.unhealthy_at):
            state = ChannelState.UNHEALTHY
        elif outcomes and rate >= self.degraded_at:
            state = ChannelState.DEGRADED
        else:
            state = ChannelState.HEALTHY
        return ChannelHealth(channel, state, len(outcomes), rate, self._errors.get(channel, ""),
                             self._checked.get(channel, 0.0))

    def health(self) -> dict[str, ChannelHealth]:
        return {channel: self.status(channel) for channel in sorted(self._outcomes)}

    def _transition(self, channel: str) -> None:
        state = self.status(channel).state
        before = self._states.get(channel, ChannelState.HEALTHY)
        if state is not before:
            self._states[channel] = state
            log = self._log.info if state is ChannelState.HEALTHY else self._log.warn
            log("messaging channel state changed", {"channel": channel, "from": before.value, "to": state.value})
