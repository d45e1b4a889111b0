"""The proxy's upstream HTTP clients: one connection pool per backend behind a small internal interface, so the
proxy code does not depend on the client library.

Owns :class:`Upstream`, :class:`UpstreamResponse`, :class:`UpstreamError` / :class:`UpstreamTimeout` and the two
implementations: :class:`AiohttpUpstream` (the default: aiohttp's ``TCPConnector`` keep-alive pool and its C
HTTP parser) and :class:`HttpxUpstream` (httpx transports, i.e. httpcore pools; needed for HTTP/2 backends).
Measured per proxied request, in one process, 32 requests in flight (bench/RESULTS-gateway.md): aiohttp ~0.1 ms
of CPU for the client round trip, httpx/httpcore ~0.7 ms (h11 in pure Python, anyio, and httpcore polling every
idle connection of its pool on each request). Both libraries are imported lazily, each naming the extra.
Imports the standard library, aiohttp or httpx.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Literal, Protocol

__all__ = ["SHARD_SIZE", "AiohttpUpstream", "HttpxUpstream", "Upstream", "UpstreamError", "UpstreamKind",
           "UpstreamResponse", "UpstreamTimeout", "new_upstream"]

UpstreamKind = Literal["aiohttp", "httpx"]

SHARD_SIZE = 8
"""Connections per httpx transport (see :class:`HttpxUpstream`)."""


class UpstreamError(Exception):
    """The backend could not be reached, or broke off: a transport error (502 before the response started)."""


class UpstreamTimeout(UpstreamError):
    """Connecting, waiting for the response or for a read of its body took longer than allowed (504)."""


class UpstreamResponse(Protocol):
    status: int
    raw_headers: Sequence[tuple[bytes, bytes]]

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, transfer-decoded but never content-decoded. Raises :class:`UpstreamError`."""
        ...

    async def aclose(self) -> None: ...


class Upstream(Protocol):
    """One backend's connection pool. ``send`` returns once the response headers arrived; the body streams after.
    ``headers`` go out as given (no client default headers, no cookies); redirects are never followed."""

    async def send(self, method: str, url: str, headers: list[tuple[str, str]],
                   body: AsyncIterator[bytes] | None) -> UpstreamResponse: ...

    async def probe(self, url: str, timeout: float) -> int:
        """GET ``url`` and return the status (health checks). Raises :class:`UpstreamError`."""
        ...

    async def aclose(self) -> None: ...


def new_upstream(kind: UpstreamKind, *, timeout: float, limits: Any) -> Upstream:
    """The pool of one backend; ``limits`` is a :class:`PoolLimits`."""
    if kind == "aiohttp":
        if limits.http2:
            raise ValueError("HTTP/2 to backends needs upstream='httpx' (aiohttp speaks HTTP/1.1)")
        return AiohttpUpstream(timeout=timeout, limits=limits)
    if kind == "httpx":
        return HttpxUpstream(timeout=timeout, limits=limits)
    raise ValueError(f"upstream must be 'aiohttp' or 'httpx', got {kind!r}")


# --- aiohttp ------------------------------------------------------------------------------------------------------
_AIOHTTP: Any = None


def _aiohttp() -> Any:
    global _AIOHTTP
    if _AIOHTTP is None:
        try:
            import aiohttp
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError("the gateway's default upstream needs aiohttp: pip install 'plumego[gateway]'") from exc
        _AIOHTTP = aiohttp
    return _AIOHTTP


class _AiohttpResponse:
    __slots__ = ("_response", "raw_headers", "status")

    def __init__(self, response: Any) -> None:
        self._response = response
        self.status: int = response.status
        self.raw_headers: Sequence[tuple[bytes, bytes]] = response.raw_headers

    async def chunks(self) -> AsyncIterator[bytes]:
        aiohttp = _AIOHTTP
        content = self._response.content
        try:
            while True:
                chunk = await content.readany()
                if not chunk:
                    return
                yield chunk
        except (aiohttp.ServerTimeoutError, asyncio.TimeoutError) as exc:
            raise UpstreamTimeout(str(exc) or "timed out reading the backend's body") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise UpstreamError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        if self._response.content.at_eof():
            self._response.release()     # fully read: the connection goes back to the pool
        else:
            self._response.close()       # cut short (client gone, backend broke off): never reuse it


