"""The with_ai service: routes and wiring. Imports plumego's stable roots and this app's adapters only."""

from __future__ import annotations

from typing import Any

from plumego.contract import APIError, ASGIApp, ErrorType, JSONResponse, Request
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id

from .adapters.chat import ChatBackend, UnknownSession, UpstreamError

MAX_MESSAGE = 32_000
_UPSTREAM = {429: ErrorType.RATE_LIMITED, 503: ErrorType.UNAVAILABLE, 504: ErrorType.GATEWAY_TIMEOUT}


def build_app(chat: ChatBackend, logger: StructuredLogger, *, host: str = "127.0.0.1", port: int = 8084) -> App:
    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))
    app.add_component("chat", chat)

    async def parse(request: Request) -> tuple[str | None, str]:
        body = await request.json()
        if not isinstance(body, dict):
            raise APIError(ErrorType.VALIDATION, 'the body must be {"message": string, "session_id"?: string}')
        message, session_id = body.get("message"), body.get("session_id")
        if not isinstance(message, str) or not message.strip():
            raise APIError(ErrorType.VALIDATION, "message must be a non-empty string", details={"field": "message"})
        if len(message) > MAX_MESSAGE:
            raise APIError(ErrorType.VALIDATION, f"message is longer than {MAX_MESSAGE} characters",
                           details={"field": "message"})
        if session_id is not None and (not isinstance(session_id, str) or not session_id.isalnum()):
            raise APIError(ErrorType.VALIDATION, "session_id must be an id returned earlier",
                           details={"field": "session_id"})
        return session_id, message

    def upstream(exc: UpstreamError) -> APIError:
        details: dict[str, Any] = {"retry_after": exc.retry_after} if exc.retry_after is not None else {}
        return APIError(_UPSTREAM.get(exc.status, ErrorType.BAD_GATEWAY), f"model provider: {exc}", details=details)

    async def chat_route(request: Request) -> ASGIApp:
        session_id, message = await parse(request)
        wants_stream = "text/event-stream" in request.headers.get("accept", "")
        try:
            if wants_stream:
                return await chat.stream_chat(session_id, message)
            return JSONResponse(await chat.chat(session_id, message))
        except UnknownSession:
            raise APIError(ErrorType.NOT_FOUND, "no such session (it may have expired)",
                           details={"field": "session_id"}) from None
        except UpstreamError as exc:
            raise upstream(exc) from None

    async def status(request: Request) -> dict[str, Any]:
        return await chat.status()

    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    app.post("/api/chat", chat_route)
    app.get("/api/ai/status", status)
    app.get("/healthz", healthz)
    return app
