"""The scheduler over every job store (SQLite, PostgreSQL, Redis): once per tick across schedulers sharing a store
(two handles, and three real processes), persistence and rehydration, retries and dead letters, overlap policies,
max runs, timeouts, pause/resume/cancel by id, group and tag, and job dependencies with cycle detection."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from plumego.x.messaging.scheduler import (
    DependencyCycleError,
    DependencyFailure,
    JobContext,
    JobExistsError,
    JobOptions,
    JobState,
    JobStore,
    Overlap,
    RetryPolicy,
    Scheduler,
    open_job_store,
)
from plumego.x.messaging.scheduler._jobs import find_cycle

REPO = Path(__file__).resolve().parents[4]
T0 = 1_767_225_600.0     # 2026-01-01T00:00:00Z


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def open_store(where: str) -> JobStore:
    """A new handle on the store ``where`` names: a SQLite path, a PostgreSQL or a Redis URL (as another process
    would)."""
    return open_job_store(where)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services),
                        pytest.param("redis", marks=pytest.mark.services)])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the jobs live: each test runs on every store."""
    if request.param == "sqlite":
        return str(tmp_path / "jobs.db")
    if request.param == "redis":
        base, prefix = request.getfixturevalue("redis_namespace")
        return f"{base}?prefix={prefix}"
    base, schema = request.getfixturevalue("pg_schema")
    return f"{base}?schema={schema}"


def make(where: str, clock: Clock, **kwargs: object) -> Scheduler:
    return Scheduler(open_store(where), clock=clock, **kwargs)  # type: ignore[arg-type]


async def test_each_tick_runs_once_across_schedulers_sharing_a_store(where: str) -> None:
    clock = Clock()
    seen: list[tuple[str, float]] = []

    def recorder(name: str):  # type: ignore[no-untyped-def]
        async def run(ctx: JobContext) -> None:
            seen.append((name, ctx.tick))
        return run

    a, b = make(where, clock), make(where, clock)
    a.register_task("tick", recorder("a"))
    b.register_task("tick", recorder("b"))
    await a.add_cron("every-minute", "* * * * *", "tick")
    with pytest.raises(JobExistsError):
        await b.add_cron("every-minute", "*/5 * * * *", "tick")
    for minute in range(1, 6):
        clock.now = T0 + 60 * minute
        await asyncio.gather(a.run_pending(), b.run_pending(), a.run_pending())
        await a.join()
        await b.join()
    ticks = [tick for _, tick in seen]
    assert ticks == [T0 + 60 * m for m in range(1, 6)]          # five ticks, each exactly once
    job = await a.get("every-minute")
    assert job is not None and job.runs == 5 and job.next_run == T0 + 360


async def test_three_processes_run_each_tick_once(where: str, tmp_path: Path) -> None:
    db, log = where, tmp_path / "runs.log"
    store = open_store(db)
    seeder = Scheduler(store)
    await seeder.add_cron("sec", "* * * * * *", "write")            # every second, real time
    await store.close()
    child = (
        "import asyncio, os, sys\n"
        "from plumego.x.messaging.scheduler import Scheduler, open_job_store\n"
        "async def main():\n"
        "    store = open_job_store(sys.argv[1])\n"
        "    s = Scheduler(store, poll_interval=0.05)\n"
        "    async def write(ctx):\n"
        "        fd = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT)\n"
        "        os.write(fd, f'{ctx.tick:.0f} {os.getpid()}\\n'.encode()); os.close(fd)\n"
        "    s.register_task('write', write)\n"
        "    await s.start(); await asyncio.sleep(4); await s.stop()\n"
        "asyncio.run(main())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", child, str(db), str(log)], env=env, cwd=REPO) for _ in range(3)]
    for p in procs:
        assert await asyncio.to_thread(p.wait, 60) == 0
    ticks = Counter(line.split()[0] for line in log.read_text().splitlines())
    assert len(ticks) >= 2                                        # the job ran for several seconds ...
    assert set(ticks.values()) == {1}                             # ... and no tick ran twice


