"""The notification service (x/messaging root): sends validated, rendered, deduplicated, prioritised and queued
durably; delivered by providers (log, HTTP against a real loopback gateway, failover, rate-limited) with Go's retry
policy; receipts; expiry; and the /api/v1/messages routes with Go's error codes."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from plumego.core import App
from plumego.x.messaging import (
    Failover,
    HTTPSMSProvider,
    LogEmail,
    LogSMS,
    MessagingError,
    NotificationService,
    ProviderError,
    RateLimited,
    ReceiptStatus,
    SendRequest,
    SMSMessage,
    SQLiteReceiptStore,
    register_routes,
)
from plumego.x.messaging.mq import SQLiteTaskQueue, Worker


class Gateway:
    """A loopback SMS gateway answering the statuses it is given (then 200 with an id)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[dict[str, Any]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.received.append({"auth": self.headers["Authorization"], **body})
                status = gateway.statuses.pop(0) if gateway.statuses else 200
                payload = json.dumps({"id": f"gw-{len(gateway.received)}"}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    yield g
    g.server.shutdown()
    g.server.server_close()


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[SQLiteTaskQueue, SQLiteReceiptStore]]:
    queue = SQLiteTaskQueue(tmp_path / "q.db", poll_interval=0.02)
    receipts = SQLiteReceiptStore(tmp_path / "r.db")
    yield queue, receipts
    await queue.close()
    await receipts.close()


async def settle(service: NotificationService, message_id: str) -> ReceiptStatus:
    for _ in range(1500):
        r = await service.receipt(message_id)
        if r is not None and (r.status is not ReceiptStatus.QUEUED or r.error.startswith("TASK_EXPIRED")):
            return r.status
        await asyncio.sleep(0.02)
    raise AssertionError("the message never settled")


async def test_send_render_priority_and_validation(parts: Any) -> None:
    queue, receipts = parts
    sms, email = LogSMS(), LogEmail()
    service = NotificationService(queue, receipts, sms=sms, email=email)
    low = await service.send(SendRequest("sms", "+4915112345678", body="low", priority=10))
    crit = await service.send(SendRequest("sms", "+4915112345678", template="code {{ code }}",
                                          params={"code": 4711}, priority=40))
    mail = await service.send(SendRequest("email", "ada@example.com", subject="Hi", body="hello"))
    worker = Worker(queue, concurrency=1, poll_interval=0.02)
    service.register(worker)
    await worker.start()
    try:
        for r in (low, crit, mail):
            assert await settle(service, r.id) is ReceiptStatus.SENT
    finally:
        await worker.stop()
    assert [m.body for m in sms.sent] == ["code 4711", "low"]              # critical before low
    assert email.sent[0].subject == "Hi" and (await service.receipt(mail.id)).provider == "log-email"  # type: ignore
    bad = [SendRequest("fax", "1"), SendRequest("sms", "not a phone", body="x"),
           SendRequest("email", "ada@example.com", body="no subject"), SendRequest("sms", "+491511234", body=""),
           SendRequest("sms", "+491511234", template="hi {{name}}"), SendRequest("sms", "+491511234", body="x",
                                                                                priority=15)]
    for request in bad:
        with pytest.raises(MessagingError) as info:
            await service.send(request)
        assert info.value.code == "VALIDATION_ERROR"
    first = await service.send(SendRequest("sms", "+491511234", body="x", dedupe_key="otp-1"))
    with pytest.raises(MessagingError) as info:
        await service.send(SendRequest("sms", "+491511234", body="x", dedupe_key="otp-1"))
    assert info.value.code == "DUPLICATE_MESSAGE" and info.value.details["task_id"] == first.task_id
    assert (await service.stats())["receipts"]["sent"] == 3


async def test_http_gateway_retries_failover_and_rate_limit(parts: Any, gateway: Gateway) -> None:
    queue, receipts = parts
    http_sms = HTTPSMSProvider(gateway.url, "key-1")
    service = NotificationService(queue, receipts, sms=http_sms, backoff_base=0.01)
    worker = Worker(queue, poll_interval=0.02)
    service.register(worker)
    await worker.start()
    try:
        gateway.statuses = [503, 429]
        ok = await service.send(SendRequest("sms", "+491511234", body="retried", max_retries=3))
        assert await settle(service, ok.id) is ReceiptStatus.SENT
        r = await service.receipt(ok.id)
        assert r is not None and r.attempts == 3 and r.provider_id == "gw-3"
        assert gateway.received[-1] == {"auth": "Bearer key-1", "to": "+491511234", "body": "retried",
                                        "message_id": ok.id}
        gateway.statuses = [400]
        refused = await service.send(SendRequest("sms", "+491511234", body="refused"))
        assert await settle(service, refused.id) is ReceiptStatus.FAILED
        gateway.statuses = [500] * 5
        dead = await service.send(SendRequest("sms", "+491511234", body="dead", max_retries=1))
        assert await settle(service, dead.id) is ReceiptStatus.DEAD
        assert "PROVIDER_ERROR" in (await service.receipt(dead.id)).error  # type: ignore[union-attr]
    finally:
        await worker.stop()
        await http_sms.close()
    gateway.statuses = [500]
    backup = LogSMS(name="backup")
    primary = HTTPSMSProvider(gateway.url, "key-1", name="primary")
    try:
        assert (await Failover([primary, backup]).send_sms(SMSMessage("+491511234", "x", "m1"))).startswith("log-")
        assert backup.sent[0].message_id == "m1"
    finally:
        await primary.close()
    limited = RateLimited(LogSMS(), rate=0.001, burst=1, max_wait=0)
    await limited.send_sms(SMSMessage("+491511234", "1", "a"))
    with pytest.raises(ProviderError) as info:
        await limited.send_sms(SMSMessage("+491511234", "2", "b"))
    assert info.value.retryable


async def test_scheduled_and_expiring_messages(parts: Any) -> None:
    queue, receipts = parts
    service = NotificationService(queue, receipts, sms=LogSMS())
    later = await service.send(SendRequest("sms", "+491511234", body="later", scheduled_at=time.time() + 3600))
    task = await queue.get(later.task_id)
    assert task is not None and task.available_at > time.time() + 3000
    doomed = await service.send(SendRequest("sms", "+491511234", body="too late", ttl=0.05))
    await asyncio.sleep(0.1)
    r = await service.receipt(doomed.id)
    assert r is not None and r.status is ReceiptStatus.FAILED and r.error.startswith("TASK_EXPIRED")


async def test_routes(parts: Any) -> None:
    queue, receipts = parts
    app = App()
    service = NotificationService(queue, receipts, sms=LogSMS())
    register_routes(app, service)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m.test") as client:
        r = await client.post("/api/v1/messages/send", json={"channel": "sms", "to": "+491511234", "body": "hi",
                                                             "priority": "high", "dedupe_key": "d1"})
        assert r.status_code == 202 and r.json()["status"] == "queued" and r.json()["priority"] == 30
        r = await client.post("/api/v1/messages/send", json={"channel": "sms", "to": "+491511234", "body": "hi",
                                                             "dedupe_key": "d1"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "DUPLICATE_MESSAGE"
        r = await client.post("/api/v1/messages/send", json={"channel": "email", "to": "a@b.co", "subject": "s",
                                                             "body": "b"})
        assert r.status_code == 500 and r.json()["error"]["code"] == "SEND_ERROR"     # no email provider
        r = await client.post("/api/v1/messages/batch", json={"messages": [
            {"channel": "sms", "to": "+491511234", "body": "one"}, {"channel": "sms", "to": "x", "body": "bad"},
            {"channel": "sms", "to": "+491511234", "bogus": 1}]})
        items = r.json()["items"]
        assert r.status_code == 202 and items[0]["status"] == "queued"
        assert [i.get("error", {}).get("code") for i in items[1:]] == ["VALIDATION_ERROR", "VALIDATION_ERROR"]
        r = await client.post("/api/v1/messages/batch", json={"messages": []})
        assert r.status_code == 400 and r.json()["error"]["code"] == "EMPTY_BATCH"
        message_id = items[0]["id"]
        assert (await client.get(f"/api/v1/messages/{message_id}/receipt")).json()["to"] == "+491511234"
        assert (await client.get("/api/v1/messages/nope/receipt")).status_code == 404
        assert (await client.get("/api/v1/messages/channels")).json() == {"channels": {"sms": "log-sms"}}
        assert len((await client.get("/api/v1/messages/receipts?status=queued")).json()["items"]) == 2
        assert (await client.get("/api/v1/messages/receipts?status=nope")).status_code == 400
        assert (await client.get("/api/v1/messages/stats")).json()["queue"]["queued"] == 2
