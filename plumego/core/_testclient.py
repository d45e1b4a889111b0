"""TestClient: drives any ASGI app in process, through the ASGI interface only (no server, no sockets, no mocks).

Synchronous, for plain pytest functions and doc examples: each request runs on the client's own event loop;
``with TestClient(app) as client:`` also runs the lifespan (startup, lifecycle components, shutdown). Imports
only the standard library and plumego.contract.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlencode, urlsplit

from plumego.contract import ASGIApp, Headers, Message

__all__ = ["TestClient", "TestResponse"]

T = TypeVar("T")

HeaderInput = Mapping[str, str] | Sequence[tuple[str, str]]
ParamInput = Mapping[str, str | int | float | Sequence[str | int | float]] | Sequence[tuple[str, str | int | float]]


class TestResponse:
    """A complete response: ``status_code``, ``headers`` (case-insensitive), ``content``, ``text``, ``json()``."""

    __test__ = False  # not a pytest test class

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]], content: bytes) -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.headers = Headers.from_raw(raw_headers)
        self.content = content

    @property
    def text(self) -> str:
        media = self.headers.get("content-type", "")
        charset = "utf-8"
        for part in media.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        return self.content.decode(charset, errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    def __repr__(self) -> str:
        return f"<TestResponse [{self.status_code}]>"


class TestClient:
    """Send HTTP requests to an ASGI app in process: ``client.get("/items/1").json()``.

    ``base_url`` gives the scheme and ``Host``; ``headers`` are sent with every request (a header passed to one
    request replaces the default of the same name). Outside a ``with`` block
    each request runs on a fresh event loop and the lifespan does not run; inside one, the app's lifespan
    startup runs on entering (a failed startup raises ``RuntimeError``) and shutdown on leaving, and requests
    see the lifespan state. The app's exceptions propagate (a plumego ``App`` already answers them with a 500
    envelope). Call it from synchronous code only; in ``async`` tests use ``httpx.ASGITransport``.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: ASGIApp,
        *,
        base_url: str = "http://testserver",
        headers: HeaderInput | None = None,
        client: tuple[str, int] = ("127.0.0.1", 50000),
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
        self.app = app
        self._scheme = parts.scheme
        self._host = parts.netloc
        self._server = (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        self._root = parts.path.rstrip("/")
        self._headers = _header_list(headers)
        self._client = client
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lifespan: asyncio.Task[None] | None = None
        self._lifespan_inbox: asyncio.Queue[Message] | None = None
        self._lifespan_outbox: asyncio.Queue[Message] | None = None
        self._state: dict[str, Any] = {}

    # -- lifespan --------------------------------------------------------------------------------------------------

    def __enter__(self) -> TestClient:
        if self._loop is not None:
            raise RuntimeError("TestClient is already running its lifespan")
        self._loop = asyncio.new_event_loop()
        try:
            self._run(self._startup())
        except BaseException:
            self._close_loop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._run(self._shutdown())
        finally:
            self._close_loop()

    async def _startup(self) -> None:
        self._lifespan_inbox, self._lifespan_outbox = asyncio.Queue(), asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self._state}
        self._lifespan = asyncio.get_running_loop().create_task(
            self._call_lifespan(scope, self._lifespan_inbox, self._lifespan_outbox)
        )
        await self._lifespan_inbox.put({"type": "lifespan.startup"})
        reply = await self._lifespan_outbox.get()
        if reply["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"lifespan startup failed: {reply.get('message', '')}")

    async def _call_lifespan(
        self, scope: dict[str, Any], inbox: asyncio.Queue[Message], outbox: asyncio.Queue[Message]
    ) -> None:
        try:
            await self.app(scope, inbox.get, outbox.put)
        except Exception as exc:  # an app without lifespan support: carry on without it
            await outbox.put({"type": "lifespan.unsupported", "message": repr(exc)})
        else:
            await outbox.put({"type": "lifespan.ended"})  # an app that ignores lifespan returns at once

    async def _shutdown(self) -> None:
        if self._lifespan is None or self._lifespan_inbox is None or self._lifespan_outbox is None:
            return
        if not self._lifespan.done():
            await self._lifespan_inbox.put({"type": "lifespan.shutdown"})
            reply = await self._lifespan_outbox.get()
            await self._lifespan
            if reply["type"] == "lifespan.shutdown.failed":
                raise RuntimeError(f"lifespan shutdown failed: {reply.get('message', '')}")

    def _close_loop(self) -> None:
        loop, self._loop = self._loop, None
        self._lifespan = None
        if loop is not None:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            work.close()
            raise RuntimeError(
                "TestClient is synchronous; in async code use httpx.AsyncClient(transport=httpx.ASGITransport(app))"
            )
        if self._loop is None:
            return asyncio.run(work)
        return self._loop.run_until_complete(work)

    # -- requests --------------------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: ParamInput | None = None,
        headers: HeaderInput | None = None,
        json: Any = None,
        content: bytes | str | None = None,
    ) -> TestResponse:
        """Send one request. ``json`` is encoded with ``Content-Type: application/json``; ``content`` is sent as
        is. ``path`` may carry a query string; ``params`` are appended to it."""
        if json is not None and content is not None:
            raise ValueError("pass json or content, not both")
        body = b""
        extra: list[tuple[str, str]] = []
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode("utf-8")
            extra.append(("content-type", "application/json"))
        elif content is not None:
            body = content.encode("utf-8") if isinstance(content, str) else content
        target = urlsplit(path)
        query = quote(target.query, safe="=&+%;/?:@,$!*'()~")  # non-ASCII becomes %XX, as a real client sends it
        if params:
            encoded = urlencode(list(_param_items(params)), doseq=True)
            query = f"{query}&{encoded}" if query else encoded
        call_headers = _header_list(headers)
        overridden = {name for name, _ in call_headers}  # a header given per call replaces the default one
        header_list = [("host", self._host), ("user-agent", "plumego-testclient"), *self._headers, *extra]
        header_list = [(name, value) for name, value in header_list if name not in overridden] + call_headers
        if body or method.upper() in ("POST", "PUT", "PATCH"):
            header_list.append(("content-length", str(len(body))))
        raw_path = quote(self._root + (target.path or "/"), safe="/%:@!$&'()*+,;=~")
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method.upper(),
            "scheme": self._scheme,
            "path": unquote(raw_path),
            "raw_path": raw_path.encode("ascii", "strict"),
            "root_path": "",
            "query_string": query.encode("ascii", "strict"),
            "headers": _encode_headers(header_list),
            "client": self._client,
            "server": self._server,
            "state": dict(self._state),
        }
        return self._run(self._send(scope, body))

    async def _send(self, scope: dict[str, Any], body: bytes) -> TestResponse:
        done = asyncio.Event()
        body_sent = False
        status: int | None = None
        raw_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()  # the client stays connected until the response is complete
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                if status is not None:
                    raise RuntimeError("the app sent http.response.start twice")
                status = int(message["status"])
                raw_headers.extend((bytes(k), bytes(v)) for k, v in message.get("headers", ()))
            elif kind == "http.response.body":
                if status is None:
                    raise RuntimeError("the app sent a body before http.response.start")
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    done.set()

        try:
            await self.app(scope, receive, send)
        finally:
            done.set()
        if status is None:
            raise RuntimeError("the app returned without sending a response")
        content = b"" if scope["method"] == "HEAD" else b"".join(chunks)
        return TestResponse(status, raw_headers, content)

    def get(self, path: str, **options: Any) -> TestResponse:
        return self.request("GET", path, **options)

    def head(self, path: str, **options: Any) -> TestResponse:
        return self.request("HEAD", path, **options)

    def options(self, path: str, **options: Any) -> TestResponse:
        return self.request("OPTIONS", path, **options)

    def post(self, path: str, **options: Any) -> TestResponse:
        return self.request("POST", path, **options)

    def put(self, path: str, **options: Any) -> TestResponse:
        return self.request("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> TestResponse:
        return self.request("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> TestResponse:
        return self.request("DELETE", path, **options)


def _header_list(headers: HeaderInput | None) -> list[tuple[str, str]]:
    if not headers:
        return []
    items: Iterable[tuple[str, str]] = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name).lower(), str(value)) for name, value in items]


def _encode_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def _param_items(params: ParamInput) -> Iterable[tuple[str, Any]]:
    items: Iterable[tuple[str, Any]] = params.items() if isinstance(params, Mapping) else params
    for name, value in items:
        if isinstance(value, (list, tuple)):
            for single in value:
                yield name, str(single)
        else:
            yield name, str(value)
