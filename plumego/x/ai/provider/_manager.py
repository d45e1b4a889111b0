"""The provider manager and its routers: default, fallback, load-balanced (round robin), cost-optimized and
task-based. A router orders the candidate providers for a request; the manager tries them in that order, moving
on only after a retryable failure (429, 5xx, timeout, broken connection) — a bad request fails at once.
A stream falls back only until it has started; after the first chunk a failure is the caller's.

Imports the standard library and this package.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from ._http import StreamReader
from ._protocol import Provider
from ._types import CompletionRequest, CompletionResponse, ModelInfo, ProviderError

__all__ = ["CostOptimizedRouter", "DefaultRouter", "FallbackRouter", "LoadBalancedRouter", "Manager", "Router",
           "TaskBasedRouter", "classify_task"]


class Router(Protocol):
    def route(self, req: CompletionRequest, providers: Mapping[str, Provider]) -> list[str]:
        """Names of the providers to try, in order."""
        ...


class DefaultRouter:
    """The named provider (or the first registered one)."""

    def __init__(self, name: str = "") -> None:
        self.name = name

    def route(self, req: CompletionRequest, providers: Mapping[str, Provider]) -> list[str]:
        if self.name:
            return [self.name]
        return list(providers)[:1]


class FallbackRouter:
    def __init__(self, primary: str, *fallbacks: str) -> None:
        self.order = [primary, *fallbacks]

    def route(self, req: CompletionRequest, providers: Mapping[str, Provider]) -> list[str]:
        return list(self.order)


class LoadBalancedRouter:
    """Round robin over the providers (all, or ``names``); the others follow as fallbacks."""

    def __init__(self, names: Sequence[str] = ()) -> None:
        self.names = list(names)
        self._counter = itertools.count()

    def route(self, req: CompletionRequest, providers: Mapping[str, Provider]) -> list[str]:
        names = self.names or list(providers)
        if not names:
            return []
        start = next(self._counter) % len(names)
        return names[start:] + names[:start]


class CostOptimizedRouter:
    """Cheapest first by price per million tokens (``prices[name] = (input, output)``); unpriced last."""

    def __init__(self, prices: Mapping[str, tuple[float, float]]) -> None:
        self.prices = dict(prices)

    def estimate(self, name: str, input_tokens: int, output_tokens: int) -> float:
        price_in, price_out = self.prices[name]
        return (input_tokens * price_in + output_tokens * price_out) / 1_000_000

    def route(self, req: CompletionRequest, providers: Mapping[str, Provider]) -> list[str]:
        def cost(name: str) -> float:
            return self.estimate(name, 1000, req.max_tokens) if name in self.prices else float("inf")
        return sorted(providers, key=cost)


_TASK_WORDS = {
    "coding": r"\b(code|function|bug|compile|python|javascript|golang|sql|regex|stack ?trace|refactor)\b",
    "translation": r"\b(translate|translation|in (french|german|spanish|chinese|japanese|english))\b",
    "summarization": r"\b(summari[sz]e|summary|tl;?dr|key points)\b",
    "analysis": r"\b(analy[sz]e|analysis|compare|evaluate|trend|why)\b",
}


def classify_task(req: CompletionRequest) -> str:
    """``metadata["task"]`` when set, else a keyword guess over the last user message: coding, translation,
    summarization, analysis or conversation."""
    if req.metadata.get("task"):
        return req.metadata["task"]
    last = next((m.text() for m in reversed(req.messages) if str(m.role) == "user"), "").lower()
    for task, pattern in _TASK_WORDS.items():
        if re.search(pattern, last):
            return task
    return "conversation"


class TaskBasedRouter:
    def __init__(self, routes: Mapping[str, str], default: str = "") -> None:
        self.routes = dict(routes)
        self.default = default

    def route(self, req: CompletionRequest, providers: Mapping[str, Provider]) -> list[str]:
        name = self.routes.get(classify_task(req)) or self.default or next(iter(providers), "")
        return [name] + [n for n in providers if n != name] if name else []


class Manager:
    """Registered providers and a router. ``complete``/``stream`` try the routed candidates in order."""

    def __init__(self, router: Router | None = None) -> None:
        self.router: Router = router or DefaultRouter()
        self._providers: dict[str, Provider] = {}

    def register(self, provider: Provider) -> None:
        if not provider.name:
            raise ValueError("a provider needs a name")
        if provider.name in self._providers:
            raise ValueError(f"provider {provider.name!r} is already registered")
        self._providers[provider.name] = provider

    def get(self, name: str) -> Provider:
        try:
            return self._providers[name]
        except KeyError:
            raise KeyError(f"no provider named {name!r}") from None

    @property
    def providers(self) -> dict[str, Provider]:
        return dict(self._providers)

    def route(self, req: CompletionRequest) -> list[Provider]:
        names = self.router.route(req, self._providers)
        unknown = [n for n in names if n not in self._providers]
        if unknown:
            raise KeyError(f"the router chose unregistered providers: {unknown}")
        if not names:
            raise ProviderError("no provider is registered")
        return [self._providers[n] for n in names]

    async def complete(self, req: CompletionRequest) -> CompletionResponse:
        last: ProviderError | None = None
        for provider in self.route(req):
            try:
                return await provider.complete(req)
            except ProviderError as exc:
                if not exc.retryable:
                    raise
                last = exc
        assert last is not None
        raise last

    async def stream(self, req: CompletionRequest) -> StreamReader:
        last: ProviderError | None = None
        for provider in self.route(req):
            try:
                return await provider.stream(req)
            except ProviderError as exc:
                if not exc.retryable:
                    raise
                last = exc
        assert last is not None
        raise last

    async def list_models(self) -> list[ModelInfo]:
        models: list[ModelInfo] = []
        for provider in self._providers.values():
            models.extend(await provider.list_models())
        return models

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()