async def test_jobs_survive_a_restart_and_rehydrate_by_task_name(where: str) -> None:
    clock = Clock()
    first = make(where, clock)
    await first.schedule("once", T0 + 30, "mail", {"to": "ada"})
    await first.add_cron("nightly", "@daily", "mail", {"to": "ops"}, options=JobOptions(group="g", tags=("t",)))
    await first.store.close()

    got: list[object] = []

    async def mail(ctx: JobContext) -> None:
        got.append(ctx.payload)

    second = make(where, clock)
    second.register_task("mail", mail)
    clock.now = T0 + 86_400
    assert await second.run_pending() == 2
    await second.join()
    assert sorted(got, key=str) == [{"to": "ada"}, {"to": "ops"}]
    once = await second.get("once")
    assert once is not None and once.state == JobState.COMPLETED and once.next_run is None
    nightly = await second.get("nightly")
    assert nightly is not None and nightly.state == JobState.SCHEDULED and nightly.next_run == T0 + 2 * 86_400
    assert nightly.options.group == "g" and nightly.options.tags == ("t",)
    other = make(where, clock)                           # knows no task: touches nothing
    assert await other.run_pending() == 0


async def test_retries_then_dead_letter(where: str) -> None:
    clock = Clock()
    s = make(where, clock)
    attempts: list[int] = []

    async def flaky(ctx: JobContext) -> None:
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise RuntimeError("try again")

    async def broken(ctx: JobContext) -> None:
        raise ValueError("bad input")

    s.register_task("flaky", flaky)
    s.register_task("broken", broken)
    await s.delay("f", 0, "flaky", options=JobOptions(retry=RetryPolicy.fixed(3, 0)))
    await s.delay("b", 0, "broken", options=JobOptions(retry=RetryPolicy.exponential_backoff(2, 0, 0)))
    await s.run_pending()
    await s.join()
    assert attempts == [1, 2, 3]
    f, b = await s.get("f"), await s.get("b")
    assert f is not None and f.state == JobState.COMPLETED and f.failures == 0
    assert b is not None and b.state == JobState.DEAD and b.last_error == "ValueError: bad input"
    (dead,) = await s.dead_letters()
    assert dead.job_id == "b" and dead.attempts == 3 and dead.tick == T0
    assert await s.dead_letters("f") == [] and await s.dead_letters("b") == [dead]
    assert await s.store.delete_dead_letters([dead.id, 999]) == 1 and await s.dead_letters() == []
    await s.trigger_now("f")                                      # completed: nothing to trigger
    assert await s.store.delete_dead_letters() == 0
    assert RetryPolicy.exponential_backoff(5, 1, 10).delay(1) == 1 and RetryPolicy(5, 1, True, 10).delay(5) == 10


async def test_timeout_counts_as_a_failure(where: str) -> None:
    clock = Clock()
    s = make(where, clock)

    async def slow(ctx: JobContext) -> None:
        await asyncio.sleep(30)

    s.register_task("slow", slow)
    await s.delay("s", 0, "slow", options=JobOptions(timeout=0.05))
    await s.run_pending()
    await s.join()
    job = await s.get("s")
    assert job is not None and job.state == JobState.DEAD and "TimeoutError" in job.last_error


@pytest.mark.parametrize(("overlap", "runs_started"), [(Overlap.SKIP_IF_RUNNING, 1), (Overlap.SERIAL, 2),
                                                        (Overlap.ALLOW, 2)])
async def test_overlap_policies(where: str, overlap: Overlap, runs_started: int) -> None:
    clock = Clock()
    s = make(where, clock, run_lease=600.0)              # the fake clock outruns the heart-beat
    release = asyncio.Event()
    started: list[float] = []

    async def long(ctx: JobContext) -> None:
        started.append(ctx.tick)
        await release.wait()

    s.register_task("long", long)
    await s.add_cron("job", "* * * * *", "long", options=JobOptions(overlap=overlap))
    clock.now = T0 + 60
    await s.run_pending()
    await asyncio.sleep(0.05)
    clock.now = T0 + 120                                           # the next tick while the first still runs
    await s.run_pending()
    await asyncio.sleep(0.05)
    release.set()
    await s.join()
    await s.run_pending()                                          # SERIAL: the held tick runs now
    await s.join()
    assert len(started) == runs_started
    if overlap is Overlap.SKIP_IF_RUNNING:
        assert s.skipped == 1
        job = await s.get("job")
        assert job is not None and job.next_run == T0 + 180


