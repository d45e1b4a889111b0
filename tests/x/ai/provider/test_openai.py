"""The OpenAI Chat Completions client against a local server speaking the real wire format."""

from __future__ import annotations

import asyncio

import pytest

from plumego.x.ai.provider import (AuthenticationError, CompletionRequest, ContentBlock, HTTPOptions,
                                   InvalidRequestError, Message, NotFoundError, OpenAIProvider, ProviderTimeout,
                                   RateLimitError, Role, StopReason, StreamError, Tool, ToolChoice, ToolUse, Usage)

from ..conftest import FakeSleep
from ..wire_server import Reply, WireServer, openai_chunks, sse

WEATHER = Tool("get_weather", "Weather for a city", {"type": "object", "properties": {"city": {"type": "string"}},
                                                     "required": ["city"]})


def _req(**kw: object) -> CompletionRequest:
    return CompletionRequest(model="gpt-test", messages=[Message(Role.USER, "Weather in Paris?")],
                             **kw)  # type: ignore[arg-type]


def _client(wire: WireServer, sleep: FakeSleep | None = None, **opts: float) -> OpenAIProvider:
    return OpenAIProvider("sk-test", base_url=wire.url + "/v1", sleep=sleep,
                          options=HTTPOptions(**{"max_retries": 2, **opts}))  # type: ignore[arg-type]


