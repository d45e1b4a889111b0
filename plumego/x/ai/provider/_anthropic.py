"""The Anthropic Messages wire format: ``POST {base}/messages`` with ``x-api-key`` and
``anthropic-version: 2023-06-01``, SSE events ``message_start`` … ``content_block_delta`` (text and
``input_json_delta``) … ``message_stop``, error events mid-stream, ``GET {base}/models`` paginated, and
``POST {base}/messages/count_tokens``. Model lists come from the API, not a hard-coded table.

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

__all__ = ["AnthropicProvider"]

API_VERSION = "2023-06-01"
_STOP = {"end_turn": StopReason.END_TURN, "max_tokens": StopReason.MAX_TOKENS,
         "stop_sequence": StopReason.STOP_SEQUENCE, "tool_use": StopReason.TOOL_USE,
         "pause_turn": StopReason.END_TURN, "refusal": StopReason.ERROR}


def _block(b: ContentBlock) -> dict[str, Any]:
    if b.type == "text":
        return {"type": "text", "text": b.text}
    if b.type == "image":
        source = ({"type": "url", "url": b.url} if b.url else
                  {"type": "base64", "media_type": b.media_type or "image/png", "data": b.data})
        return {"type": "image", "source": source}
    if b.type == "tool_use" and b.tool_use is not None:
        return {"type": "tool_use", "id": b.tool_use.id, "name": b.tool_use.name, "input": dict(b.tool_use.input)}
    if b.type == "tool_result":
        out: dict[str, Any] = {"type": "tool_result", "tool_use_id": b.tool_use_id, "content": b.text}
        if b.is_error:
            out["is_error"] = True
        return out
    raise ValueError(f"unknown content block type {b.type!r}")


def _message(msg: Message) -> dict[str, Any]:
    role = str(msg.role)
    if role == "tool":     # OpenAI-style tool message: a tool_result block in a user turn
        blocks = (msg.blocks() if not isinstance(msg.content, str)
                  else [ContentBlock.of_tool_result(msg.tool_call_id, msg.content)])
        return {"role": "user", "content": [_block(b) for b in blocks]}
    if isinstance(msg.content, str):
        return {"role": role, "content": msg.content}
    return {"role": role, "content": [_block(b) for b in msg.content]}


def request_body(req: CompletionRequest, *, stream: bool) -> dict[str, Any]:
    system = [req.system] if req.system else []
    messages = []
    for msg in req.messages:
        if str(msg.role) == "system":
            system.append(msg.text())
        else:
            messages.append(_message(msg))
    body: dict[str, Any] = {"model": req.model, "max_tokens": req.max_tokens, "messages": messages}
    if system:
        body["system"] = "\n\n".join(system)
    for key, value in (("temperature", req.temperature), ("top_p", req.top_p), ("top_k", req.top_k)):
        if value is not None:
            body[key] = value
    if req.stop_sequences:
        body["stop_sequences"] = list(req.stop_sequences)
    if req.tools:
        body["tools"] = [{"name": t.name, "description": t.description, "input_schema": dict(t.input_schema)}
                         for t in req.tools]
    if req.tool_choice is not None:
        body["tool_choice"] = ({"type": "tool", "name": req.tool_choice.name} if req.tool_choice.type == "tool"
                               else {"type": req.tool_choice.type})
    if req.metadata.get("user"):
        body["metadata"] = {"user_id": req.metadata["user"]}
    if stream:
        body["stream"] = True
    return body


def _usage(raw: Any, base: Usage = Usage()) -> Usage:
    if not isinstance(raw, dict):
        return base
    return Usage(int(raw.get("input_tokens") or base.input_tokens),
                 int(raw.get("output_tokens") or base.output_tokens))


def _model(m: dict[str, Any], provider: str) -> ModelInfo:
    return ModelInfo(str(m["id"]), provider, "anthropic", str(m.get("display_name", "")))


class AnthropicProvider:
    def __init__(self, api_key: str = "", *, base_url: str = "https://api.anthropic.com/v1", name: str = "anthropic",
                 options: HTTPOptions | None = None, client: httpx.AsyncClient | None = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None,
                 default_model: str = "claude-sonnet-4-5") -> None:
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "anthropic-version": API_VERSION}
        if api_key:
            headers["x-api-key"] = api_key
        extra = {"sleep": sleep} if sleep is not None else {}
        self.name = name
        self.default_model = default_model
        self._http = HTTPClient(name, base_url, headers, options or HTTPOptions(), client, **extra)
        self._counter = counter_for("claude")

    async def aclose(self) -> None:
        await self._http.aclose()

    def count_tokens(self, text: str) -> int:
        return self._counter.count(text)

    async def count_request_tokens(self, req: CompletionRequest) -> int:
        """The API's own count of a request's input tokens (``/messages/count_tokens``)."""
        body = request_body(req, stream=False)
        body.pop("max_tokens", None)
        data = await self._http.request_json("POST", "/messages/count_tokens", body)
        return int(data.get("input_tokens") or 0)

    def _blocks(self, raw: Any) -> list[ContentBlock]:
        blocks: list[ContentBlock] = []
        for b in raw or []:
            if b.get("type") == "text":
                blocks.append(ContentBlock.of_text(str(b.get("text", ""))))
            elif b.get("type") == "tool_use":
                blocks.append(ContentBlock.of_tool_use(ToolUse(str(b.get("id", "")), str(b.get("name", "")),
                                                               dict(b.get("input") or {}))))
        return blocks

    async def complete(self, req: CompletionRequest) -> CompletionResponse:
        data = await self._http.request_json("POST", "/messages", request_body(req, stream=False))
        if not isinstance(data, dict) or data.get("type") != "message":
            raise StreamError(f"{self.name}: the answer is not a message", provider=self.name)
        return CompletionResponse(str(data.get("id", "")), str(data.get("model", req.model)),
                                  tuple(self._blocks(data.get("content"))),
                                  _STOP.get(str(data.get("stop_reason") or "end_turn"), StopReason.END_TURN),
                                  _usage(data.get("usage")))

    async def stream(self, req: CompletionRequest) -> StreamReader:
        events, close = await self._http.sse("/messages", request_body(req, stream=True))
        return StreamReader(self._chunks(events), model=req.model, on_close=close)

    async def _chunks(self, events: AsyncIterator[Any]) -> AsyncIterator[StreamChunk]:
        tools: dict[int, dict[str, str]] = {}
        usage = Usage()
        stopped = False
        stop = StopReason.END_TURN
        try:
            async for event in events:
                payload = decode_event(self.name, event.data)
                if not isinstance(payload, dict):
                    raise StreamError(f"{self.name}: a stream event is not a JSON object", provider=self.name)
                kind = payload.get("type") or event.event
                if kind == "message_start":
                    usage = _usage((payload.get("message") or {}).get("usage"), usage)
                elif kind == "content_block_start":
                    block = payload.get("content_block") or {}
                    if block.get("type") == "tool_use":
                        tools[int(payload.get("index", 0))] = {"id": str(block.get("id", "")),
                                                               "name": str(block.get("name", "")), "args": ""}
                elif kind == "content_block_delta":
                    delta = payload.get("delta") or {}
                    if delta.get("type") == "text_delta":
                        yield StreamChunk("text", text=str(delta.get("text", "")))
                    elif delta.get("type") == "input_json_delta":
                        slot = tools.get(int(payload.get("index", 0)))
                        if slot is None:
                            raise StreamError(f"{self.name}: input_json_delta for a block that is not a tool_use",
                                              provider=self.name)
                        slot["args"] += str(delta.get("partial_json", ""))
                elif kind == "content_block_stop":
                    slot = tools.pop(int(payload.get("index", 0)), None)
                    if slot is not None:
                        try:
                            args = json.loads(slot["args"]) if slot["args"].strip() else {}
                        except ValueError:
                            raise StreamError(f"{self.name}: tool input is not valid JSON: {slot['args'][:120]!r}",
                                              provider=self.name) from None
                        if not isinstance(args, dict):
                            raise StreamError(f"{self.name}: tool input must be a JSON object", provider=self.name)
                        yield StreamChunk("tool_use", tool_use=ToolUse(slot["id"], slot["name"], args))
                elif kind == "message_delta":
                    reason = (payload.get("delta") or {}).get("stop_reason")
                    if reason:
                        stop = _STOP.get(str(reason), StopReason.END_TURN)
                    usage = _usage(payload.get("usage"), usage)
                elif kind == "message_stop":
                    stopped = True
                    break
                elif kind == "error":
                    err = payload.get("error") or {}
                    raise StreamError(f"{self.name}: error event: {err.get('type', '')}: {err.get('message', '')}",
                                      provider=self.name, error_type=str(err.get("type", "")),
                                      retryable=err.get("type") == "overloaded_error")
            if not stopped:
                raise StreamError(f"{self.name}: the stream ended before message_stop (truncated)",
                                  provider=self.name, retryable=True)
            yield StreamChunk("usage", usage=usage)
            yield StreamChunk("stop", stop_reason=stop)
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    async def list_models(self) -> list[ModelInfo]:
        models: list[ModelInfo] = []
        after = ""
        for _ in range(100):       # pages of up to 1000; a hundred pages is far beyond any real list
            path = "/models?limit=1000" + (f"&after_id={after}" if after else "")
            data = await self._http.request_json("GET", path)
            items = [m for m in data.get("data") or [] if isinstance(m, dict) and "id" in m]
            models.extend(_model(m, self.name) for m in items)
            if not data.get("has_more") or not items:
                break
            after = str(data.get("last_id") or items[-1]["id"])
        return models

    async def get_model(self, model_id: str) -> ModelInfo:
        data = await self._http.request_json("GET", f"/models/{model_id}")
        return _model({"id": model_id, **data}, self.name)
