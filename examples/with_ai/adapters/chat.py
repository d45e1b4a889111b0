"""The app's chat backend, and its implementation on plumego.x.ai (experimental, so it stays here).

Owns ``ChatBackend`` (what the handlers need: a JSON answer, an SSE answer as an ASGI app, a status) and
``GatewayChat`` (provider manager + session manager + tool registry). Provider failures become ``UpstreamError``
with the HTTP status the app should answer. Imports plumego.x.ai only in this module.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from plumego.contract import ASGIApp
from plumego.x.ai import provider as ai
from plumego.x.ai import session, streaming, tool


class UpstreamError(Exception):
    """The model provider failed; ``status`` is what to answer (429, 502, 503 or 504)."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class UnknownSession(Exception):
    pass


class ChatBackend(Protocol):
    async def chat(self, session_id: str | None, message: str) -> dict[str, Any]: ...
    async def stream_chat(self, session_id: str | None, message: str) -> ASGIApp: ...
    async def status(self) -> dict[str, Any]: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass(frozen=True)
class ChatSettings:
    provider_url: str = ""
    api_key: str = ""
    model: str = ""
    data_dir: Path = Path(".data/with_ai")
    backend: str = ""
    scripted_delay: float = 0.02
    context_tokens: int = 4000
    max_tokens: int = 512


def _scripted_reply(req: ai.CompletionRequest) -> str:
    last = next((m.text() for m in reversed(req.messages) if m.role == ai.Role.USER), "")
    turns = sum(1 for m in req.messages if m.role == ai.Role.USER)
    return (f"You said: {last.strip()[:200]}. This is turn {turns} of our conversation, answered by the scripted "
            f"local provider: start the app with --provider-url to talk to a real model.")


def _upstream(exc: ai.ProviderError) -> UpstreamError:
    if isinstance(exc, ai.RateLimitError):
        return UpstreamError(429, str(exc), exc.retry_after)
    if isinstance(exc, ai.ProviderTimeout):
        return UpstreamError(504, str(exc))
    if isinstance(exc, ai.ProviderUnavailable):
        return UpstreamError(503, str(exc))
    return UpstreamError(502, str(exc))


class GatewayChat:
    SYSTEM = "You are a concise assistant. Use the calculator tool for arithmetic."

    def __init__(self, settings: ChatSettings) -> None:
        self.settings = settings
        if settings.provider_url:
            provider: ai.Provider = ai.OpenAIProvider(settings.api_key, base_url=settings.provider_url,
                                                      name="openai-compatible")
            self.model = settings.model or "gpt-4o-mini"
        else:
            provider = ai.ScriptedProvider(_scripted_reply, delay=settings.scripted_delay)
            self.model = settings.model or "scripted-1"
        self.providers = ai.Manager()
        self.providers.register(provider)
        self.provider = provider
        storage_url = settings.backend or f"sqlite:///{settings.data_dir / 'sessions.db'}"
        self.sessions = session.Manager(session.open_storage(storage_url),
                                        config=session.SessionConfig(ttl=24 * 3600, max_tokens=50_000))
        self.tools = tool.Registry()
        for t in tool.builtin_tools():
            self.tools.register(t)
        self.counters = {"chat": 0, "stream": 0, "stream_disconnects": 0, "upstream_errors": 0, "tool_calls": 0}
        self.started = time.time()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.providers.aclose()
        await self.sessions.storage.aclose()

    async def _prepare(self, session_id: str | None, message: str) -> tuple[str, ai.CompletionRequest]:
        if session_id:
            try:
                await self.sessions.get(session_id)
            except session.SessionNotFound:
                raise UnknownSession(session_id) from None
        else:
            session_id = (await self.sessions.create(model=self.model)).id
        await self.sessions.append_message(session_id, ai.Message(ai.Role.USER, message))
        history = await self.sessions.active_context(session_id, self.settings.context_tokens)
        return session_id, ai.CompletionRequest(self.model, history, system=self.SYSTEM,
                                                tools=self.tools.to_provider_tools(),
                                                max_tokens=self.settings.max_tokens)

    async def chat(self, session_id: str | None, message: str) -> dict[str, Any]:
        self.counters["chat"] += 1
        sid, req = await self._prepare(session_id, message)
        usage = ai.Usage()
        calls: list[dict[str, Any]] = []
        try:
            for _ in range(4):                      # at most three rounds of tool calls
                resp = await self.providers.complete(req)
                usage = usage + resp.usage
                await self.sessions.append_message(sid, resp.message())
                uses = resp.tool_uses()
                if resp.stop_reason != ai.StopReason.TOOL_USE or not uses:
                    break
                results = await self.tools.execute_all(uses)
                self.counters["tool_calls"] += len(uses)
                calls += [{"name": u.name, "input": dict(u.input), "output": r.text}
                          for u, r in zip(uses, results, strict=True)]
                await self.sessions.append_message(sid, ai.Message(ai.Role.USER, results))
                req = ai.CompletionRequest(self.model, await self.sessions.active_context(
                    sid, self.settings.context_tokens), system=self.SYSTEM, tools=req.tools,
                    max_tokens=self.settings.max_tokens)
        except ai.ProviderError as exc:
            self.counters["upstream_errors"] += 1
            raise _upstream(exc) from None
        return {"session_id": sid, "reply": resp.text(), "stop_reason": str(resp.stop_reason),
                "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
                "tool_calls": calls}

    async def stream_chat(self, session_id: str | None, message: str) -> ASGIApp:
        """Opens the upstream stream before answering, so a provider that refuses still gets a JSON error."""
        self.counters["stream"] += 1
        sid, req = await self._prepare(session_id, message)
        try:
            reader = await self.providers.stream(req)
        except ai.ProviderError as exc:
            self.counters["upstream_errors"] += 1
            raise _upstream(exc) from None
        sessions = self.sessions

        async def events() -> AsyncIterator[streaming.Event]:
            yield streaming.Event({"session_id": sid}, event="session")
            async for event in streaming.completion_events(reader):
                yield event
            await sessions.append_message(sid, reader.response().message())

        async def gone() -> None:
            self.counters["stream_disconnects"] += 1

        def error_event(exc: BaseException) -> streaming.Event:
            self.counters["upstream_errors"] += 1
            return streaming.Event({"type": type(exc).__name__, "message": str(exc)}, event="error")

        return streaming.EventStream(events(), keepalive=15.0, on_disconnect=gone, error_event=error_event)

    async def status(self) -> dict[str, Any]:
        try:
            models: list[str] | str = [m.id for m in await self.provider.list_models()]
        except ai.ProviderError as exc:
            models = f"unavailable: {exc}"
        return {"provider": self.provider.name, "provider_url": self.settings.provider_url or "(scripted, offline)",
                "model": self.model, "models": models, "session_storage": self.sessions.storage.name,
                "tools": [t.name for t in self.tools.list()], "counters": dict(self.counters),
                "uptime_seconds": round(time.time() - self.started, 1)}
