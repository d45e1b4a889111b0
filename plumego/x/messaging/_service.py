"""The notification service (Go's messaging ``Service``, beta): SMS and email sends that are validated, rendered,
deduplicated, prioritised, optionally scheduled, queued durably and delivered by providers, with a receipt each.

Owns the send path and the delivery handler. Sends go through the durable task queue (``x/messaging/mq``): a send
that returned is delivered even if the process dies, by whichever worker is free; retries follow Go's policy
(``max_retries``, exponential back-off), and a message past its ``ttl`` is never sent. Imports the standard
library, plumego.log and the x/messaging packages; never plumego.core.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from plumego.log import DiscardLogger, StructuredLogger

from .mq import DuplicateTaskError, RetryLater, Task, TaskQueue, TaskStatus, Worker
from .pubsub import InProcBroker
from ._metrics import MessagingMetrics, NoMetrics
from ._monitor import ChannelMonitor
from ._notifier import RESULT_TOPIC
from ._providers import EmailMessage, EmailProvider, ProviderError, SMSMessage, SMSProvider
from ._quota import QuotaChecker
from ._receipts import Receipt, ReceiptStatus, SQLiteReceiptStore
from ._templates import TemplateError, render

__all__ = ["MessagingError", "NotificationService", "PRIORITIES", "SendRequest"]

PRIORITIES = {"low": 10, "normal": 20, "high": 30, "critical": 40}       # Go's 10/20/30/40
_TOPICS = {"sms": "messaging.sms", "email": "messaging.email"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9]{6,15}")


class MessagingError(Exception):
    """A send refused with one of Go's codes: PROVIDER_ERROR, QUOTA_EXCEEDED, DUPLICATE_MESSAGE, TASK_EXPIRED,
    SEND_ERROR, EMPTY_BATCH, STATS_ERROR (and VALIDATION_ERROR for a malformed request)."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class SendRequest:
    """Go's ``SendRequest``. ``template`` + ``params`` render the body (``{{key}}``) when ``body`` is empty;
    ``scheduled_at`` (Unix seconds) delays the send; ``ttl`` (seconds) drops it if not sent in time."""

    channel: str
    to: str
    body: str = ""
    subject: str = ""
    html: str = ""
    template: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    priority: int = PRIORITIES["normal"]
    scheduled_at: float | None = None
    dedupe_key: str | None = None
    max_retries: int = 3
    tenant_id: str = ""
    ttl: float | None = None
    id: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> SendRequest:
        if not isinstance(data, dict):
            raise MessagingError("VALIDATION_ERROR", "a message must be a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise MessagingError("VALIDATION_ERROR", "unknown fields", fields=sorted(unknown))
        priority = data.get("priority", "normal")
        if isinstance(priority, str):
            if priority not in PRIORITIES:
                raise MessagingError("VALIDATION_ERROR", "priority must be low, normal, high or critical")
            data = {**data, "priority": PRIORITIES[priority]}
        try:
            return cls(**data)
        except TypeError as exc:
            raise MessagingError("VALIDATION_ERROR", str(exc)) from None


class NotificationService:
    """Go's ``Service``. Optional parts, as in Go's ``Config``: ``quota`` (per tenant / per recipient limits;
    QUOTA_EXCEEDED), ``monitor`` (channel health from delivery outcomes and probes), ``metrics`` (hooks, e.g.
    :class:`CollectorMetrics`), ``bus`` (each final outcome is published on ``messaging.result``, which
    :class:`WebhookNotifier` turns into webhook events)."""

    def __init__(self, queue: TaskQueue, receipts: SQLiteReceiptStore, *, sms: SMSProvider | None = None,
                 email: EmailProvider | None = None, logger: StructuredLogger | None = None,
                 backoff_base: float = 1.0, backoff_max: float = 300.0, quota: QuotaChecker | None = None,
                 monitor: ChannelMonitor | None = None, metrics: MessagingMetrics | None = None,
                 bus: InProcBroker | None = None) -> None:
        if sms is None and email is None:
            raise ValueError("the notification service needs an SMS or an email provider")
        self.queue = queue
        self.receipts = receipts
        self.sms = sms
        self.email = email
        self._log = logger or DiscardLogger()
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.quota = quota
        self.monitor = monitor
        self.metrics: MessagingMetrics = metrics or NoMetrics()
        self.bus = bus
        if monitor is not None:
            monitor.watch({c: self.sms if c == "sms" else self.email for c in self.channels()})

    def channels(self) -> dict[str, str]:
        """Configured channels and the provider behind each."""
        out = {}
        if self.sms is not None:
            out["sms"] = self.sms.name
        if self.email is not None:
            out["email"] = self.email.name
        return out

    def register(self, worker: Worker) -> None:
        """Let ``worker`` (on the same queue) deliver the messages."""
        for channel in self.channels():
            worker.register(_TOPICS[channel], self.handle)

    # -- sending --------------------------------------------------------------------------------------------------

    async def send(self, request: SendRequest) -> Receipt:
        """Validate, check the quotas, render and queue one message; returns its receipt (status ``queued``)."""
        try:
            receipt = await self._send(request)
        except MessagingError as exc:
            self.metrics.refused(str(request.channel), exc.code)
            raise
        self.metrics.queued(request.channel, request.tenant_id)
        return receipt

    async def _send(self, request: SendRequest) -> Receipt:
        body = self._validate(request)
        if self.quota is not None:
            exceeded = await self.quota.check(tenant_id=request.tenant_id, to=request.to, channel=request.channel)
            if exceeded is not None:
                self.metrics.quota_exceeded(request.channel, exceeded.limit.scope)
                raise MessagingError("QUOTA_EXCEEDED", f"the {exceeded.limit.scope} quota of {exceeded.limit.limit}"
                                     f" messages per {exceeded.limit.window} is used up", **exceeded.to_json())
        try:
            return await self._enqueue(request, body)
        except MessagingError:
            if self.quota is not None:        # refused after the quota was taken: give it back
                await self.quota.refund(tenant_id=request.tenant_id, to=request.to, channel=request.channel)
            raise

    async def _enqueue(self, request: SendRequest, body: str) -> Receipt:
        message_id = request.id or uuid.uuid4().hex
        now = time.time()
        payload = json.dumps({"id": message_id, "to": request.to, "subject": request.subject, "body": body,
                              "html": request.html, "max_retries": request.max_retries}).encode()
        try:
            task = await self.queue.enqueue(
                _TOPICS[request.channel], payload, dedupe_key=None if request.dedupe_key is None
                else f"message:{request.dedupe_key}", available_at=request.scheduled_at,
                expires_at=None if request.ttl is None else (request.scheduled_at or now) + request.ttl,
                priority=request.priority, max_attempts=request.max_retries + 1, tenant_id=request.tenant_id)
        except DuplicateTaskError as exc:
            raise MessagingError("DUPLICATE_MESSAGE", "a message with this dedupe key was accepted already",
                                 task_id=exc.task_id) from None
        except ValueError as exc:
            raise MessagingError("VALIDATION_ERROR", str(exc)) from None
        receipt = Receipt(message_id, request.channel, request.to, ReceiptStatus.QUEUED, request.priority,
                          request.tenant_id, task.id, "", "", 0, "", now, now)
        await self.receipts.add(receipt)
        return receipt

    async def send_batch(self, requests: Sequence[SendRequest]) -> list[Receipt | MessagingError]:
        """Each message on its own: a bad one does not stop the others."""
        if not requests:
            raise MessagingError("EMPTY_BATCH", "the batch has no messages")
        out: list[Receipt | MessagingError] = []
        for request in requests:
            try:
                out.append(await self.send(request))
            except MessagingError as exc:
                out.append(exc)
        return out

    def _validate(self, request: SendRequest) -> str:
        if request.channel not in _TOPICS:
            raise MessagingError("VALIDATION_ERROR", "channel must be sms or email")
        if request.channel not in self.channels():
            raise MessagingError("SEND_ERROR", f"no {request.channel} provider is configured")
        pattern = _PHONE if request.channel == "sms" else _EMAIL
        if not isinstance(request.to, str) or not pattern.fullmatch(request.to):
            raise MessagingError("VALIDATION_ERROR", f"to is not a valid {request.channel} address")
        if request.channel == "email" and not request.subject and not request.template:
            raise MessagingError("VALIDATION_ERROR", "an email needs a subject")
        if not 0 <= request.max_retries <= 20 or (request.ttl is not None and request.ttl <= 0):
            raise MessagingError("VALIDATION_ERROR", "max_retries must be 0-20 and ttl positive")
        if request.priority not in PRIORITIES.values():
            raise MessagingError("VALIDATION_ERROR", "priority must be 10, 20, 30 or 40")
        body = request.body
        if not body:
            if not request.template:
                raise MessagingError("VALIDATION_ERROR", "a message needs a body or a template")
            try:
                body = render(request.template, request.params)
            except TemplateError as exc:
                raise MessagingError("VALIDATION_ERROR", str(exc)) from None
        if len(body) > (1600 if request.channel == "sms" else 1 << 20):
            raise MessagingError("VALIDATION_ERROR", "the body is too long")
        return body

    # -- delivery -------------------------------------------------------------------------------------------------

    async def handle(self, task: Task) -> None:
        """Deliver one message (the queue handler): sent, retried with back-off, or failed/dead."""
        data = json.loads(task.payload)
        channel = "sms" if task.topic == _TOPICS["sms"] else "email"
        provider: Any = self.sms if channel == "sms" else self.email
        if provider is None:
            await self.receipts.update(data["id"], ReceiptStatus.FAILED, attempts=task.attempts,
                                       error=f"SEND_ERROR: no {channel} provider")
            return
        started = time.perf_counter()
        try:
            if channel == "sms":
                provider_id = await provider.send_sms(SMSMessage(data["to"], data["body"], data["id"]))
            else:
                provider_id = await provider.send_email(EmailMessage(data["to"], data["subject"], data["body"],
                                                                     data["html"], data["id"]))
        except ProviderError as exc:
            last = task.attempts >= task.max_attempts
            final = not exc.retryable or last
            self.metrics.failed(channel, provider.name, "PROVIDER_ERROR", final)
            if self.monitor is not None:
                self.monitor.record(channel, False, str(exc)[:300])
            if final:
                status = ReceiptStatus.DEAD if exc.retryable else ReceiptStatus.FAILED
                await self.receipts.update(data["id"], status, attempts=task.attempts, provider=provider.name,
                                           error=f"PROVIDER_ERROR: {exc}")
                await self._publish_result(data["id"])
                return
            await self.receipts.update(data["id"], ReceiptStatus.QUEUED, attempts=task.attempts,
                                       provider=provider.name, error=f"PROVIDER_ERROR: {exc}")
            raise RetryLater(min(self.backoff_max, self.backoff_base * 2 ** (task.attempts - 1)), str(exc)) from None
        self.metrics.sent(channel, provider.name, time.perf_counter() - started)
        if self.monitor is not None:
            self.monitor.record(channel, True)
        await self.receipts.update(data["id"], ReceiptStatus.SENT, attempts=task.attempts, provider=provider.name,
                                   provider_id=provider_id)
        await self._publish_result(data["id"])

    async def _publish_result(self, message_id: str) -> None:
        """A final outcome on the bus (``messaging.result``), for :class:`WebhookNotifier` and other listeners."""
        if self.bus is None:
            return
        receipt = await self.receipts.get(message_id)
        if receipt is not None:
            try:
                await self.bus.publish(RESULT_TOPIC, receipt.to_json())
            except Exception as exc:      # the bus is a notification path: a closed bus must not undo a send
                self._log.warn("messaging result not published", {"id": message_id, "error": type(exc).__name__})

    # -- reading --------------------------------------------------------------------------------------------------

    async def receipt(self, message_id: str) -> Receipt | None:
        """The receipt; a queued message whose ttl ran out reads as failed with TASK_EXPIRED."""
        found = await self.receipts.get(message_id)
        if found is not None and found.status is ReceiptStatus.QUEUED:
            task = await self.queue.get(found.task_id)
            expired = task is not None and (task.status is TaskStatus.EXPIRED or (
                task.status is TaskStatus.QUEUED and task.expires_at is not None and task.expires_at <= time.time()))
            if expired:
                await self.receipts.update(found.id, ReceiptStatus.FAILED, attempts=found.attempts,
                                           error="TASK_EXPIRED: the message was not sent before its ttl")
                found = await self.receipts.get(message_id)
        return found

    async def stats(self) -> dict[str, Any]:
        try:
            queue = await self.queue.stats()
            return {"receipts": await self.receipts.counts(),
                    "queue": {"queued": queue.queued, "leased": queue.leased, "dead": queue.dead,
                              "expired": queue.expired, "done": queue.done}}
        except Exception as exc:
            raise MessagingError("STATS_ERROR", f"stats are unavailable: {type(exc).__name__}") from None
