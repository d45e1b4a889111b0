"""Delivery providers of the notification service: the SMS and email protocols and the providers Go Plumego ships
(log-only, HTTP, failover, rate-limited).

Owns provider contracts and composition only; the service decides when to send. ``HTTPSMSProvider`` and
``HTTPEmailProvider`` POST JSON to a gateway with a bearer API key (httpx, ``pip install 'plumego[webhook]'``,
imported when one is created). ``RateLimited`` is a token bucket per process: with several workers, give each
its share of the provider's limit. Imports the standard library and plumego.log.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from plumego.log import DiscardLogger, StructuredLogger

__all__ = ["EmailMessage", "EmailProvider", "Failover", "HTTPEmailProvider", "HTTPSMSProvider", "LogEmail",
           "LogSMS", "ProviderError", "RateLimited", "SMSMessage", "SMSProvider"]


class ProviderError(Exception):
    """A provider did not accept the message. ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class SMSMessage:
    to: str
    body: str
    message_id: str


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    body: str
    html: str
    message_id: str


@runtime_checkable
class SMSProvider(Protocol):
    name: str

    async def send_sms(self, message: SMSMessage) -> str:
        """Deliver; return the provider's id for the message. Raise ProviderError."""
        ...


@runtime_checkable
class EmailProvider(Protocol):
    name: str

    async def send_email(self, message: EmailMessage) -> str: ...


class LogSMS:
    """Writes each SMS to the log instead of sending it (development, tests)."""

    def __init__(self, logger: StructuredLogger | None = None, name: str = "log-sms") -> None:
        self.name = name
        self._log = logger or DiscardLogger()
        self.sent: list[SMSMessage] = []

    async def send_sms(self, message: SMSMessage) -> str:
        self.sent.append(message)
        self._log.info("sms (not sent: log provider)", {"to": message.to, "message_id": message.message_id})
        return f"log-{uuid.uuid4().hex[:12]}"


class LogEmail:
    def __init__(self, logger: StructuredLogger | None = None, name: str = "log-email") -> None:
        self.name = name
        self._log = logger or DiscardLogger()
        self.sent: list[EmailMessage] = []

    async def send_email(self, message: EmailMessage) -> str:
        self.sent.append(message)
        self._log.info("email (not sent: log provider)", {"to": message.to, "message_id": message.message_id})
        return f"log-{uuid.uuid4().hex[:12]}"


class _HTTPProvider:
    def __init__(self, base_url: str, api_key: str, *, name: str, timeout: float = 10.0,
                 transport: Any = None) -> None:
        try:
            import httpx
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError("HTTP providers need httpx: pip install 'plumego[webhook]'") from exc
        self.name = name
        self._httpx = httpx
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                         headers={"Authorization": f"Bearer {api_key}"}, trust_env=False)

    async def _post(self, path: str, body: dict[str, Any]) -> str:
        try:
            response = await self._client.post(path, json=body)
        except self._httpx.HTTPError as exc:
            raise ProviderError(f"{self.name}: {type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise ProviderError(f"{self.name}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise ProviderError(f"{self.name}: HTTP {response.status_code}", retryable=False)
        try:
            return str(response.json().get("id", ""))
        except ValueError:
            return ""

    async def close(self) -> None:
        await self._client.aclose()


class HTTPSMSProvider(_HTTPProvider):
    """POST ``{base_url}/sms`` ``{"to", "body", "message_id"}``; the response's ``id`` is the provider id.
    408, 429 and 5xx are retryable; other 4xx are not."""

    def __init__(self, base_url: str, api_key: str, *, name: str = "http-sms", **kw: Any) -> None:
        super().__init__(base_url, api_key, name=name, **kw)

    async def send_sms(self, message: SMSMessage) -> str:
        return await self._post("/sms", {"to": message.to, "body": message.body, "message_id": message.message_id})


class HTTPEmailProvider(_HTTPProvider):
    """POST ``{base_url}/email`` ``{"to", "subject", "body", "html", "message_id"}``."""

    def __init__(self, base_url: str, api_key: str, *, name: str = "http-email", **kw: Any) -> None:
        super().__init__(base_url, api_key, name=name, **kw)

    async def send_email(self, message: EmailMessage) -> str:
        return await self._post("/email", {"to": message.to, "subject": message.subject, "body": message.body,
                                           "html": message.html, "message_id": message.message_id})


class Failover:
    """Tries its providers in order until one accepts (Go's FailoverSMS / FailoverEmail); the error of the last
    one when none does. Works for SMS and email providers alike."""

    def __init__(self, providers: Sequence[Any], name: str = "failover") -> None:
        if not providers:
            raise ValueError("failover needs at least one provider")
        self.providers = list(providers)
        self.name = name

    async def send_sms(self, message: SMSMessage) -> str:
        return await self._each(lambda p: p.send_sms(message))

    async def send_email(self, message: EmailMessage) -> str:
        return await self._each(lambda p: p.send_email(message))

    async def _each(self, call: Any) -> str:
        errors: list[str] = []
        retryable = False
        for provider in self.providers:
            try:
                return str(await call(provider))
            except ProviderError as exc:
                errors.append(str(exc))
                retryable |= exc.retryable
        raise ProviderError("; ".join(errors), retryable=retryable)


class RateLimited:
    """A token bucket in front of a provider (Go's RateLimited*Provider): waits for a token, at most
    ``max_wait`` seconds, then fails with a retryable ProviderError."""

    def __init__(self, provider: Any, *, rate: float, burst: int = 1, max_wait: float = 5.0) -> None:
        if rate <= 0 or burst < 1 or max_wait < 0:
            raise ValueError("rate must be > 0, burst >= 1, max_wait >= 0")
        self.provider = provider
        self.name = f"rate-limited({getattr(provider, 'name', 'provider')})"
        self.rate, self.burst, self.max_wait = rate, burst, max_wait
        self._tokens = float(burst)
        self._at = time.monotonic()
        self._lock = asyncio.Lock()

    async def _take(self) -> None:
        async with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                wait = (1 - self._tokens) / self.rate
                if wait > self.max_wait:
                    raise ProviderError(f"{self.name}: rate limit")
                await asyncio.sleep(wait)
                self._tokens, self._at = 1.0, time.monotonic()
            self._tokens -= 1

    async def send_sms(self, message: SMSMessage) -> str:
        await self._take()
        return str(await self.provider.send_sms(message))

    async def send_email(self, message: EmailMessage) -> str:
        await self._take()
        return str(await self.provider.send_email(message))
