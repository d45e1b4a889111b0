"""The backends of the task queue conformance suite: each test runs once per backend, against the real engine.

``make_queue()`` opens one more handle on the same queue (another connection, as another worker would have), so
tests can play several consumers. Time is a :class:`FakeClock` shared by every handle, so leases, delays and
expiry are tested without sleeping; a backend whose broker does the timing (``capabilities.server_clock``:
NATS JetStream) gets a :class:`RealClock` instead, whose ``advance`` really waits. The suite's times are therefore
short (a lease of :data:`LEASE` seconds, margins of a few tenths) and every backend gets the same assertions.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from plumego.x.messaging.mq import TaskQueue, open_queue


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RealClock(FakeClock):
    """The wall clock, for a backend whose broker times leases itself: ``advance`` sleeps (blocking the loop is
    harmless, the broker keeps time on its own)."""

    def __init__(self) -> None:
        super().__init__(time.time())

    def __call__(self) -> float:
        return time.time()

    @property  # type: ignore[override]
    def now(self) -> float:
        return time.time()

    @now.setter
    def now(self, value: float) -> None:
        pass

    def advance(self, seconds: float) -> None:
        time.sleep(seconds)


LEASE = 2.5       # the suite's lease (seconds); a fixed-lease backend is opened with it (margins of 0.5-1 s)
QueueFactory = Callable[[], Awaitable[TaskQueue]]
# sqlite needs nothing; the others talk to the real servers (marked `services`)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.services),
            pytest.param("redis", marks=pytest.mark.services), pytest.param("nats", marks=pytest.mark.services)]


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FakeClock:
    if "queue_url" in request.fixturenames and request.getfixturevalue("queue_url").startswith("nats:"):
        return RealClock()
    return FakeClock()


@pytest.fixture
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    backend = request.param
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    if backend == "redis":
        base, prefix = request.getfixturevalue("redis_namespace")
        return f"{base}?prefix={prefix}"
    if backend == "nats":
        base, namespace = request.getfixturevalue("nats_namespace")
        return f"{base}?namespace={namespace}&lease={LEASE}&poll_interval=0.2"
    base, schema = request.getfixturevalue("pg_schema")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}schema={schema}"


@pytest.fixture
async def make_queue(queue_url: str, clock: FakeClock) -> AsyncIterator[QueueFactory]:
    opened: list[TaskQueue] = []

    async def factory() -> TaskQueue:
        q = await open_queue(queue_url, clock=clock)
        opened.append(q)
        return q

    yield factory
    for q in opened:
        await q.close()


@pytest.fixture
async def queue(make_queue: QueueFactory) -> TaskQueue:
    return await make_queue()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    chosen = any("queue_url" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize"))
    if "queue_url" in metafunc.fixturenames and not chosen:     # a test may pick its own backends
        metafunc.parametrize("queue_url", BACKENDS, indirect=True)
