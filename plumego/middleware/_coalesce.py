"""Coalesce middleware: single-flight for identical concurrent GET/HEAD requests.

Owns the request key, the in-flight table (per middleware instance, one event loop) and the replay of a
leader's buffered response to its followers. Imports only the standard library and plumego.contract.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from plumego.contract import APIError, ASGIApp, ErrorCode, ErrorType, Message, Middleware, Receive, Scope, Send
from plumego.middleware._asgi import send_error

DEFAULT_COALESCE_HEADERS: Final = ("accept", "accept-encoding", "accept-language", "authorization", "cookie", "range")
"""Request headers that take part in the key by default (Go's ``DefaultKeyFunc`` set)."""

_ALWAYS_KEYED: Final = frozenset({b"host", b"authorization", b"cookie"})
# Ids that describe one request, not the resource: followers get their own from the outer middleware.
_PER_REQUEST_HEADERS: Final = frozenset({b"x-request-id", b"x-span-id"})
_SKIP_CHECKED: Final = frozenset({b"content-length", b"transfer-encoding", b"accept"})

_Key = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class _Recorded:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


class _Flight:
    """One leader's pending response; resolves to the recording, or None when followers must run themselves."""

    __slots__ = ("result",)

    def __init__(self) -> None:
        self.result: asyncio.Future[_Recorded | None] = asyncio.get_running_loop().create_future()

    def resolve(self, recorded: _Recorded | None) -> None:
        if not self.result.done():
            self.result.set_result(recorded)


def _unshareable(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        lname = bytes(name).lower()
        if lname == b"set-cookie":  # a fresh session cookie must never reach another client
            return True
        if lname == b"content-type" and bytes(value).lower().startswith(b"text/event-stream"):
            return True
    return False


def coalesce(
    *,
    methods: Iterable[str] = ("GET", "HEAD"),
    key_headers: Iterable[str] = DEFAULT_COALESCE_HEADERS,
    max_body_bytes: int = 10 * 1024 * 1024,
    wait_timeout: float | None = 30.0,
    mark_coalesced: bool = False,
) -> Middleware:
    """Run the app once for identical concurrent requests and give every waiting request a copy of the answer.

    Only ``methods`` (default GET and HEAD) without a request body are coalesced, and not requests that
    ``Accept: text/event-stream``. Key: method, scheme, ``Host``, root path, path, query string and the values
    of ``key_headers``, compared exactly (no hash, so no collisions). ``Authorization`` and ``Cookie`` are always
    part of the key: requests with different credentials never share a response.

    The first request (leader) streams to its own client as usual while its response is recorded. Followers
    (identical requests arriving while it runs) get the leader's status, headers and body as one message,
    minus ``X-Request-ID`` / ``X-Span-ID`` (the outer request-id and tracing middleware stamp their own), plus
    ``X-Coalesced: true`` with ``mark_coalesced``. Put coalesce inside request id, tracing and auth: the body
    itself is shared verbatim, so a body that embeds the leader's request id keeps it.

    When the leader cannot be shared, followers run the app themselves, each independently (an idempotent GET
    is safe to repeat, and that is exactly the load they would have caused without coalescing): the leader
    raised or was cancelled before its response completed, its body exceeded ``max_body_bytes``, it answered
    ``Set-Cookie`` or ``text/event-stream``, or sent anything but a plain start and body. Followers are released
    the moment that is known, not when the leader finishes. A follower that waits longer than
    ``wait_timeout`` seconds (None: no limit) is answered 504 ``gateway_timeout`` / code ``TIMEOUT`` /
    ``"upstream request timeout"`` (Go's answer). A leader's 5xx *response* is a complete answer and is shared.
    """
    if max_body_bytes < 0:
        raise ValueError("max_body_bytes must be >= 0")
    method_set = frozenset(method.upper() for method in methods)
    keyed = frozenset(name.lower().encode("latin-1") for name in key_headers) | _ALWAYS_KEYED

    def wrap(app: ASGIApp) -> ASGIApp:
        flights: dict[_Key, _Flight] = {}

        def request_key(scope: Scope) -> _Key | None:
            """The exact key, or None when the request must not be coalesced (it has a body or wants a stream)."""
            selected: list[tuple[bytes, bytes]] = []
            for name, value in scope.get("headers") or ():
                lname = bytes(name).lower()
                if lname in _SKIP_CHECKED:
                    if lname == b"transfer-encoding":
                        return None
                    if lname == b"content-length" and value.strip() not in (b"", b"0"):
                        return None
                    if lname == b"accept" and value.lower().startswith(b"text/event-stream"):
                        return None
                if lname in keyed:
                    selected.append((lname, bytes(value)))
            return (
                scope["method"],
                scope.get("scheme", "http"),
                scope.get("root_path", ""),
                scope.get("path", ""),
                bytes(scope.get("query_string", b"")),
                tuple(selected),
            )

        async def lead(key: _Key, flight: _Flight, scope: Scope, receive: Receive, send: Send) -> None:
            status = 0
            headers: tuple[tuple[bytes, bytes], ...] = ()
            chunks: list[bytes] = []
            size = 0
            shareable = True

            def forget() -> None:
                if flights.get(key) is flight:
                    del flights[key]

            def give_up() -> None:
                nonlocal shareable
                shareable = False
                chunks.clear()
                forget()
                flight.resolve(None)

            async def recording_send(message: Message) -> None:
                nonlocal status, headers, size
                if shareable:
                    kind = message["type"]
                    if kind == "http.response.start" and status == 0:
                        status = message["status"]
                        headers = tuple((bytes(k).lower(), bytes(v)) for k, v in message.get("headers") or ())
                        if message.get("trailers") or _unshareable(headers):
                            give_up()
                    elif kind == "http.response.body" and status != 0:
                        body = bytes(message.get("body", b""))
                        size += len(body)
                        if size > max_body_bytes:
                            give_up()
                        else:
                            chunks.append(body)
                            if not message.get("more_body", False):
                                # Complete: drop the key first so later arrivals start a fresh flight.
                                forget()
                                flight.resolve(_Recorded(status, headers, b"".join(chunks)))
                    else:
                        give_up()
                await send(message)

            try:
                await app(scope, receive, recording_send)
            finally:
                forget()
                flight.resolve(None)  # no-op after a complete response; otherwise followers run themselves

        async def follow(flight: _Flight, scope: Scope, receive: Receive, send: Send) -> None:
            try:
                async with asyncio.timeout(wait_timeout):
                    recorded = await asyncio.shield(flight.result)
            except TimeoutError:
                err = APIError(ErrorType.GATEWAY_TIMEOUT, "upstream request timeout", code=ErrorCode.TIMEOUT)
                await send_error(scope, send, err)
                return
            if recorded is None:
                await app(scope, receive, send)
                return
            headers = [line for line in recorded.headers if line[0] not in _PER_REQUEST_HEADERS]
            if mark_coalesced:
                headers.append((b"x-coalesced", b"true"))
            await send({"type": "http.response.start", "status": recorded.status, "headers": headers})
            await send({"type": "http.response.body", "body": recorded.body, "more_body": False})

        async def coalesce_app(scope: Scope, receive: Receive, send: Send) -> None:
            key = request_key(scope) if scope["type"] == "http" and scope["method"] in method_set else None
            if key is None:
                await app(scope, receive, send)
                return
            flight = flights.get(key)
            if flight is not None:
                await follow(flight, scope, receive, send)
                return
            flight = _Flight()
            flights[key] = flight
            await lead(key, flight, scope, receive, send)

        return coalesce_app

    return wrap
