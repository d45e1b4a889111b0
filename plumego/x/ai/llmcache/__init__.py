"""plumego.x.ai.llmcache (experimental): an exact-match cache of completions keyed by the SHA-256 of the
normalized request (model, system, messages, tools, sampling settings), in memory (per process, LRU with a TTL) or
Redis (shared by every worker, expiring by TTL), and ``CachingProvider`` that answers repeated requests from it.

Only deterministic requests should be cached: by default a request with a temperature above 0 is not.
Imports the standard library and x/ai; redis-py lazily (``pip install 'plumego[redis]'``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from ..provider import (CompletionRequest, CompletionResponse, ContentBlock, ModelInfo, Provider, StopReason,
                        StreamReader, ToolUse, Usage)
from ..session import message_to_dict

__all__ = ["CacheBackend", "CachingProvider", "MemoryCache", "RedisCache", "cache_key"]


def cache_key(req: CompletionRequest) -> str:
    normal = {"model": req.model, "system": req.system, "messages": [message_to_dict(m) for m in req.messages],
              "tools": [[t.name, t.description, t.input_schema] for t in req.tools],
              "tool_choice": [req.tool_choice.type, req.tool_choice.name] if req.tool_choice else None,
              "max_tokens": req.max_tokens, "temperature": req.temperature, "top_p": req.top_p, "top_k": req.top_k,
              "stop": list(req.stop_sequences)}
    return hashlib.sha256(json.dumps(normal, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _dump(resp: CompletionResponse) -> str:
    return json.dumps({"id": resp.id, "model": resp.model, "stop": str(resp.stop_reason),
                       "usage": [resp.usage.input_tokens, resp.usage.output_tokens],
                       "content": [{"type": b.type, "text": b.text,
                                    "tool_use": [b.tool_use.id, b.tool_use.name, dict(b.tool_use.input)]
                                    if b.tool_use else None} for b in resp.content]})


def _load(raw: str | bytes) -> CompletionResponse:
    d = json.loads(raw)
    blocks = tuple(ContentBlock(b["type"], text=b["text"], tool_use=ToolUse(*b["tool_use"]) if b["tool_use"] else None)
                   for b in d["content"])
    return CompletionResponse(d["id"], d["model"], blocks, StopReason(d["stop"]), Usage(*d["usage"]))


class CacheBackend(Protocol):
    name: str

    async def get(self, key: str) -> CompletionResponse | None: ...
    async def set(self, key: str, value: CompletionResponse) -> None: ...
    async def clear(self) -> None: ...
    async def aclose(self) -> None: ...


class MemoryCache:
    """Per process; least recently used entries are evicted past ``max_entries``."""

    name = "memory"

    def __init__(self, ttl: float = 3600.0, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        if ttl <= 0 or max_entries <= 0:
            raise ValueError("ttl and max_entries must be positive")
        self.ttl, self.max_entries, self._clock = ttl, max_entries, clock
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def get(self, key: str) -> CompletionResponse | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return _load(item[1])

    async def set(self, key: str, value: CompletionResponse) -> None:
        self._data[key] = (self._clock() + self.ttl, _dump(value))
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    async def clear(self) -> None:
        self._data.clear()

    async def aclose(self) -> None:
        return None


class RedisCache:
    name = "redis"

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, prefix: str = "plumego:ai:", ttl: float = 3600.0
                 ) -> None:
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:   # pragma: no cover
            raise ImportError("RedisCache needs redis-py: pip install 'plumego[redis]'") from exc
        self._redis: Any = aioredis.Redis.from_url(url)
        self.prefix, self.ttl = prefix, ttl

    async def get(self, key: str) -> CompletionResponse | None:
        raw = await self._redis.get(self.prefix + "llm:" + key)
        return _load(raw) if raw is not None else None

    async def set(self, key: str, value: CompletionResponse) -> None:
        await self._redis.set(self.prefix + "llm:" + key, _dump(value), px=int(self.ttl * 1000))

    async def clear(self) -> None:
        async for k in self._redis.scan_iter(match=self.prefix + "llm:*", count=500):
            await self._redis.delete(k)

    async def aclose(self) -> None:
        await self._redis.aclose()


class CachingProvider:
    """Wraps a provider: ``complete`` answers from the cache when it can; streams pass through uncached."""

    def __init__(self, provider: Provider, cache: CacheBackend, *, cache_sampled: bool = False) -> None:
        self.inner, self.cache, self.cache_sampled = provider, cache, cache_sampled
        self.name = provider.name
        self.hits = self.misses = 0

    def _cacheable(self, req: CompletionRequest) -> bool:
        return self.cache_sampled or not req.temperature

    async def complete(self, req: CompletionRequest) -> CompletionResponse:
        if not self._cacheable(req):
            return await self.inner.complete(req)
        key = cache_key(req)
        hit = await self.cache.get(key)
        if hit is not None:
            self.hits += 1
            return hit
        self.misses += 1
        resp = await self.inner.complete(req)
        if resp.stop_reason != StopReason.ERROR:
            await self.cache.set(key, resp)
        return resp

    async def stream(self, req: CompletionRequest) -> StreamReader:
        return await self.inner.stream(req)

    async def list_models(self) -> list[ModelInfo]:
        return await self.inner.list_models()

    async def get_model(self, model_id: str) -> ModelInfo:
        return await self.inner.get_model(model_id)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    async def aclose(self) -> None:
        await self.inner.aclose()