async def test_max_runs_completes_the_job(where: str) -> None:
    clock = Clock()
    s = make(where, clock)
    count = 0

    async def work(ctx: JobContext) -> None:
        nonlocal count
        count += 1

    s.register_task("work", work)
    await s.add_cron("twice", "@every 10s", "work", options=JobOptions(max_runs=2))
    for i in range(1, 6):
        clock.now = T0 + 10 * i
        await s.run_pending()
        await s.join()
    job = await s.get("twice")
    assert count == 2 and job is not None and job.state == JobState.COMPLETED and job.runs == 2


async def test_pause_resume_cancel_by_id_group_and_tag(where: str) -> None:
    clock = Clock()
    s = make(where, clock)
    ran: list[str] = []

    async def work(ctx: JobContext) -> None:
        ran.append(ctx.job_id)

    s.register_task("work", work)
    await s.add_cron("a", "* * * * *", "work", options=JobOptions(group="billing", tags=("eu",)))
    await s.add_cron("b", "* * * * *", "work", options=JobOptions(group="billing", tags=("us",)))
    await s.add_cron("c", "* * * * *", "work", options=JobOptions(tags=("eu",)))
    assert await s.apply_to_group("billing", "pause") == 2
    assert await s.pause("a") == 0                                  # already paused
    clock.now = T0 + 600
    await s.run_pending()
    await s.join()
    assert ran == ["c"]
    assert await s.apply_to_tag("eu", "cancel") == 2               # a (paused) and c
    assert await s.resume("b") == 1
    b = await s.get("b")
    assert b is not None and b.next_run == T0 + 660                 # resumed from now, no catch-up burst
    clock.now = T0 + 660
    await s.run_pending()
    await s.join()
    assert ran == ["c", "b"]
    assert [j.id for j in await s.list_jobs(state=JobState.CANCELED)] == ["a", "c"]
    with pytest.raises(ValueError):
        await s.apply_to_group("billing", "explode")


async def test_bad_input_is_refused(where: str) -> None:
    s = make(where, Clock())
    for bad in ("", "a b", "x" * 200, "a/b"):
        with pytest.raises(ValueError):
            await s.add_cron(bad, "* * * * *", "t")
    with pytest.raises(ValueError):
        await s.add_cron("j", "61 * * * *", "t")
    with pytest.raises(ValueError):
        JobOptions(timeout=0)
    with pytest.raises(ValueError):
        JobOptions(tags=("a b",))


async def test_scheduler_as_a_lifecycle_component(where: str) -> None:
    s = Scheduler(open_store(where), poll_interval=0.02)
    done = asyncio.Event()

    async def work(ctx: JobContext) -> None:
        done.set()

    s.register_task("work", work)
    await s.delay("now", 0, "work")
    await s.start()
    await s.ready()
    await asyncio.wait_for(done.wait(), 30)
    await s.stop()
    with pytest.raises(RuntimeError):
        await s.ready()


