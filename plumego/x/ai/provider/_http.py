"""The HTTP machinery both wire clients share: an httpx client with timeouts, retry with backoff on 429/5xx that
honours ``Retry-After`` (and ``retry-after-ms``), error bodies mapped to typed exceptions, an SSE event parser,
and the ``StreamReader`` whose close (or cancellation of the task reading it) closes the HTTP stream.

Imports the standard library and this package's types; httpx lazily (``pip install 'plumego[ai]'``).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._types import (AuthenticationError, CompletionResponse, ContentBlock, InvalidRequestError, NotFoundError,
                     ProviderError, ProviderTimeout, ProviderUnavailable, RateLimitError, StopReason, StreamChunk,
                     StreamError, ToolUse, Usage)

if TYPE_CHECKING:
    import httpx

__all__ = ["HTTPOptions", "SSEEvent", "StreamReader"]


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:   # pragma: no cover - the extra is part of dev
        raise ImportError("AI providers need httpx: pip install 'plumego[ai]'") from exc
    return httpx


@dataclass(frozen=True, slots=True)
class HTTPOptions:
    """``timeout``: seconds for a whole non-streaming call; ``connect_timeout``; ``read_timeout``: the longest
    silence allowed between two reads of a stream (a hanging provider ends in ProviderTimeout).
    ``max_retries`` on 429/5xx/connection errors with exponential backoff (``backoff_base`` doubled per attempt,
    full jitter, capped at ``backoff_max``); a ``Retry-After`` longer than ``max_retry_after`` is not waited for
    (the RateLimitError goes to the caller, who may route elsewhere)."""

    timeout: float = 60.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_retry_after: float = 60.0


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (delta-seconds or an HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def error_from_response(provider: str, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
    """Map an error answer (OpenAI ``{"error": {...}}`` or Anthropic ``{"type": "error", "error": {...}}``)."""
    message, error_type = "", ""
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        err = payload.get("error")
        if isinstance(err, dict):
            message = str(err.get("message") or "")
            error_type = str(err.get("type") or err.get("code") or "")
        elif isinstance(err, str):
            message = err
    if not message:
        message = body[:200].decode("utf-8", "replace") or f"HTTP {status}"
    text = f"{provider}: HTTP {status}: {message}"
    kw: dict[str, Any] = {"provider": provider, "status": status, "error_type": error_type}
    if status == 429:
        return RateLimitError(text, retry_after=parse_retry_after(headers), **kw)
    if status in (401, 403):
        return AuthenticationError(text, **kw)
    if status == 404:
        return NotFoundError(text, **kw)
    if status in (408,) or status >= 500:
        return ProviderUnavailable(text, **kw)
    return InvalidRequestError(text, **kw)


@dataclass(frozen=True, slots=True)
class SSEEvent:
    event: str
    data: str
    id: str = ""


async def parse_sse(lines: AsyncIterator[str]) -> AsyncIterator[SSEEvent]:
    """Server-Sent Events from decoded lines: ``event:``/``data:``/``id:`` fields, comments ignored, an event
    dispatched on a blank line (and a last one at end of stream, if complete with data)."""
    event, event_id = "", ""
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield SSEEvent(event or "message", "\n".join(data), event_id)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id":
            event_id = value
    if data:
        yield SSEEvent(event or "message", "\n".join(data), event_id)


class StreamReader:
    """An open completion stream: iterate (``async for chunk in reader``) for ``StreamChunk``s; ``response()``
    returns what was assembled so far (text, whole tool calls, usage, stop reason). Use ``async with`` (or call
    ``aclose()``): closing, or cancelling the task that reads, closes the HTTP response."""

    def __init__(self, chunks: AsyncIterator[StreamChunk], *, model: str, on_close: Callable[[], Awaitable[None]]
                 | None = None) -> None:
        self._chunks = chunks
        self._on_close = on_close
        self._closed = False
        self.id = ""
        self.model = model
        self._text: list[str] = []
        self._tools: list[ToolUse] = []
        self.usage = Usage()
        self.stop_reason: StopReason | None = None

    def __aiter__(self) -> StreamReader:
        return self

    async def __anext__(self) -> StreamChunk:
        if self._closed:
            raise StopAsyncIteration
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            await self.aclose()
            raise
        except BaseException:
            await self.aclose()
            raise
        if chunk.type == "text":
            self._text.append(chunk.text)
        elif chunk.type == "tool_use" and chunk.tool_use is not None:
            self._tools.append(chunk.tool_use)
        elif chunk.type == "usage" and chunk.usage is not None:
            self.usage = chunk.usage
        elif chunk.type == "stop" and chunk.stop_reason is not None:
            self.stop_reason = chunk.stop_reason
        return chunk

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            aclose = getattr(self._chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            if self._on_close is not None:
                await self._on_close()

    async def __aenter__(self) -> StreamReader:
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        return self._closed

    def response(self) -> CompletionResponse:
        blocks = [ContentBlock.of_text("".join(self._text))] if self._text else []
        blocks += [ContentBlock.of_tool_use(t) for t in self._tools]
        return CompletionResponse(self.id, self.model, tuple(blocks), self.stop_reason or StopReason.END_TURN,
                                  self.usage)

    async def collect(self) -> CompletionResponse:
        """Read the stream to its end and return the assembled response."""
        async with self:
            async for _ in self:
                pass
        return self.response()


class HTTPClient:
    """One provider's connection pool, auth headers and retry policy."""

    def __init__(self, provider: str, base_url: str, headers: Mapping[str, str], options: HTTPOptions,
                 client: httpx.AsyncClient | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        hx = _httpx()
        self.provider = provider
        self.options = options
        self._sleep = sleep
        self._owned = client is None
        self._client: httpx.AsyncClient = client or hx.AsyncClient(
            timeout=hx.Timeout(options.timeout, connect=options.connect_timeout),
            limits=hx.Limits(max_connections=100, max_keepalive_connections=20))
        self._base = base_url.rstrip("/")
        self._headers = dict(headers)

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()

    def _delay(self, attempt: int, err: ProviderError) -> float | None:
        """Seconds before retry ``attempt`` (1-based), or None to give up now."""
        if not err.retryable or attempt > self.options.max_retries:
            return None
        if isinstance(err, RateLimitError) and err.retry_after is not None:
            return err.retry_after if err.retry_after <= self.options.max_retry_after else None
        cap = min(self.options.backoff_max, self.options.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(cap / 2, cap)

    def _transport_error(self, exc: Exception) -> ProviderError:
        hx = _httpx()
        if isinstance(exc, hx.TimeoutException):
            return ProviderTimeout(f"{self.provider}: timed out ({type(exc).__name__})", provider=self.provider)
        return ProviderUnavailable(f"{self.provider}: {type(exc).__name__}: {exc}", provider=self.provider)

    async def _send(self, method: str, path: str, body: Any, *, stream: bool) -> httpx.Response:
        hx = _httpx()
        attempt = 0
        while True:
            attempt += 1
            timeout = hx.Timeout(self.options.timeout, connect=self.options.connect_timeout,
                                    read=self.options.read_timeout) if stream else None
            request = self._client.build_request(
                method, self._base + path, headers=self._headers,
                content=None if body is None else json.dumps(body).encode(),
                **({"timeout": timeout} if timeout is not None else {}))
            try:
                response = await self._client.send(request, stream=stream)
            except hx.HTTPError as exc:
                err = self._transport_error(exc)
            else:
                if response.status_code < 400:
                    ok: httpx.Response = response
                    return ok
                try:
                    raw = await response.aread()
                except hx.HTTPError:
                    raw = b""
                finally:
                    await response.aclose()
                err = error_from_response(self.provider, response.status_code, response.headers, raw)
            delay = self._delay(attempt, err)
            if delay is None:
                raise err
            await self._sleep(delay)

    async def request_json(self, method: str, path: str, body: Any = None) -> Any:
        response = await self._send(method, path, body, stream=False)
        try:
            return response.json()
        except ValueError:
            raise ProviderError(f"{self.provider}: the answer to {path} is not JSON", provider=self.provider,
                                status=response.status_code) from None

    async def sse(self, path: str, body: Any) -> tuple[AsyncIterator[SSEEvent], Callable[[], Awaitable[None]]]:
        """Open a streaming POST; return its SSE events and a closer. Errors before the first byte of the body
        are retried like any call; errors after it end the stream with StreamError / ProviderTimeout."""
        hx = _httpx()
        response = await self._send("POST", path, body, stream=True)
        ctype = response.headers.get("content-type", "")
        if "text/event-stream" not in ctype:
            raw = await response.aread()
            await response.aclose()
            raise StreamError(f"{self.provider}: expected text/event-stream, got {ctype or 'no content type'}: "
                              f"{raw[:200].decode('utf-8', 'replace')}", provider=self.provider)
        provider = self.provider
        transport_error = self._transport_error

        async def events() -> AsyncIterator[SSEEvent]:
            try:
                async for event in parse_sse(response.aiter_lines()):
                    yield event
            except hx.TimeoutException as exc:
                raise transport_error(exc) from None
            except hx.HTTPError as exc:
                raise StreamError(f"{provider}: stream broke: {type(exc).__name__}: {exc}",
                                  provider=provider, retryable=True) from None
            finally:
                await response.aclose()

        return events(), response.aclose


def decode_event(provider: str, data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise StreamError(f"{provider}: invalid JSON in a stream chunk: {data[:120]!r}", provider=provider) from None
