"""The Anthropic Messages client against a local server speaking the real wire format."""

from __future__ import annotations

import asyncio

import pytest

from plumego.x.ai.provider import (AnthropicProvider, CompletionRequest, ContentBlock, HTTPOptions, Message,
                                   ProviderUnavailable, Role, StopReason, StreamError, Tool, ToolChoice, ToolUse, Usage)

from ..conftest import FakeSleep
from ..wire_server import Reply, WireServer, anthropic_events, sse

CALC = Tool("calculator", "Evaluate arithmetic", {"type": "object", "properties": {"expression": {"type": "string"}}})


def _client(wire: WireServer, sleep: FakeSleep | None = None) -> AnthropicProvider:
    return AnthropicProvider("ak-test", base_url=wire.url + "/v1", sleep=sleep, options=HTTPOptions(max_retries=2))


def _req(**kw: object) -> CompletionRequest:
    return CompletionRequest("claude-test", [Message(Role.USER, "2+2?")], **kw)  # type: ignore[arg-type]


async def test_complete_sends_the_messages_format(wire: WireServer) -> None:
    wire.push("/v1/messages", Reply(json={
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [{"type": "text", "text": "Let me compute."},
                    {"type": "tool_use", "id": "toolu_1", "name": "calculator", "input": {"expression": "2+2"}}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 30, "output_tokens": 12}}))
    history = [Message(Role.SYSTEM, "extra rule"), Message(Role.USER, "2+2?"),
               Message(Role.ASSISTANT,
                       [ContentBlock.of_tool_use(ToolUse("toolu_0", "calculator", {"expression": "1"}))]),
               Message(Role.TOOL, "1", tool_call_id="toolu_0"),
               Message(Role.USER, [ContentBlock.of_image(media_type="image/png", data="aGk=")])]
    client = _client(wire)
    async with asyncio.timeout(5):
        resp = await client.complete(CompletionRequest("claude-test", history, system="be exact", tools=[CALC],
                                                       tool_choice=ToolChoice("tool", "calculator"), top_k=5))
        await client.aclose()
    seen = wire.seen[0]
    assert seen.headers["x-api-key"] == "ak-test" and seen.headers["anthropic-version"] == "2023-06-01"
    body = seen.body
    assert body["system"] == "be exact\n\nextra rule" and body["top_k"] == 5 and body["max_tokens"] == 1024
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user", "user"]
    assert body["messages"][1]["content"][0] == {"type": "tool_use", "id": "toolu_0", "name": "calculator",
                                                 "input": {"expression": "1"}}
    assert body["messages"][2]["content"] == [{"type": "tool_result", "tool_use_id": "toolu_0", "content": "1"}]
    assert body["messages"][3]["content"][0]["source"] == {"type": "base64", "media_type": "image/png", "data": "aGk="}
    assert body["tools"][0]["input_schema"]["type"] == "object"
    assert body["tool_choice"] == {"type": "tool", "name": "calculator"}
    assert resp.text() == "Let me compute." and resp.stop_reason is StopReason.TOOL_USE
    assert resp.tool_uses() == [ToolUse("toolu_1", "calculator", {"expression": "2+2"})] and resp.usage == Usage(30, 12)


async def test_stream_assembles_text_and_input_json_deltas(wire: WireServer) -> None:
    wire.push("/v1/messages", Reply(events=anthropic_events(
        ["Comput", "ing"], tools=[("toolu_9", "calculator", ['{"expr', 'ession": "6*7"}'])], stop="tool_use")))
    client = _client(wire)
    async with asyncio.timeout(5):
        reader = await client.stream(_req(tools=[CALC]))
        final = await reader.collect()
        await client.aclose()
    assert wire.seen[0].body["stream"] is True
    assert final.text() == "Computing" and final.stop_reason is StopReason.TOOL_USE
    assert final.tool_uses() == [ToolUse("toolu_9", "calculator", {"expression": "6*7"})]
    assert final.usage == Usage(11, 9) and await wire.wait_idle()


async def test_overloaded_529_is_retried(wire: WireServer, fake_sleep: FakeSleep) -> None:
    wire.push("/v1/messages", Reply(529, json={"type": "error", "error": {"type": "overloaded_error",
                                                                          "message": "Overloaded"}}),
              Reply(events=anthropic_events(["fine"])))
    client = _client(wire, fake_sleep)
    async with asyncio.timeout(5):
        reader = await client.stream(_req())
        assert (await reader.collect()).text() == "fine"
        await client.aclose()
    assert len(fake_sleep.calls) == 1


async def test_overloaded_for_good_is_provider_unavailable(wire: WireServer, fake_sleep: FakeSleep) -> None:
    for _ in range(3):
        wire.push("/v1/messages", Reply(529, json={"type": "error", "error": {"type": "overloaded_error",
                                                                              "message": "Overloaded"}}))
    client = _client(wire, fake_sleep)
    with pytest.raises(ProviderUnavailable) as info:
        await client.complete(_req())
    await client.aclose()
    assert info.value.error_type == "overloaded_error" and info.value.status == 529


@pytest.mark.parametrize("events, message", [
    (anthropic_events(["a"])[:4], "before message_stop"),
    (anthropic_events(["a"])[:3] + [sse({"type": "error", "error": {"type": "overloaded_error",
                                                                    "message": "Overloaded"}}, "error")],
     "overloaded_error"),
    (anthropic_events(["a"])[:3] + [b"event: content_block_delta\ndata: {\"type\": \n\n"], "invalid JSON"),
    (anthropic_events([], tools=[("t", "calculator", ['{"expression": '])]), "not valid JSON"),
])
async def test_broken_streams_end_in_stream_error(wire: WireServer, events: list[bytes], message: str) -> None:
    wire.push("/v1/messages", Reply(events=events))
    client = _client(wire)
    async with asyncio.timeout(5):
        reader = await client.stream(_req())
        with pytest.raises(StreamError, match=message):
            await reader.collect()
        await client.aclose()
        assert await wire.wait_idle()


async def test_models_are_paginated_from_the_api(wire: WireServer) -> None:
    wire.push("/v1/models", Reply(json={"data": [{"type": "model", "id": "claude-a", "display_name": "A"}],
                                        "has_more": True, "first_id": "claude-a", "last_id": "claude-a"}),
              Reply(json={"data": [{"type": "model", "id": "claude-b", "display_name": "B"}], "has_more": False}))
    wire.push("/v1/messages/count_tokens", Reply(json={"input_tokens": 42}))
    client = _client(wire)
    assert [(m.id, m.display_name) for m in await client.list_models()] == [("claude-a", "A"), ("claude-b", "B")]
    assert wire.seen[1].path == "/v1/models?limit=1000&after_id=claude-a"
    assert await client.count_request_tokens(_req()) == 42
    assert "max_tokens" not in wire.seen[2].body
    await client.aclose()
