"""The OpenAI Chat Completions wire format: ``POST {base}/chat/completions`` with ``Authorization: Bearer``,
SSE chunks ending in ``data: [DONE]`` with tool-call deltas assembled per index, ``GET {base}/models``.

The same client serves OpenAI-compatible servers (vLLM, Ollama, llama.cpp, LiteLLM) through ``base_url``.
Unlike Go Plumego, the model list comes from the server, not a hard-coded table.
Imports the standard library, this package and the tokenizer; httpx through ``_http``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..tokenizer import counter_for
from ._http import HTTPClient, HTTPOptions, StreamReader, decode_event
from ._types import (CompletionRequest, CompletionResponse, ContentBlock, Message, ModelInfo, StopReason,
                     StreamChunk, StreamError, ToolUse, Usage)

if TYPE_CHECKING:
    import httpx

__all__ = ["OpenAIProvider"]

_FINISH = {"stop": StopReason.END_TURN, "length": StopReason.MAX_TOKENS, "tool_calls": StopReason.TOOL_USE,
           "function_call": StopReason.TOOL_USE, "content_filter": StopReason.ERROR}


def _image_url(block: ContentBlock) -> str:
    return block.url or f"data:{block.media_type or 'image/png'};base64,{block.data}"


def _messages(req: CompletionRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if req.system:
        out.append({"role": "system", "content": req.system})
    for msg in req.messages:
        out.extend(_message(msg))
    return out


def _message(msg: Message) -> list[dict[str, Any]]:
    role = str(msg.role)
    if isinstance(msg.content, str):
        item: dict[str, Any] = {"role": role, "content": msg.content}
        if role == "tool":
            item["tool_call_id"] = msg.tool_call_id
        if msg.name:
            item["name"] = msg.name
        return [item]
    results = [{"role": "tool", "tool_call_id": b.tool_use_id, "content": b.text}
               for b in msg.content if b.type == "tool_result"]
    uses = [b.tool_use for b in msg.content if b.type == "tool_use" and b.tool_use is not None]
    parts: list[dict[str, Any]] = []
    for b in msg.content:
        if b.type == "text":
            parts.append({"type": "text", "text": b.text})
        elif b.type == "image":
            parts.append({"type": "image_url", "image_url": {"url": _image_url(b)}})
    out: list[dict[str, Any]] = list(results)
    if role == "assistant":
        text = "".join(p["text"] for p in parts if p["type"] == "text")
        item = {"role": "assistant", "content": text or None}
        if uses:
            item["tool_calls"] = [{"id": u.id, "type": "function",
                                   "function": {"name": u.name, "arguments": json.dumps(dict(u.input))}}
                                  for u in uses]
        out.append(item)
    elif parts:
        if all(p["type"] == "text" for p in parts):
            out.append({"role": role if role != "tool" else "user", "content": "".join(p["text"] for p in parts)})
        else:
            out.append({"role": role, "content": parts})
    return out


def request_body(req: CompletionRequest, *, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": req.model, "messages": _messages(req), "max_tokens": req.max_tokens}
    if req.temperature is not None:
        body["temperature"] = req.temperature
    if req.top_p is not None:
        body["top_p"] = req.top_p
    if req.stop_sequences:
        body["stop"] = list(req.stop_sequences)
    if req.tools:
        body["tools"] = [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                           "parameters": dict(t.input_schema)}} for t in req.tools]
    if req.tool_choice is not None:
        kind = req.tool_choice.type
        body["tool_choice"] = ({"type": "function", "function": {"name": req.tool_choice.name}} if kind == "tool"
                               else "required" if kind == "any" else kind)
    if req.metadata.get("user"):
        body["user"] = req.metadata["user"]
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _arguments(provider: str, raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise StreamError(f"{provider}: tool-call arguments are not valid JSON: {raw[:120]!r}",
                          provider=provider) from None
    if not isinstance(value, dict):
        raise StreamError(f"{provider}: tool-call arguments must be a JSON object", provider=provider)
    return value


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))


class OpenAIProvider:
    """Chat Completions client. ``base_url`` defaults to OpenAI; point it at any compatible server."""

    def __init__(self, api_key: str = "", *, base_url: str = "https://api.openai.com/v1", name: str = "openai",
                 options: HTTPOptions | None = None, client: httpx.AsyncClient | None = None,
                 organization: str = "", sleep: Callable[[float], Awaitable[None]] | None = None,
                 default_model: str = "gpt-4o-mini") -> None:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if organization:
            headers["OpenAI-Organization"] = organization
        extra = {"sleep": sleep} if sleep is not None else {}
        self.name = name
        self.default_model = default_model
        self._http = HTTPClient(name, base_url, headers, options or HTTPOptions(), client, **extra)
        self._counter = counter_for(default_model)

    async def aclose(self) -> None:
        await self._http.aclose()

    def count_tokens(self, text: str) -> int:
        return self._counter.count(text)

    async def complete(self, req: CompletionRequest) -> CompletionResponse:
        data = await self._http.request_json("POST", "/chat/completions", request_body(req, stream=False))
        try:
            choice = data["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise StreamError(f"{self.name}: the completion has no choices", provider=self.name) from None
        blocks: list[ContentBlock] = []
        if message.get("content"):
            blocks.append(ContentBlock.of_text(str(message["content"])))
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            blocks.append(ContentBlock.of_tool_use(ToolUse(str(call.get("id", "")), str(fn.get("name", "")),
                                                           _arguments(self.name, fn.get("arguments") or ""))))
        return CompletionResponse(str(data.get("id", "")), str(data.get("model", req.model)), tuple(blocks),
                                  _FINISH.get(choice.get("finish_reason") or "stop", StopReason.END_TURN),
                                  _usage(data.get("usage")))

    async def stream(self, req: CompletionRequest) -> StreamReader:
        """Open a streaming completion (retries apply until the stream has started)."""
        events, close = await self._http.sse("/chat/completions", request_body(req, stream=True))
        reader = StreamReader(self._chunks(events), model=req.model, on_close=close)
        return reader

    async def _chunks(self, events: AsyncIterator[Any]) -> AsyncIterator[StreamChunk]:
        calls: dict[int, dict[str, str]] = {}
        done = False
        finish: str | None = None
        try:
            async for event in events:
                if event.data.strip() == "[DONE]":
                    done = True
                    break
                payload = decode_event(self.name, event.data)
                if not isinstance(payload, dict):
                    raise StreamError(f"{self.name}: a stream chunk is not a JSON object", provider=self.name)
                if "error" in payload:
                    err = payload["error"]
                    msg = err.get("message") if isinstance(err, dict) else str(err)
                    raise StreamError(f"{self.name}: error event: {msg}", provider=self.name)
                if payload.get("usage"):
                    yield StreamChunk("usage", usage=_usage(payload["usage"]))
                for choice in payload.get("choices") or []:
                    delta = choice.get("delta") or {}
                    if delta.get("content"):
                        yield StreamChunk("text", text=str(delta["content"]))
                    for call in delta.get("tool_calls") or []:
                        slot = calls.setdefault(int(call.get("index", 0)), {"id": "", "name": "", "args": ""})
                        fn = call.get("function") or {}
                        slot["id"] = call.get("id") or slot["id"]
                        slot["name"] = fn.get("name") or slot["name"]
                        slot["args"] += fn.get("arguments") or ""
                    if choice.get("finish_reason"):
                        finish = str(choice["finish_reason"])
            if not done:
                raise StreamError(f"{self.name}: the stream ended before [DONE] (truncated)", provider=self.name,
                                  retryable=True)
            for index in sorted(calls):
                slot = calls[index]
                yield StreamChunk("tool_use", tool_use=ToolUse(slot["id"], slot["name"],
                                                               _arguments(self.name, slot["args"])))
            yield StreamChunk("stop", stop_reason=_FINISH.get(finish or "stop", StopReason.END_TURN))
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    async def list_models(self) -> list[ModelInfo]:
        data = await self._http.request_json("GET", "/models")
        items = data.get("data") if isinstance(data, dict) else None
        return [ModelInfo(str(m["id"]), self.name, str(m.get("owned_by", "")), created=int(m.get("created") or 0))
                for m in items or [] if isinstance(m, dict) and "id" in m]

    async def get_model(self, model_id: str) -> ModelInfo:
        m = await self._http.request_json("GET", f"/models/{model_id}")
        return ModelInfo(str(m.get("id", model_id)), self.name, str(m.get("owned_by", "")),
                         created=int(m.get("created") or 0))