async def test_complete_sends_the_wire_format_and_parses_tool_calls(wire: WireServer) -> None:
    wire.push("/v1/chat/completions", Reply(json={
        "id": "chatcmpl-9", "object": "chat.completion", "created": 1, "model": "gpt-test",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}}))
    history = [Message(Role.USER, [ContentBlock.of_text("look"), ContentBlock.of_image(url="https://x/cat.png")]),
               Message(Role.ASSISTANT, [ContentBlock.of_tool_use(ToolUse("call_0", "get_weather", {"city": "Rome"}))]),
               Message(Role.USER, [ContentBlock.of_tool_result("call_0", "sunny")])]
    async with asyncio.timeout(5):
        client = _client(wire)
        resp = await client.complete(CompletionRequest("gpt-test", history, system="be brief", tools=[WEATHER],
                                                       tool_choice=ToolChoice("any"), temperature=0.2))
        await client.aclose()
    seen = wire.seen[0]
    assert (seen.method, seen.path) == ("POST", "/v1/chat/completions")
    assert seen.headers["authorization"] == "Bearer sk-test"
    body = seen.body
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert body["messages"][1]["content"][1] == {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}
    assert body["messages"][2]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Rome"}'}
    assert body["messages"][3] == {"role": "tool", "tool_call_id": "call_0", "content": "sunny"}
    assert body["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert body["tool_choice"] == "required" and body["temperature"] == 0.2 and "stream" not in body
    assert resp.stop_reason is StopReason.TOOL_USE
    assert resp.tool_uses() == [ToolUse("call_1", "get_weather", {"city": "Paris"})]
    assert resp.usage == Usage(12, 4) and resp.id == "chatcmpl-9"


async def test_stream_assembles_text_and_tool_call_deltas(wire: WireServer) -> None:
    wire.push("/v1/chat/completions", Reply(events=openai_chunks(
        ["It ", "is "], tool_calls=[("call_7", "get_weather", ['{"ci', 'ty": "Pa', 'ris"}']),
                                    ("call_8", "get_weather", ['{"city": "Oslo"}'])],
        finish="tool_calls", usage=(20, 30))))
    client = _client(wire)
    async with asyncio.timeout(5):
        reader = await client.stream(_req(tools=[WEATHER]))
        chunks = [c async for c in reader]
        await client.aclose()
    assert wire.seen[0].body["stream"] is True and wire.seen[0].body["stream_options"] == {"include_usage": True}
    assert [c.text for c in chunks if c.type == "text"] == ["It ", "is "]
    assert [c.tool_use for c in chunks if c.type == "tool_use"] == [
        ToolUse("call_7", "get_weather", {"city": "Paris"}), ToolUse("call_8", "get_weather", {"city": "Oslo"})]
    final = reader.response()
    assert final.text() == "It is " and final.stop_reason is StopReason.TOOL_USE and final.usage == Usage(20, 30)
    assert reader.closed and await wire.wait_idle()


async def test_429_waits_exactly_retry_after_then_succeeds(wire: WireServer, fake_sleep: FakeSleep) -> None:
    limited = Reply(429, {"retry-after": "3"}, json={"error": {"message": "Rate limit reached", "type": "requests"}})
    wire.push("/v1/chat/completions", limited)
    client = _client(wire, fake_sleep)
    async with asyncio.timeout(5):
        resp = await client.complete(_req())
        await client.aclose()
    assert fake_sleep.calls == [3.0] and len(wire.seen) == 2 and resp.text().startswith("tok0")


async def test_429_after_the_retries_is_a_rate_limit_error_with_retry_after(wire: WireServer,
                                                                             fake_sleep: FakeSleep) -> None:
    for _ in range(3):
        wire.push("/v1/chat/completions", Reply(429, {"retry-after-ms": "1500"},
                                                json={"error": {"message": "slow down", "type": "tokens"}}))
    client = _client(wire, fake_sleep)
    with pytest.raises(RateLimitError) as info:
        await client.complete(_req())
    await client.aclose()
    assert info.value.retry_after == 1.5 and info.value.status == 429 and "slow down" in str(info.value)
    assert fake_sleep.calls == [1.5, 1.5] and len(wire.seen) == 3


async def test_a_retry_after_beyond_the_cap_is_not_waited_for(wire: WireServer, fake_sleep: FakeSleep) -> None:
    wire.push("/v1/chat/completions", Reply(429, {"retry-after": "3600"}, json={"error": {"message": "quota"}}))
    client = _client(wire, fake_sleep, max_retry_after=60)
    with pytest.raises(RateLimitError):
        await client.complete(_req())
    await client.aclose()
    assert fake_sleep.calls == [] and len(wire.seen) == 1


async def test_5xx_is_retried_with_backoff_and_4xx_is_not(wire: WireServer, fake_sleep: FakeSleep) -> None:
    wire.push("/v1/chat/completions", Reply(503, raw=b"upstream down", headers={"content-type": "text/plain"}),
              Reply(500, json={"error": {"message": "boom", "type": "server_error"}}))
    client = _client(wire, fake_sleep, backoff_base=0.5)
    assert (await client.complete(_req())).text()
    assert len(fake_sleep.calls) == 2 and 0.25 <= fake_sleep.calls[0] <= 0.5 and 0.5 <= fake_sleep.calls[1] <= 1.0
    wire.push("/v1/chat/completions", Reply(400, json={"error": {"message": "bad max_tokens",
                                                                 "type": "invalid_request_error"}}))
    with pytest.raises(InvalidRequestError) as info:
        await client.complete(_req())
    assert info.value.error_type == "invalid_request_error" and len(fake_sleep.calls) == 2
    wire.push("/v1/chat/completions", Reply(401, json={"error": {"message": "Incorrect API key"}}))
    with pytest.raises(AuthenticationError):
        await client.complete(_req())
    await client.aclose()


async def test_models_come_from_the_api(wire: WireServer) -> None:
    wire.push("/v1/models", Reply(json={"object": "list", "data": [
        {"id": "gpt-a", "object": "model", "created": 5, "owned_by": "me"}, {"id": "gpt-b", "object": "model"}]}))
    wire.push("/v1/models/gpt-a", Reply(json={"id": "gpt-a", "object": "model", "owned_by": "me"}))
    wire.push("/v1/models/nope", Reply(404, json={"error": {"message": "The model does not exist"}}))
    client = _client(wire)
    assert [m.id for m in await client.list_models()] == ["gpt-a", "gpt-b"]
    assert (await client.get_model("gpt-a")).owned_by == "me"
    with pytest.raises(NotFoundError):
        await client.get_model("nope")
    await client.aclose()


@pytest.mark.parametrize("reply, message", [
    (Reply(events=openai_chunks(["a"])[:3], truncate=True), "stream broke"),
    (Reply(events=openai_chunks(["a"])[:3]), r"before \[DONE\]"),
    (Reply(events=[sse({"choices": [{"index": 0, "delta": {"content": "a"}}]}), b"data: {not json\n\n"]),
     "invalid JSON"),
    (Reply(events=[sse({"error": {"message": "overloaded", "type": "server_error"}})]), "overloaded"),
    (Reply(events=openai_chunks([], tool_calls=[("c", "get_weather", ['{"city": '])])), "not valid JSON"),
])
async def test_a_broken_stream_is_a_stream_error_and_closes_the_connection(wire: WireServer, reply: Reply,
                                                                           message: str) -> None:
    wire.push("/v1/chat/completions", reply)
    client = _client(wire)
    async with asyncio.timeout(5):
        reader = await client.stream(_req())
        with pytest.raises(StreamError, match=message):
            async for _ in reader:
                pass
        assert reader.closed
        await client.aclose()
        assert await wire.wait_idle()


async def test_a_hanging_provider_times_out(wire: WireServer) -> None:
    wire.push("/v1/chat/completions", Reply(hang=True))
    client = _client(wire, timeout=0.2, max_retries=0)
    async with asyncio.timeout(5):
        with pytest.raises(ProviderTimeout):
            await client.complete(_req())
        await client.aclose()
    hang_client = _client(wire, read_timeout=0.2, max_retries=0)
    wire.push("/v1/chat/completions", Reply(events=openai_chunks(["a", "b", "c"]), hang_after=2))
    async with asyncio.timeout(5):
        reader = await hang_client.stream(_req())
        with pytest.raises(ProviderTimeout):
            async for _ in reader:
                pass
        await hang_client.aclose()
        assert await wire.wait_idle()


async def test_cancelling_the_reading_task_closes_the_stream(wire: WireServer) -> None:
    wire.push("/v1/chat/completions", Reply(events=openai_chunks([f"w{i} " for i in range(200)]), delay=0.01))
    client = _client(wire)
    got: list[str] = []

    async def consume() -> None:
        async with await client.stream(_req()) as reader:
            async for chunk in reader:
                got.append(chunk.text)

    async with asyncio.timeout(5):
        task = asyncio.create_task(consume())
        while len(got) < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await wire.wait_idle()
        await client.aclose()
    assert wire.aborted_streams == 1 and len(got) < 100


async def test_a_json_answer_to_a_stream_request_is_a_stream_error(wire: WireServer) -> None:
    wire.push("/v1/chat/completions", Reply(json={"id": "x", "choices": []}))
    client = _client(wire)
    with pytest.raises(StreamError, match="text/event-stream"):
        await client.stream(_req())
    await client.aclose()