class AiohttpUpstream:
    """aiohttp's ``ClientSession`` on a ``TCPConnector`` of ``max_connections`` keep-alive connections. No
    default headers (``User-Agent``, ``Accept``, ``Accept-Encoding``, ``Content-Type`` are never added), no
    cookie jar, no decompression, no redirects. The session is created on first use, inside the running loop.
    ``max_keepalive`` has no aiohttp equivalent: idle connections are capped by ``max_connections`` and closed
    after ``keepalive_expiry``."""

    _SKIP = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")

    def __init__(self, *, timeout: float, limits: Any) -> None:
        self._limits = limits
        self._timeout = timeout
        self._session: Any = None
        self._closed = False
        aiohttp = _aiohttp()
        from yarl import URL  # aiohttp's URL type: the path goes out exactly as the client sent it

        self._url = URL
        self._timeouts = (aiohttp.ServerTimeoutError, aiohttp.ConnectionTimeoutError, asyncio.TimeoutError)
        self._errors = (aiohttp.ClientError, OSError)

    def _ssl(self) -> Any:
        verify = self._limits.verify
        if isinstance(verify, ssl.SSLContext):
            return verify
        if isinstance(verify, str):
            return ssl.create_default_context(cafile=verify)
        return True if verify else False

    def _new_session(self) -> Any:
        aiohttp = _aiohttp()
        connector = aiohttp.TCPConnector(limit=self._limits.max_connections, limit_per_host=0,
                                         keepalive_timeout=self._limits.keepalive_expiry, ssl=self._ssl())
        # connect: waiting for a pool slot and connecting; sock_read: the response headers and each body read
        # (httpx's read timeout, Go's ResponseHeaderTimeout).
        timeout = aiohttp.ClientTimeout(total=None, connect=self._timeout,
                                        sock_connect=min(self._timeout, self._limits.connect_timeout),
                                        sock_read=self._timeout)
        return aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(),
                                     auto_decompress=False, skip_auto_headers=self._SKIP, trust_env=False,
                                     raise_for_status=False)

    def _get_session(self) -> Any:
        if self._session is None:
            if self._closed:
                raise UpstreamError("the backend's pool is closed")
            self._session = self._new_session()
        return self._session

    async def send(self, method: str, url: str, headers: list[tuple[str, str]],
                   body: AsyncIterator[bytes] | None) -> UpstreamResponse:
        session = self._session or self._get_session()
        try:
            response = await session.request(method, self._url(url, encoded=True), headers=headers, data=body,
                                             allow_redirects=False)
        except self._timeouts as exc:
            raise UpstreamTimeout(str(exc) or "timed out waiting for the backend") from exc
        except self._errors as exc:
            raise UpstreamError(str(exc) or type(exc).__name__) from exc
        return _AiohttpResponse(response)

    async def probe(self, url: str, timeout: float) -> int:
        aiohttp = _aiohttp()
        try:
            async with self._get_session().get(url, allow_redirects=False,
                                               timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                await response.read()
                return int(response.status)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise UpstreamError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


# --- httpx --------------------------------------------------------------------------------------------------------
def _httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("upstream='httpx' needs httpx: pip install 'plumego[gateway]'") from exc
    return httpx


class _HttpxResponse:
    __slots__ = ("_on_close", "_response", "raw_headers", "status")

    def __init__(self, response: Any, on_close: Callable[[], None]) -> None:
        self._response = response
        self._on_close: Callable[[], None] | None = on_close
        self.status: int = response.status_code
        self.raw_headers: Sequence[tuple[bytes, bytes]] = response.headers.raw

    async def chunks(self) -> AsyncIterator[bytes]:
        httpx = _httpx()
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(str(exc) or "timed out reading the backend's body") from exc
        except httpx.TransportError as exc:
            raise UpstreamError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        try:
            await self._response.aclose()
        finally:
            release = self._on_close
            if release is not None:      # the shard is leased until the response is closed
                self._on_close = None
                release()


class HttpxUpstream:
    """httpx transports (httpcore pools) sent on directly: the client layer above them adds default headers, a
    cookie jar, auth and redirect handling a proxy must not have. The pool is sharded: httpcore polls every idle
    connection of a pool on each request, so one pool of 32 connections costs 2.2 ms of CPU per request where
    pools of 8 cost 0.7 ms. A shard is added when every shard has SHARD_SIZE requests in flight, up to
    ``max_connections`` in all. Supports ``PoolLimits.http2``."""

    def __init__(self, *, timeout: float, limits: Any) -> None:
        httpx = _httpx()
        self._limits = limits
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, limits.connect_timeout)).as_dict()
        self._max_shards = max(1, -(-limits.max_connections // SHARD_SIZE))
        self._shards: list[Any] = [self._new_shard()]
        self._inflight: list[int] = [0]

    def _new_shard(self) -> Any:
        httpx = _httpx()
        size = min(SHARD_SIZE, self._limits.max_connections)
        return httpx.AsyncHTTPTransport(
            verify=self._limits.verify, http2=self._limits.http2, trust_env=False,
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=min(size, self._limits.max_keepalive),
                                keepalive_expiry=self._limits.keepalive_expiry))

    def _lease(self) -> int:
        index = min(range(len(self._shards)), key=self._inflight.__getitem__)
        if self._inflight[index] >= SHARD_SIZE and len(self._shards) < self._max_shards:
            self._shards.append(self._new_shard())
            self._inflight.append(0)
            index = len(self._shards) - 1
        self._inflight[index] += 1
        return index

    async def _send(self, request: Any) -> _HttpxResponse:
        httpx = _httpx()
        shard = self._lease()
        inflight = self._inflight

        def release() -> None:
            inflight[shard] -= 1

        try:
            response = await self._shards[shard].handle_async_request(request)
        except httpx.TimeoutException as exc:
            release()
            raise UpstreamTimeout(str(exc) or "timed out waiting for the backend") from exc
        except httpx.TransportError as exc:
            release()
            raise UpstreamError(str(exc) or type(exc).__name__) from exc
        except BaseException:
            release()
            raise
        return _HttpxResponse(response, release)

    async def send(self, method: str, url: str, headers: list[tuple[str, str]],
                   body: AsyncIterator[bytes] | None) -> UpstreamResponse:
        httpx = _httpx()
        request = httpx.Request(method, url, headers=headers, content=body, extensions={"timeout": self._timeout})
        return await self._send(request)

    async def probe(self, url: str, timeout: float) -> int:
        httpx = _httpx()
        request = httpx.Request("GET", url, extensions={"timeout": httpx.Timeout(timeout).as_dict()})
        response = await self._send(request)
        try:
            async for _ in response.chunks():
                pass
        finally:
            await response.aclose()
        return response.status

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()
