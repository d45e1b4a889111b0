"""Recovery middleware: turns an unhandled exception into the canonical 500 envelope.

Owns the last line of defence between a handler bug and the client: the exception type and stack frames are
logged server-side and never sent; the exception message (which can hold secrets) is logged only when the
development option asks for it. Imports only the standard library, plumego.contract and plumego.log.
"""

from __future__ import annotations

import time
import traceback

from plumego.contract import APIError, ASGIApp, ErrorType, Message, Middleware, Receive, Scope, Send
from plumego.contract import request_id_from_scope
from plumego.log import StructuredLogger
from plumego.middleware._asgi import go_duration, send_error


def _frames_only(exc: BaseException) -> str:
    """The traceback of ``exc`` and its cause/context chain with exception types but no messages.

    Frames carry file, line, function and source line (code, not runtime values); messages are left out
    because they are where values end up (``ValueError(f"bad password {pw}")``)."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    parts: list[str] = []
    for error, link in reversed(chain):
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(error.__traceback__))
        parts.append(f"{_type_name(error)}\n")
        if link:
            parts.append(link)
    return "".join(parts)


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def recovery(logger: StructuredLogger, *, include_message: bool = False) -> Middleware:
    """Catch exceptions escaping the inner app of an HTTP request.

    Logs ``"panic recovered"`` at ERROR with ``method, path, status=500, duration, request_id,
    panic_type, response_started, traceback``. Like Go (which logs the panic type, never its value), the
    exception message is not logged: ``traceback`` holds the stack frames and exception types of the chain
    only. ``include_message=True`` (a development option) adds ``panic_message`` and the full traceback
    with messages; messages can carry passwords, tokens or personal data, so keep it off in production.

    An :class:`~plumego.contract.APIError` is client-safe by design and answers its own envelope (not
    logged). For anything else, if no response has started, answers 500 ``internal_error`` /
    ``INTERNAL_ERROR`` / ``"internal server error"``. If the response already started, nothing sensible
    can be sent any more: the exception is re-raised so the server aborts the connection and the client
    sees a broken response instead of a silently truncated one. Cancellation is never caught.
    """
    if logger is None:
        raise ValueError("recovery middleware needs a logger")

    def wrap(app: ASGIApp) -> ASGIApp:
        async def recovery_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = False
            began = time.perf_counter()

            async def tracking_send(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                await send(message)

            try:
                await app(scope, receive, tracking_send)
            except APIError as exc:
                if started:
                    raise
                # Deliberate, client-safe errors raised by raw ASGI code answer their own envelope.
                await send_error(scope, send, exc)
            except Exception as exc:
                try:
                    fields: dict[str, object] = {
                        "method": scope.get("method", ""),
                        "path": scope.get("path", ""),
                        "status": 500,
                        "duration": go_duration(time.perf_counter() - began),
                        "request_id": request_id_from_scope(scope),
                        "panic_type": _type_name(exc),
                        "response_started": started,
                    }
                    if include_message:
                        fields["panic_message"] = str(exc)
                        fields["traceback"] = "".join(traceback.format_exception(exc))
                    else:
                        fields["traceback"] = _frames_only(exc)
                    logger.error("panic recovered", fields)
                except Exception:  # noqa: BLE001 - a broken log sink must not stop the 500
                    pass
                if started:
                    raise
                await send_error(scope, send, APIError(ErrorType.INTERNAL, "internal server error"))

        return recovery_app

    return wrap
