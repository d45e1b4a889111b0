"""SSE responses driven through the ASGI interface, with a client that can hang up; and a real relay from the
local wire server through a plumego App served by uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from plumego.x.ai.provider import CompletionRequest, Message, OpenAIProvider, Role, StreamError
from plumego.x.ai.streaming import (Event, EventStream, ProgressUpdate, StreamManager, completion_events,
                                    encode_event)

from ..wire_server import Reply, WireServer, openai_chunks


class Client:
    """An ASGI client whose disconnect the test controls."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.hangup = asyncio.Event()
        self._sent = False

    async def receive(self) -> dict[str, Any]:
        if not self._sent:
            self._sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.hangup.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")


SCOPE = {"type": "http", "method": "GET", "path": "/stream", "headers": []}


def test_encoding_follows_the_sse_format() -> None:
    assert (encode_event(Event({"a": 1}, event="x", id="7", retry=1000))
            == b'id: 7\nevent: x\nretry: 1000\ndata: {"a":1}\n\n')
    assert encode_event(Event("two\nlines")) == b"data: two\ndata: lines\n\n"
    assert encode_event(Event(comment="ping")) == b": ping\n\n"
    with pytest.raises(ValueError):
        encode_event(Event("x", event="bad\nname"))


async def test_headers_keepalive_and_clean_end() -> None:
    async def events() -> AsyncIterator[Event]:
        yield Event("first")
        await asyncio.sleep(0.12)
        yield Event("second")

    client = Client()
    stream = EventStream(events(), keepalive=0.05)
    async with asyncio.timeout(5):
        await stream(SCOPE, client.receive, client.send)
    headers = dict(client.messages[0]["headers"])
    assert headers[b"content-type"] == b"text/event-stream" and headers[b"cache-control"] == b"no-cache"
    assert headers[b"connection"] == b"keep-alive" and headers[b"x-accel-buffering"] == b"no"
    body = client.body
    assert body.startswith(b"data: first\n\n") and body.endswith(b"data: second\n\n")
    assert b": keep-alive\n\n" in body and client.messages[-1]["more_body"] is False


async def test_a_disconnect_cancels_the_producer() -> None:
    state = {"cancelled": False, "closed": False, "sent": 0}

    async def events() -> AsyncIterator[Event]:
        try:
            while True:
                state["sent"] += 1
                yield Event(state["sent"])
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise
        finally:
            state["closed"] = True

    client = Client()
    stream = EventStream(events())
    async with asyncio.timeout(5):
        task = asyncio.create_task(stream(SCOPE, client.receive, client.send))
        while state["sent"] < 3:
            await asyncio.sleep(0.01)
        client.hangup.set()
        await task
    assert stream.disconnected and state["closed"] and state["cancelled"]
    assert not any(m.get("more_body") is False for m in client.messages[1:])


async def test_a_failing_producer_ends_with_an_error_event() -> None:
    async def events() -> AsyncIterator[Event]:
        yield Event("ok")
        raise StreamError("upstream broke", provider="p")

    client = Client()
    await EventStream(events())(SCOPE, client.receive, client.send)
    assert client.body == b'data: ok\n\nevent: error\ndata: {"type":"StreamError","message":"upstream broke"}\n\n'
    assert client.messages[-1]["more_body"] is False


async def test_relaying_a_provider_stream_and_hanging_up_closes_the_upstream(wire: WireServer) -> None:
    wire.push("/v1/chat/completions", Reply(events=openai_chunks([f"w{i} " for i in range(500)]), delay=0.005))
    provider = OpenAIProvider(base_url=wire.url + "/v1")
    reader = await provider.stream(CompletionRequest("m", [Message(Role.USER, "go")]))
    client = Client()
    stream = EventStream(completion_events(reader))
    async with asyncio.timeout(5):
        task = asyncio.create_task(stream(SCOPE, client.receive, client.send))
        while stream.sent_events < 5:
            await asyncio.sleep(0.01)
        client.hangup.set()
        await task
        assert reader.closed and await wire.wait_idle()
    assert wire.aborted_streams == 1
    await provider.aclose()


async def test_a_complete_relay_ends_with_done(wire: WireServer) -> None:
    wire.push("/v1/chat/completions", Reply(events=openai_chunks(["Hel", "lo"], usage=(2, 3))))
    provider = OpenAIProvider(base_url=wire.url + "/v1")
    reader = await provider.stream(CompletionRequest("m", [Message(Role.USER, "go")]))
    client = Client()
    await EventStream(completion_events(reader))(SCOPE, client.receive, client.send)
    assert client.body.split(b"\n\n")[:3] == [b'event: delta\ndata: {"text":"Hel"}',
                                             b'event: delta\ndata: {"text":"lo"}',
                                             b'event: done\ndata: {"stop_reason":"end_turn","text":"Hello",'
                                             b'"usage":{"input_tokens":2,"output_tokens":3}}']
    await provider.aclose()


async def test_progress_fans_out_to_subscribers() -> None:
    manager = StreamManager()
    manager.register("wf1")
    with pytest.raises(ValueError):
        manager.register("wf1")
    got: list[Event] = []

    async def listen() -> None:
        async for ev in manager.subscribe("wf1"):
            got.append(ev)

    task = asyncio.create_task(listen())
    await asyncio.sleep(0)
    manager.publish(ProgressUpdate("wf1", "fetch", 0, "started"))
    manager.publish(ProgressUpdate("wf1", "fetch", 0, "completed", progress=0.5))
    manager.complete("wf1", result={"ok": True})
    async with asyncio.timeout(2):
        await task
    assert [e.event for e in got] == ["progress", "progress", "complete"]
    assert got[1].data["progress"] == 0.5 and got[2].data == {"result": {"ok": True}}
    with pytest.raises(ValueError):
        ProgressUpdate("wf1", "x", 0, "bogus")
    with pytest.raises(KeyError):
        manager.publish(ProgressUpdate("wf1", "late", 1, "started"))
