"""Outbound webhook delivery: events fan out to their targets as tasks of the durable queue, and each attempt is a
signed POST through the SSRF guard with Go's retry policy.

Owns ``WebhookService``: ``trigger`` writes one delivery per interested target and enqueues it (so an event that
was accepted is delivered even if this process dies), and a queue handler makes the attempts: timeout per target
(Go default 5 s); retry on a network error, a 5xx, 408, and 429 when ``retry_on_429``; back-off from
``backoff_base`` doubling up to ``backoff_max`` with jitter in [0.5, 1.5) (a ``Retry-After`` on 429/503 is
honoured up to ``backoff_max``); ``dead`` after ``max_retries``; any other status is ``failed`` at once. Redirects
are followed by hand (at most 3), each hop checked by the guard. Requires httpx (``pip install
'plumego[webhook]'``). Imports the standard library, httpx, plumego.log and the x/messaging packages.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Mapping
from typing import Any

try:
    import httpx
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("webhook delivery needs httpx: pip install 'plumego[webhook]'") from exc

from plumego.log import DiscardLogger, StructuredLogger
from plumego.x.messaging.mq import RetryLater, Task, TaskQueue, Worker

from ._signing import outbound_headers
from ._ssrf import BlockedTargetError, SSRFGuard
from ._store import Delivery, DeliveryStatus, Target, WebhookStore

__all__ = ["DELIVERY_TOPIC", "WebhookService"]

DELIVERY_TOPIC = "webhook.deliver"
_MAX_REDIRECTS = 3


class WebhookService:
    def __init__(self, store: WebhookStore, queue: TaskQueue, *, guard: SSRFGuard | None = None,
                 logger: StructuredLogger | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.store = store
        self.queue = queue
        self.guard = guard or SSRFGuard()
        self._log = logger or DiscardLogger()
        self._client = httpx.AsyncClient(follow_redirects=False, transport=transport, trust_env=False)

    def register(self, worker: Worker) -> None:
        """Let ``worker`` (a Worker on the same queue) make the delivery attempts."""
        worker.register(DELIVERY_TOPIC, self.handle)

    async def trigger(self, event_type: str, data: Any, *, meta: Mapping[str, str] | None = None,
                      event_id: str | None = None) -> list[Delivery]:
        """Deliver an event to every enabled target that wants it; returns the deliveries (possibly none)."""
        event_id = event_id or uuid.uuid4().hex
        body = json.dumps({"id": event_id, "type": event_type,
                           "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "data": data, "meta": dict(meta or {})}, separators=(",", ":")).encode()
        targets = [t for t in await self.store.targets() if t.wants(event_type)]
        deliveries = await self.store.new_deliveries(targets, event_id, event_type, body)
        for d, t in zip(deliveries, targets, strict=True):
            await self.queue.enqueue(DELIVERY_TOPIC, d.id.encode(), dedupe_key=f"webhook:{d.id}",
                                     max_attempts=t.max_retries + 2)
        return deliveries

    async def replay(self, delivery_id: str) -> Delivery | None:
        """Send a recorded delivery again as a new delivery (Go's POST /deliveries/:id/replay)."""
        old = await self.store.get_delivery(delivery_id)
        target = None if old is None else await self.store.get_target(old.target_id)
        if old is None or target is None:
            return None
        (new,) = await self.store.new_deliveries([target], old.event_id, old.event_type, old.body)
        await self.queue.enqueue(DELIVERY_TOPIC, new.id.encode(), dedupe_key=f"webhook:{new.id}",
                                 max_attempts=target.max_retries + 2)
        return new

    async def handle(self, task: Task) -> None:
        """One delivery attempt (the queue handler)."""
        delivery = await self.store.get_delivery(task.payload.decode())
        if delivery is None or delivery.status in (DeliveryStatus.SUCCESS, DeliveryStatus.FAILED,
                                                   DeliveryStatus.DEAD):
            return                                   # already settled (a redelivered task): nothing to do
        target = await self.store.get_target(delivery.target_id)
        attempt = delivery.attempts + 1
        if target is None or not target.enabled:
            await self.store.record_attempt(delivery.id, DeliveryStatus.FAILED, delivery.attempts, None,
                                            "the target was deleted or disabled")
            return
        headers = {**target.headers, **outbound_headers(target_id=target.id, event=delivery.event_type,
                                                        delivery_id=delivery.id, attempt=attempt,
                                                        body=delivery.body, secret=target.secret)}
        try:
            response = await self._post(target, headers, delivery.body)
        except BlockedTargetError as exc:
            await self.store.record_attempt(delivery.id, DeliveryStatus.FAILED, attempt, None, str(exc))
            self._log.warn("webhook target refused by the SSRF guard", {"target": target.id})
            return
        except httpx.HTTPError as exc:
            await self._retry_or_die(delivery, target, attempt, None, f"{type(exc).__name__}: {exc}", None)
            return
        status = response.status_code
        if 200 <= status < 300:
            await self.store.record_attempt(delivery.id, DeliveryStatus.SUCCESS, attempt, status, "")
        elif status >= 500 or status == 408 or (status == 429 and target.retry_on_429):
            await self._retry_or_die(delivery, target, attempt, status, f"HTTP {status}",
                                     response.headers.get("Retry-After"))
        else:
            await self.store.record_attempt(delivery.id, DeliveryStatus.FAILED, attempt, status, f"HTTP {status}")

    async def _retry_or_die(self, delivery: Delivery, target: Target, attempt: int, status: int | None, error: str,
                            retry_after: str | None) -> None:
        if attempt > target.max_retries:
            await self.store.record_attempt(delivery.id, DeliveryStatus.DEAD, attempt, status, error)
            return
        await self.store.record_attempt(delivery.id, DeliveryStatus.RETRYING, attempt, status, error)
        delay = min(target.backoff_max, target.backoff_base * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
        if retry_after and retry_after.isascii() and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), target.backoff_max))
        raise RetryLater(delay, error)

    async def _post(self, target: Target, headers: dict[str, str], body: bytes) -> httpx.Response:
        url = httpx.URL(target.url)
        for _ in range(_MAX_REDIRECTS + 1):
            resolved = await self.guard.resolve(str(url))
            pinned = url.copy_with(host=resolved.address)       # connect to the address the guard checked
            request = self._client.build_request(
                "POST", pinned, content=body, headers={**headers, "Host": url.netloc.decode("ascii")},
                timeout=target.timeout,
                extensions={"sni_hostname": resolved.host} if resolved.scheme == "https" else {})
            response = await self._client.send(request)
            if response.status_code not in (301, 302, 303, 307, 308) or "location" not in response.headers:
                return response
            await response.aclose()
            url = url.join(response.headers["location"])
        raise BlockedTargetError(f"more than {_MAX_REDIRECTS} redirects")

    async def close(self) -> None:
        await self._client.aclose()
