"""The experimental x/ai parts: token counting, the exact-match cache (memory and Redis, one suite), PII/secret
filters, prompt templates, the orchestration engine with progress events, and the resilient provider."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from plumego.x.ai.filter import FilterBlocked, FilterChain, FilteringProvider, pii_rules, secret_rules
from plumego.x.ai.llmcache import CacheBackend, CachingProvider, MemoryCache, RedisCache, cache_key
from plumego.x.ai.orchestration import (AgentStep, Conditional, Engine, FuncStep, Parallel, Retry, Sequential,
                                        StepFailed, Workflow)
from plumego.x.ai.prompt import PromptError, PromptRegistry
from plumego.x.ai.provider import (CompletionRequest, HTTPOptions, InvalidRequestError, Message, OpenAIProvider,
                                   ProviderUnavailable, RateLimitError, Role, ScriptedProvider)
from plumego.x.ai.resilience import CircuitBreaker, CircuitOpenError, KeyedBuckets, ResilientProvider
from plumego.x.ai.streaming import StreamManager
from plumego.x.ai.tokenizer import HeuristicCounter, StreamCounter, counter_for

from .wire_server import Reply, WireServer


def _req(text: str = "hi", **kw: Any) -> CompletionRequest:
    return CompletionRequest("m", [Message(Role.USER, text)], **kw)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_counters() -> None:
    counter = HeuristicCounter(4.0)
    assert counter.count("") == 0 and counter.count("abcd" * 10) == 10 and counter.count("a b c d e") == 5
    assert counter_for("claude-3").name == "heuristic:claude"
    assert counter_for("gpt-4o").count("hello world") >= 2      # tiktoken when it can load, the heuristic otherwise
    stream = StreamCounter(counter)
    for delta in ("abcd", "efgh"):
        stream.add(delta)
    assert stream.tokens == 2 and stream.chunks == 2


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[CacheBackend]:
    if request.param == "memory":
        backend: CacheBackend = MemoryCache(ttl=60)
    else:
        url, prefix = request.getfixturevalue("redis_namespace")
        backend = RedisCache(url, prefix="{" + prefix + "}", ttl=60)
    yield backend
    await backend.clear()
    await backend.aclose()


async def test_exact_match_cache(cache: CacheBackend) -> None:
    inner = ScriptedProvider(["one", "two", "three"])
    provider = CachingProvider(inner, cache)
    assert (await provider.complete(_req())).text() == "one"
    assert (await provider.complete(_req())).text() == "one"          # hit
    assert (await provider.complete(_req("other"))).text() == "two"   # different request
    assert (await provider.complete(_req(temperature=0.7))).text() == "three"    # sampled: not cached
    assert (provider.hits, provider.misses, inner.calls) == (1, 2, 3)
    assert cache_key(_req()) == cache_key(_req()) != cache_key(_req(max_tokens=5))


async def test_memory_cache_expires_and_evicts() -> None:
    clock = Clock()
    cache = MemoryCache(ttl=10, max_entries=2, clock=clock)
    inner = ScriptedProvider(["a", "b", "c", "d"])
    provider = CachingProvider(inner, cache)
    for text in ("x", "y", "z"):
        await provider.complete(_req(text))
    assert await cache.get(cache_key(_req("x"))) is None and await cache.get(cache_key(_req("z"))) is not None
    clock.now += 11
    assert await cache.get(cache_key(_req("z"))) is None


def test_filters_redact_pii_and_block_secrets() -> None:
    pii = FilterChain(pii_rules())
    text = "mail bob@example.com or call 415-555-0100 from 10.0.0.1, card 4111 1111 1111 1111, order 1234567890123"
    out = pii.apply(text)
    assert "bob@" not in out and "[REDACTED:email]" in out and "[REDACTED:phone]" in out
    assert "[REDACTED:ip]" in out and "[REDACTED:credit_card]" in out and "1234567890123" in out
    secrets = FilterChain(secret_rules())
    for secret in ("AKIAIOSFODNN7EXAMPLE", "ghp_" + "a" * 36, "sk-proj-" + "b" * 30, "password = hunter2",
                   "xoxb-123456789012-abcdef", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk"):
        with pytest.raises(FilterBlocked) as info:
            secrets.apply(f"here: {secret}")
        assert secret not in str(info.value)
    assert secrets.apply("nothing secret here") == "nothing secret here"


async def test_filtering_provider_on_input_and_output() -> None:
    seen: list[str] = []

    def reply(req: CompletionRequest) -> str:
        seen.append(req.messages[-1].text())
        return "reach me at alice@example.org"

    provider = FilteringProvider(ScriptedProvider(reply), input=FilterChain(pii_rules() + secret_rules()),
                                 output=FilterChain(pii_rules()))
    resp = await provider.complete(_req("I am carol@example.com"))
    assert seen == ["I am [REDACTED:email]"] and resp.text() == "reach me at [REDACTED:email]"
    with pytest.raises(FilterBlocked):
        await provider.complete(_req("key AKIAIOSFODNN7EXAMPLE"))
    assert len(seen) == 1


def test_prompt_templates_with_versions() -> None:
    prompts = PromptRegistry()
    prompts.register("summary", "Summarize {{ text }} in {{words}} words.", tags=["core"], defaults={"words": "50"})
    prompts.register("summary", "TL;DR of {{text}} ({{words}} words max).", defaults={"words": "20"})
    assert prompts.versions("summary") == [1, 2]
    assert prompts.render("summary", {"text": "the doc"}) == "TL;DR of the doc (20 words max)."
    assert prompts.render("summary", {"text": "x"}, version=1) == "Summarize x in 50 words."
    with pytest.raises(PromptError, match="needs"):
        prompts.render("summary", {})
    with pytest.raises(PromptError, match="no variables"):
        prompts.render("summary", {"text": "x", "bogus": 1})
    with pytest.raises(PromptError):
        prompts.register("summary", "again", version=1)
    assert [t.name for t in prompts.by_tag("core")] == []       # the latest version has no tag
    assert prompts.get("summary", 1).tags == frozenset({"core"})


async def test_orchestration_with_progress_events() -> None:
    attempts = {"n": 0}

    async def fetch(state: dict[str, Any]) -> str:
        return "data"

    async def flaky(state: dict[str, Any]) -> str:
        attempts["n"] += 1
        if attempts["n"] < 2:
            raise RuntimeError("transient")
        return "ok"

    async def double(state: dict[str, Any]) -> int:
        return 2 * state["n"]

    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)

    agent = AgentStep("summarize", ScriptedProvider(lambda r: r.messages[0].text().upper()), "m", "sum {fetch}")
    workflow = Workflow("demo", Sequential("main", [
        FuncStep("fetch", fetch),
        Parallel("fanout", [Retry("retry", FuncStep("flaky", flaky), attempts=3, sleep=sleep), agent]),
        Conditional("branch", lambda s: s["flaky"] == "ok", FuncStep("double", double)),
    ]))
    progress = StreamManager()
    progress.register(workflow.id)
    events: list[Any] = []

    async def listen() -> None:
        async for ev in progress.subscribe(workflow.id):
            events.append(ev)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    state = await Engine(progress).execute(workflow, {"n": 21})
    await asyncio.wait_for(listener, 2)
    assert state["summarize"] == "SUM DATA" and state["double"] == 42 and sleeps == [0.1]
    assert events[-1].event == "complete" and events[-1].data["result"]["double"] == 42
    statuses = [(e.data["step_name"], e.data["status"]) for e in events if e.event == "progress"]
    assert ("flaky", "failed") in statuses and ("double", "completed") in statuses


async def test_a_failing_parallel_step_cancels_its_siblings_and_a_timeout_stops_the_workflow() -> None:
    cancelled = asyncio.Event()

    async def slow(state: dict[str, Any]) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def boom(state: dict[str, Any]) -> None:
        raise ValueError("bad")

    with pytest.raises(ExceptionGroup) as info:
        await Engine().execute(Workflow("w", Parallel("p", [FuncStep("slow", slow), FuncStep("boom", boom)])))
    assert isinstance(info.value.exceptions[0], StepFailed) and cancelled.is_set()
    with pytest.raises(TimeoutError):
        await Engine().execute(Workflow("t", FuncStep("slow", slow), timeout=0.05))


async def test_resilient_provider_over_a_failing_wire_server(wire: WireServer) -> None:
    clock = Clock()
    inner = OpenAIProvider(base_url=wire.url + "/v1", options=HTTPOptions(max_retries=0))
    # x/resilience's breaker: the 400 counts as a success (the provider answered), the two 500s make the failure
    # rate 2/3 >= 0.6 over at least 2 calls, so it opens; one successful probe after 30 s closes it
    breaker = CircuitBreaker("ai", failure_threshold=0.6, min_requests=2, timeout=30, success_threshold=1,
                             clock=clock)
    provider = ResilientProvider(inner, limiter=KeyedBuckets(100, 100, clock=clock), breaker=breaker)
    wire.push("/v1/chat/completions", Reply(400, json={"error": {"message": "bad"}}))
    with pytest.raises(InvalidRequestError):
        await provider.complete(_req())
    for _ in range(2):
        wire.push("/v1/chat/completions", Reply(500, json={"error": {"message": "down"}}))
        with pytest.raises(ProviderUnavailable):
            await provider.complete(_req())
    calls = len(wire.seen)
    with pytest.raises(CircuitOpenError):
        await provider.complete(_req())
    assert len(wire.seen) == calls                      # failed fast, the server was not called
    clock.now += 30
    assert (await provider.complete(_req())).text().startswith("tok0")
    assert str(breaker.state) == "closed"
    limited = ResilientProvider(ScriptedProvider(), limiter=KeyedBuckets(1, 1, clock=clock))
    await limited.complete(_req(metadata={"tenant": "t1"}))
    with pytest.raises(RateLimitError) as info:
        await limited.complete(_req(metadata={"tenant": "t1"}))
    assert info.value.retry_after == pytest.approx(1.0)
    await limited.complete(_req(metadata={"tenant": "t2"}))
    await provider.aclose()
