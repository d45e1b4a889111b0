"""The manager and its routers, with real wire clients behind them where failure matters."""

from __future__ import annotations

import pytest

from plumego.x.ai.provider import (CompletionRequest, CostOptimizedRouter, DefaultRouter, FallbackRouter,
                                   HTTPOptions, InvalidRequestError, LoadBalancedRouter, Manager, Message,
                                   OpenAIProvider, Role, ScriptedProvider, TaskBasedRouter, classify_task)

from ..wire_server import Reply, WireServer


def _req(text: str = "hi", **meta: str) -> CompletionRequest:
    return CompletionRequest("m", [Message(Role.USER, text)], metadata=meta)


async def test_fallback_moves_on_after_a_retryable_failure_only(wire: WireServer) -> None:
    primary = OpenAIProvider(base_url=wire.url + "/v1", name="primary", options=HTTPOptions(max_retries=0))
    backup = ScriptedProvider(["from backup"], name="backup")
    manager = Manager(FallbackRouter("primary", "backup"))
    manager.register(primary)
    manager.register(backup)
    wire.push("/v1/chat/completions", Reply(503, json={"error": {"message": "down"}}),
              Reply(503, json={"error": {"message": "down"}}))
    assert (await manager.complete(_req())).text() == "from backup"
    async with await manager.stream(_req()) as reader:
        assert "".join([c.text async for c in reader]) == "from backup"
    wire.push("/v1/chat/completions", Reply(400, json={"error": {"message": "bad"}}))
    with pytest.raises(InvalidRequestError):
        await manager.complete(_req())
    assert backup.calls == 2
    assert [m.id for m in await manager.list_models()] == ["local-1", "scripted-1"]
    await manager.aclose()


async def test_routers_order_the_candidates() -> None:
    a, b, c = (ScriptedProvider([n], name=n) for n in "abc")
    manager = Manager(LoadBalancedRouter())
    for p in (a, b, c):
        manager.register(p)
    assert [(await manager.complete(_req())).text() for _ in range(4)] == ["a", "b", "c", "a"]
    with pytest.raises(ValueError):
        manager.register(ScriptedProvider(name="a"))
    manager.router = CostOptimizedRouter({"a": (5.0, 15.0), "b": (0.15, 0.6)})
    assert [p.name for p in manager.route(_req())] == ["b", "a", "c"]
    manager.router = TaskBasedRouter({"coding": "c", "translation": "b"}, default="a")
    assert manager.route(_req("fix this python function"))[0].name == "c"
    assert manager.route(_req("translate it in french"))[0].name == "b"
    assert manager.route(_req("hello there"))[0].name == "a"
    assert classify_task(_req("anything", task="summarization")) == "summarization"
    assert classify_task(_req("give me a summary of this")) == "summarization"
    manager.router = DefaultRouter("zzz")
    with pytest.raises(KeyError):
        manager.route(_req())
    manager.router = DefaultRouter()
    assert (await manager.complete(_req())).text() == "a"


async def test_scripted_provider_streams_words_and_knows_its_models() -> None:
    p = ScriptedProvider(lambda req: f"echo: {req.messages[-1].text()}", models=["s-1", "s-2"])
    reader = await p.stream(_req("one two"))
    words = [c.text async for c in reader if c.type == "text"]
    assert words == ["echo: ", "one ", "two"] and reader.response().usage.output_tokens > 0
    assert (await p.get_model("s-2")).id == "s-2"
    with pytest.raises(Exception, match="no model"):
        await p.get_model("s-3")
