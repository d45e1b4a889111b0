"""Outbound delivery end to end: the durable queue, a Worker, a real HTTP receiver on loopback, Go's retry policy,
the delivery log and the SSRF guard (loopback is admitted only through an explicit allow list here)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httpx", reason="httpx is not installed (pip install 'plumego[webhook]')")

from plumego.x.messaging.mq import SQLiteTaskQueue, Worker  # noqa: E402
from plumego.x.messaging.webhook import (  # noqa: E402
    BlockedTargetError,
    DeliveryStatus,
    SSRFGuard,
    Target,
    WebhookService,
    WebhookStore,
    verify_v1,
)


class Receiver:
    """A loopback HTTP server that answers the statuses it is given, in order (then 200), and keeps every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.redirect_to: str | None = None
        self.hang = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append((self.path, dict(self.headers.items()), body))
                if receiver.hang:
                    time.sleep(receiver.hang)
                if receiver.redirect_to:
                    self.send_response(307)
                    self.send_header("Location", receiver.redirect_to)
                else:
                    self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[WebhookService, WebhookStore, Worker]]:
    store = WebhookStore(tmp_path / "webhooks.db")
    queue = SQLiteTaskQueue(tmp_path / "queue.db", poll_interval=0.02)
    service = WebhookService(store, queue, guard=SSRFGuard(allow_cidrs=["127.0.0.1/32"]))
    worker = Worker(queue, poll_interval=0.02)
    service.register(worker)
    await worker.start()
    yield service, store, worker
    await worker.stop()
    await service.close()
    await store.close()
    await queue.close()


async def settled(store: WebhookStore, delivery_id: str) -> DeliveryStatus:
    for _ in range(1500):
        d = await store.get_delivery(delivery_id)
        if d is not None and d.status not in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING):
            return d.status
        await asyncio.sleep(0.02)
    raise AssertionError("the delivery never settled")


def target(url: str, **kw: Any) -> Target:
    return Target(id="crm", url=url, secret="whsec_0123456789", backoff_base=0, **kw)


async def test_signed_delivery(setup: Any, receiver: Receiver) -> None:
    service, store, _ = setup
    await store.put_target(target(receiver.url, events=("order.*",), headers={"X-Tenant": "t1"}))
    assert await service.trigger("user.created", {"id": 1}) == []            # not an event the target wants
    (delivery,) = await service.trigger("order.created", {"id": 42}, meta={"source": "shop"})
    assert await settled(store, delivery.id) == DeliveryStatus.SUCCESS
    ((path, headers, body),) = receiver.requests
    event = json.loads(body)
    assert path == "/hook" and event["type"] == "order.created" and event["data"] == {"id": 42}
    assert headers["X-Webhook-Id"] == "crm" and headers["X-Webhook-Delivery"] == delivery.id
    assert headers["X-Webhook-Attempt"] == "1" and headers["X-Tenant"] == "t1"
    assert headers["Host"] == receiver.url.split("/")[2]
    assert verify_v1("whsec_0123456789", int(headers["X-Webhook-Timestamp"]), body, headers["X-Webhook-Signature"])
    assert (await store.targets())[0].masked()["secret"] == "****6789"


async def test_retries_then_success_dead_and_failed(setup: Any, receiver: Receiver) -> None:
    service, store, _ = setup
    await store.put_target(target(receiver.url, max_retries=3))
    receiver.statuses = [503, 408, 200]
    (ok,) = await service.trigger("e", 1)
    assert await settled(store, ok.id) == DeliveryStatus.SUCCESS
    assert [h["X-Webhook-Attempt"] for _, h, _ in receiver.requests] == ["1", "2", "3"]
    receiver.requests.clear()
    receiver.statuses = [500] * 10
    (dead,) = await service.trigger("e", 2)
    assert await settled(store, dead.id) == DeliveryStatus.DEAD
    assert len(receiver.requests) == 4                                        # 1 + max_retries
    stored = await store.get_delivery(dead.id)
    assert stored is not None and stored.last_status == 500 and stored.attempts == 4
    receiver.statuses = [404]
    (failed,) = await service.trigger("e", 3)
    assert await settled(store, failed.id) == DeliveryStatus.FAILED
    await store.put_target(target(receiver.url, retry_on_429=False))
    receiver.statuses = [429]
    (no429,) = await service.trigger("e", 4)
    assert await settled(store, no429.id) == DeliveryStatus.FAILED


