"""The circuit-breaker HTTP middleware: a 5xx answer counts as a failure; open answers 503 ``CIRCUIT_OPEN``,
half-open overflow answers 429 ``RATE_LIMITED`` (Go ``circuitbreaker.Middleware``), both with
``X-Circuit-Breaker-State``. Imports the standard library and plumego.contract only.
"""

from __future__ import annotations

from plumego.contract import (
    APIError,
    ASGIApp,
    ErrorCategory,
    ErrorResponse,
    Message,
    Middleware,
    Receive,
    Scope,
    Send,
)

from ._breaker import CircuitBreaker, CircuitOpenError, TooManyRequestsError

__all__ = ["circuit_breaker"]


def circuit_breaker(breaker: CircuitBreaker) -> Middleware:
    """Guard the wrapped app with ``breaker``. An exception from the app counts as a failure and propagates."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            try:
                ticket = breaker.acquire()
            except CircuitOpenError as exc:
                err = APIError(status=503, code="CIRCUIT_OPEN", category=ErrorCategory.SERVER,
                               message="Circuit breaker is open. The service is temporarily unavailable.",
                               details={"circuit": breaker.name, "state": str(exc.state)})
                await _refuse(err, str(exc.state), scope, receive, send)
                return
            except TooManyRequestsError as exc:
                err = APIError(status=429, code="RATE_LIMITED", category=ErrorCategory.RATE_LIMIT,
                               message="Circuit breaker is in half-open state. Too many concurrent requests.",
                               details={"circuit": breaker.name, "state": str(exc.state)})
                await _refuse(err, str(exc.state), scope, receive, send)
                return
            status = 0

            async def observe(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await app(scope, receive, observe)
            except BaseException:
                breaker.record(ticket, False)
                raise
            breaker.record(ticket, 0 < status < 500)

        return guarded

    return wrap


async def _refuse(err: APIError, state: str, scope: Scope, receive: Receive, send: Send) -> None:
    headers = {"X-Circuit-Breaker-State": state, "X-Content-Type-Options": "nosniff"}
    await ErrorResponse(err, headers=headers)(scope, receive, send)
