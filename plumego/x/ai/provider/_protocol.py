"""The Provider protocol every client implements, and ``ScriptedProvider``: an offline provider that answers from
a script (for examples, tests of code built on providers, and demos without a network).

Imports the standard library, this package and the tokenizer.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol, runtime_checkable

from ..tokenizer import counter_for
from ._http import StreamReader
from ._types import (CompletionRequest, CompletionResponse, ContentBlock, ModelInfo, NotFoundError, StopReason,
                     StreamChunk, Usage)

__all__ = ["Provider", "ScriptedProvider"]


@runtime_checkable
class Provider(Protocol):
    name: str

    async def complete(self, req: CompletionRequest) -> CompletionResponse: ...

    async def stream(self, req: CompletionRequest) -> StreamReader:
        """Open a stream; HTTP errors before it starts raise here, later ones from iteration."""
        ...

    async def list_models(self) -> list[ModelInfo]: ...

    async def get_model(self, model_id: str) -> ModelInfo: ...

    def count_tokens(self, text: str) -> int: ...

    async def aclose(self) -> None: ...


_WORD = re.compile(r"\S+\s*|\s+")


class ScriptedProvider:
    """Answers each request with the next scripted reply (cycling), or with ``reply(request)`` when given a
    function; streams the reply word by word, ``delay`` seconds apart. Usage is counted with the heuristic."""

    def __init__(self, replies: Sequence[str] | Callable[[CompletionRequest], str] = ("Hello from plumego.",), *,
                 name: str = "scripted", models: Sequence[str] = ("scripted-1",), delay: float = 0.0) -> None:
        self.name = name
        self.delay = delay
        self._models = list(models)
        self._reply = replies if callable(replies) else self._cycle(list(replies))
        self._counter = counter_for("scripted", prefer_tiktoken=False)
        self.calls = 0

    @staticmethod
    def _cycle(replies: list[str]) -> Callable[[CompletionRequest], str]:
        if not replies:
            raise ValueError("a ScriptedProvider needs at least one reply")
        it = itertools.cycle(replies)
        return lambda req: next(it)

    def count_tokens(self, text: str) -> int:
        return self._counter.count(text)

    def _usage(self, req: CompletionRequest, text: str) -> Usage:
        prompt = req.system + "".join(m.text() for m in req.messages)
        return Usage(self.count_tokens(prompt), self.count_tokens(text))

    async def complete(self, req: CompletionRequest) -> CompletionResponse:
        self.calls += 1
        text = self._reply(req)
        return CompletionResponse(f"scripted-{self.calls}", req.model, (ContentBlock.of_text(text),),
                                  StopReason.END_TURN, self._usage(req, text))

    async def stream(self, req: CompletionRequest) -> StreamReader:
        self.calls += 1
        text = self._reply(req)

        async def chunks() -> AsyncIterator[StreamChunk]:
            for word in _WORD.findall(text):
                if self.delay:
                    await asyncio.sleep(self.delay)
                yield StreamChunk("text", text=word)
            yield StreamChunk("usage", usage=self._usage(req, text))
            yield StreamChunk("stop", stop_reason=StopReason.END_TURN)

        return StreamReader(chunks(), model=req.model)

    async def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(m, self.name, "plumego") for m in self._models]

    async def get_model(self, model_id: str) -> ModelInfo:
        if model_id not in self._models:
            raise NotFoundError(f"{self.name}: no model {model_id!r}", provider=self.name, status=404)
        return ModelInfo(model_id, self.name, "plumego")

    async def aclose(self) -> None:
        return None