async def test_dependencies_wait_run_and_handle_failure(where: str) -> None:
    clock = Clock()
    s = make(where, clock)
    events: list[tuple[str, str]] = []
    fail = {"load": False}

    def step(name: str):  # type: ignore[no-untyped-def]
        async def run(ctx: JobContext) -> None:
            events.append(("start", name))
            await asyncio.sleep(0.01)
            events.append(("end", name))
            if fail.get(name):
                raise RuntimeError(f"{name} failed")
        return run

    def first(kind: str, name: str) -> int:
        return events.index((kind, name))

    for name in ("extract", "load", "report", "audit"):
        s.register_task(name, step(name))
    await s.schedule("extract", T0 + 60, "extract")
    await s.add_cron("load", "* * * * *", "load", options=JobOptions(depends_on=("extract",)))
    await s.add_cron("report", "* * * * *", "report",
                     options=JobOptions(depends_on=("load",), on_dependency_failure=DependencyFailure.CANCEL))
    await s.add_cron("audit", "* * * * *", "audit", options=JobOptions(depends_on=("load",)))   # SKIP
    for at in (30, 60, 61, 121):
        clock.now = T0 + at
        await s.run_pending()
        await s.join()
        if at == 30:
            assert events == []
    # a dependent starts only after its dependency's run has finished, never alongside it
    assert first("start", "load") > first("end", "extract")
    assert first("start", "report") > first("end", "load")
    assert first("start", "audit") > first("end", "load")
    stored = await s.get("load")
    assert stored is not None and stored.options.depends_on == ("extract",)   # persisted with the job

    # a failed dependency: SKIP drops the dependent's tick, CANCEL cancels the dependent
    fail["load"] = True
    clock.now = T0 + 181
    await s.run_pending()
    await s.join()
    before = await s.get("audit")
    clock.now = T0 + 241
    await s.run_pending()
    await s.join()
    report = await s.get("report")
    assert report is not None and report.state is JobState.CANCELED
    audit = await s.get("audit")
    assert before is not None and audit is not None and audit.state is JobState.SCHEDULED
    assert audit.runs == before.runs and audit.next_run == T0 + 300 and s.skipped >= 1   # its tick was skipped


async def test_dependency_cycles_and_unknown_jobs_are_refused(where: str) -> None:
    s = make(where, Clock())
    await s.add_cron("a", "* * * * *", "t")
    await s.add_cron("b", "* * * * *", "t", options=JobOptions(depends_on=("a",)))
    await s.add_cron("c", "* * * * *", "t", options=JobOptions(depends_on=("b",)))
    with pytest.raises(DependencyCycleError) as info:
        await s.add_cron("a", "* * * * *", "t", options=JobOptions(depends_on=("c",)), replace=True)
    assert info.value.cycle == ("a", "c", "b", "a")
    with pytest.raises(DependencyCycleError):
        await s.add_cron("d", "* * * * *", "t", options=JobOptions(depends_on=("d",)))
    with pytest.raises(ValueError, match="unknown job"):
        await s.add_cron("e", "* * * * *", "t", options=JobOptions(depends_on=("nope",)))
    with pytest.raises(ValueError):
        JobOptions(depends_on=("bad id",))
    job = await s.get("a")
    assert job is not None and job.options.depends_on == ()            # the refused replace changed nothing


def test_find_cycle_on_a_long_chain() -> None:
    graph = {f"j{i}": [f"j{i + 1}"] for i in range(5000)}
    assert find_cycle(graph, "j0") is None
    graph["j5000"] = ["j0"]
    cycle = find_cycle(graph, "j0")
    assert cycle is not None and cycle[0] == cycle[-1] == "j0" and len(cycle) == 5002


@pytest.mark.services
async def test_redis_store_keys_share_the_hash_tag_and_the_tick_lease_expires(
        redis_namespace: tuple[str, str]) -> None:
    import redis.asyncio as aioredis

    base, prefix = redis_namespace
    clock = Clock()
    s = make(f"{base}?prefix={prefix}", clock)
    s.register_task("t", _noop)
    await s.add_cron("j", "* * * * *", "t", options=JobOptions(tags=("x",)))
    clock.now = T0 + 60
    assert await s.run_pending() == 1
    await s.join()
    client = aioredis.Redis.from_url(base)
    try:
        keys = [k.decode() async for k in client.scan_iter(match=f"*{prefix}*")]
        assert keys and all(k.startswith("{" + prefix + "}:") for k in keys)
        (tick_key,) = [k for k in keys if ":tick:" in k]
        assert 0 < await client.pttl(tick_key) <= 60_000               # SET NX PX: the tick's lease
    finally:
        await client.aclose()
        await s.store.close()


async def _noop(ctx: JobContext) -> None:
    return None
