"""The webhook notifier (Go's ``WebhookNotifier``): delivery results on the bus become outbound webhook events.

Owns a lifecycle component that subscribes to the bus topic ``messaging.result`` (the notification service
publishes one message per outcome there when it is given a bus) and triggers the webhook event
``messaging.<channel>.<status>`` (``messaging.sms.sent``, ``messaging.email.dead``, ...) with the receipt as data,
so subscribers' endpoints learn of each outcome through the signed, retried, logged webhook delivery. The bus is
in-process and at most once; the webhook delivery after it is durable. Imports the standard library, plumego.log
and the pubsub package; never plumego.core.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any, Protocol

from plumego.log import DiscardLogger, StructuredLogger

from .pubsub import InProcBroker, Policy, Subscription, SubscriptionClosed

__all__ = ["RESULT_TOPIC", "WebhookNotifier"]

RESULT_TOPIC = "messaging.result"


class _Webhooks(Protocol):
    async def trigger(self, event_type: str, data: Any, *, meta: Mapping[str, str] | None = None,
                      event_id: str | None = None) -> Any: ...


class WebhookNotifier:
    """``app.add_component("messaging-webhooks", WebhookNotifier(bus, webhook_service))``."""

    def __init__(self, bus: InProcBroker, webhooks: _Webhooks, *, buffer: int = 1024,
                 logger: StructuredLogger | None = None) -> None:
        self.bus = bus
        self.webhooks = webhooks
        self.buffer = buffer
        self._log = logger or DiscardLogger()
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.notified = 0

    async def start(self) -> None:
        if self._task is None:
            self._sub = self.bus.subscribe(RESULT_TOPIC, buffer=self.buffer, policy=Policy.BLOCK_WITH_TIMEOUT)
            self._task = asyncio.create_task(self._run(self._sub), name="messaging-webhook-notifier")

    async def ready(self) -> None:
        if self._task is None or self._task.done():
            raise RuntimeError("the webhook notifier is not running")

    async def stop(self) -> None:
        if self._task is None:
            return
        assert self._sub is not None
        self._sub.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self, sub: Subscription) -> None:
        while True:
            try:
                message = await sub.get()
            except SubscriptionClosed:
                return
            data = message.data
            if not isinstance(data, dict) or "channel" not in data or "status" not in data:
                continue
            event = f"messaging.{data['channel']}.{data['status']}"
            try:
                await self.webhooks.trigger(event, data, event_id=f"{data.get('id', '')}.{data['status']}."
                                            f"{data.get('attempts', 0)}")
                self.notified += 1
            except Exception as exc:
                self._log.error("messaging webhook notification failed", {"event": event,
                                                                        "error": type(exc).__name__})