async def test_replay(setup: Any, receiver: Receiver) -> None:
    service, store, _ = setup
    await store.put_target(target(receiver.url))
    (first,) = await service.trigger("e", {"n": 1})
    await settled(store, first.id)
    again = await service.replay(first.id)
    assert again is not None and again.id != first.id
    assert await settled(store, again.id) == DeliveryStatus.SUCCESS
    assert receiver.requests[0][2] == receiver.requests[1][2]                 # the same event body


async def test_ssrf_guard(tmp_path: Path, receiver: Receiver) -> None:
    strict = SSRFGuard()
    for url in (receiver.url, "http://localhost/", "http://10.0.0.1/", "http://[::1]/", "http://169.254.169.254/",
                "http://[::ffff:127.0.0.1]/", "http://100.64.0.1/", "ftp://example.com/", "http://u:p@example.com/"):
        with pytest.raises(BlockedTargetError):
            await strict.resolve(url)
    assert (await SSRFGuard(allow_private_network=True).resolve(receiver.url)).address == "127.0.0.1"
    store = WebhookStore(tmp_path / "w.db")
    queue = SQLiteTaskQueue(tmp_path / "q.db", poll_interval=0.02)
    service = WebhookService(store, queue)                                    # the default guard
    worker = Worker(queue, poll_interval=0.02)
    service.register(worker)
    await worker.start()
    try:
        await store.put_target(target(receiver.url))
        (blocked,) = await service.trigger("e", 1)
        assert await settled(store, blocked.id) == DeliveryStatus.FAILED
        assert receiver.requests == []                                        # nothing was sent
        # an allowed target that redirects to a private address: refused at the redirect
        service.guard = SSRFGuard(allow_cidrs=["127.0.0.1/32"])
        receiver.redirect_to = "http://10.1.2.3/steal"
        (redirected,) = await service.trigger("e", 2)
        assert await settled(store, redirected.id) == DeliveryStatus.FAILED
        d = await store.get_delivery(redirected.id)
        assert d is not None and "10.1.2.3" in d.last_error and len(receiver.requests) == 1
    finally:
        await worker.stop()
        await service.close()
        await store.close()
        await queue.close()


async def test_an_accepted_event_is_delivered_after_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    store = WebhookStore(tmp_path / "w.db")
    queue = SQLiteTaskQueue(tmp_path / "q.db")
    service = WebhookService(store, queue, guard=SSRFGuard(allow_cidrs=["127.0.0.1/32"]))
    await store.put_target(target(receiver.url))
    (delivery,) = await service.trigger("e", 1)                               # no worker runs in this "process"
    await service.close()
    await store.close()
    await queue.close()
    store2, queue2 = WebhookStore(tmp_path / "w.db"), SQLiteTaskQueue(tmp_path / "q.db", poll_interval=0.02)
    service2 = WebhookService(store2, queue2, guard=SSRFGuard(allow_cidrs=["127.0.0.1/32"]))
    worker = Worker(queue2, poll_interval=0.02)
    service2.register(worker)
    await worker.start()
    try:
        assert await settled(store2, delivery.id) == DeliveryStatus.SUCCESS
    finally:
        await worker.stop()
        await service2.close()
        await store2.close()
        await queue2.close()


async def test_a_target_that_hangs_times_out_and_dies(setup: Any, receiver: Receiver) -> None:
    service, store, _ = setup
    receiver.hang = 1.0
    await store.put_target(target(receiver.url, timeout=0.2, max_retries=1))
    (delivery,) = await service.trigger("e", 1)
    assert await settled(store, delivery.id) == DeliveryStatus.DEAD
    d = await store.get_delivery(delivery.id)
    assert d is not None and d.attempts == 2 and "Timeout" in d.last_error and d.last_status is None
