"""The notification service's optional parts, as Go's Config has them: quotas per tenant and per recipient
(counted in a shared store: memory, SQLite, Redis; QUOTA_EXCEEDED with 429), the channel monitor (healthy,
degraded, unhealthy from delivery outcomes and probes, run as a scheduler job), metrics hooks in a collector
(``sms_gateway_*``) and the webhook notifier (a final outcome on the bus becomes a signed webhook event,
``messaging.<channel>.<status>``, delivered to a real loopback receiver)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from plumego.core import App
from plumego.metrics import MetricsCollector
from plumego.x.messaging import (
    ChannelMonitor,
    ChannelState,
    CollectorMetrics,
    LogSMS,
    MemoryQuotaStore,
    MessagingError,
    NotificationService,
    ProviderError,
    QuotaChecker,
    QuotaLimit,
    QuotaStore,
    RedisQuotaStore,
    SendRequest,
    SMSMessage,
    SQLiteQuotaStore,
    SQLiteReceiptStore,
    WebhookNotifier,
    register_routes,
)
from plumego.x.messaging._quota import window_bounds
from plumego.x.messaging.mq import SQLiteTaskQueue, Worker
from plumego.x.messaging.pubsub import InProcBroker
from plumego.x.messaging.scheduler import Scheduler, SQLiteJobStore

from .test_notifications import settle


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.services)])
async def quota_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[QuotaStore, QuotaStore]]:
    """Two handles on one quota store (as two API processes would have)."""
    if request.param == "memory":
        one = MemoryQuotaStore()
        stores: tuple[QuotaStore, QuotaStore] = (one, one)
    elif request.param == "sqlite":
        stores = (SQLiteQuotaStore(tmp_path / "quota.db"), SQLiteQuotaStore(tmp_path / "quota.db"))
    else:
        base, prefix = request.getfixturevalue("redis_namespace")
        stores = (RedisQuotaStore(base, prefix=prefix), RedisQuotaStore(base, prefix=prefix))
    yield stores
    for s in {id(s): s for s in stores}.values():
        await s.close()


async def test_quota_limits_across_handles_all_or_nothing(quota_stores: tuple[QuotaStore, QuotaStore]) -> None:
    clock = Clock()
    limits = [QuotaLimit("tenant", "day", 3), QuotaLimit("recipient", "minute", 2, channel="sms")]
    a, b = (QuotaChecker(s, limits, clock=clock) for s in quota_stores)
    assert await a.check(tenant_id="t1", to="+491", channel="sms") is None
    assert await b.check(tenant_id="t1", to="+491", channel="sms") is None
    full = await a.check(tenant_id="t1", to="+491", channel="sms")          # the recipient's minute is used up
    assert full is not None and full.limit.scope == "recipient" and 1 <= full.retry_after <= 60
    assert full.to_json()["window"] == "minute"
    assert await b.check(tenant_id="t1", to="+492", channel="sms") is None  # the refused one took nothing ...
    over = await a.check(tenant_id="t1", to="+493", channel="sms")
    assert over is not None and over.limit.scope == "tenant"                # ... so the tenant's 3rd went here
    assert await a.check(tenant_id="t2", to="+493", channel="email") is None  # another tenant, no sms limit
    await b.refund(tenant_id="t1", to="+492", channel="sms")
    assert await a.check(tenant_id="t1", to="+494", channel="sms") is None  # the refunded unit is back
    clock.now += 86400                                                      # next day: fresh windows
    assert await a.check(tenant_id="t1", to="+491", channel="sms") is None


def test_windows_and_limits() -> None:
    assert window_bounds("minute", 125.5) == (120, 180)
    start, end = window_bounds("month", 1_709_251_200.0 + 5)                # 2024-03-01T00:00:05Z
    assert start == 1_709_251_200.0 and end - start == 31 * 86400
    for bad in ({"scope": "ip"}, {"window": "week"}, {"limit": -1}, {"channel": "fax"}):
        with pytest.raises(ValueError):
            QuotaLimit(**{"scope": "tenant", "window": "day", "limit": 1, **bad})  # type: ignore[arg-type]


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[SQLiteTaskQueue, SQLiteReceiptStore]]:
    queue = SQLiteTaskQueue(tmp_path / "q.db", poll_interval=0.02)
    receipts = SQLiteReceiptStore(tmp_path / "r.db")
    yield queue, receipts
    await queue.close()
    await receipts.close()


async def test_quota_in_the_service_and_its_routes(parts: Any, tmp_path: Path) -> None:
    queue, receipts = parts
    collector = MetricsCollector()
    quota = QuotaChecker(SQLiteQuotaStore(tmp_path / "quota.db"), [QuotaLimit("recipient", "hour", 2)])
    service = NotificationService(queue, receipts, sms=LogSMS(), quota=quota, metrics=CollectorMetrics(collector))
    await service.send(SendRequest("sms", "+491511234", body="1", dedupe_key="k"))
    with pytest.raises(MessagingError) as info:
        await service.send(SendRequest("sms", "+491511234", body="dup", dedupe_key="k"))
    assert info.value.code == "DUPLICATE_MESSAGE"                            # refunded: the quota still has 1
    await service.send(SendRequest("sms", "+491511234", body="2"))
    with pytest.raises(MessagingError) as info:
        await service.send(SendRequest("sms", "+491511234", body="3"))
    assert info.value.code == "QUOTA_EXCEEDED" and info.value.details["scope"] == "recipient"
    app = App()
    register_routes(app, service)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m.test") as client:
        r = await client.post("/api/v1/messages/send", json={"channel": "sms", "to": "+491511234", "body": "4"})
        assert r.status_code == 429 and r.json()["error"]["code"] == "QUOTA_EXCEEDED"
        assert r.json()["error"]["details"]["window"] == "hour"
        r = await client.post("/api/v1/messages/send", json={"channel": "sms", "to": "+499999999", "body": "5"})
        assert r.status_code == 202
    snap = collector.snapshot()
    queued = snap.family("sms_gateway_queued_total")
    refused = snap.family("sms_gateway_refused_total")
    exceeded = snap.family("sms_gateway_quota_exceeded_total")
    assert queued is not None and sum(s.value for s in queued.samples) == 3
    assert refused is not None and {s.labels["code"]: s.value for s in refused.samples} == {
        "DUPLICATE_MESSAGE": 1, "QUOTA_EXCEEDED": 2}
    assert exceeded is not None and exceeded.samples[0].value == 2
    await quota.store.close()


class Flaky:
    """An SMS provider that fails (not retryable) while ``broken`` is set, and has a health probe."""

    name = "flaky"

    def __init__(self) -> None:
        self.broken = False

    async def send_sms(self, message: SMSMessage) -> str:
        if self.broken:
            raise ProviderError("gateway says no", retryable=False)
        return f"ok-{message.message_id}"

    async def health(self) -> None:
        if self.broken:
            raise ConnectionError("probe refused")


async def test_monitor_metrics_and_webhook_notifier(parts: Any, tmp_path: Path) -> None:
    pytest.importorskip("httpx")
    from plumego.x.messaging.webhook import SSRFGuard, Target, WebhookService, WebhookStore

    from .webhook.test_delivery import Receiver, settled

    queue, receipts = parts
    provider, collector, bus = Flaky(), MetricsCollector(), InProcBroker()
    monitor = ChannelMonitor(window=4, degraded_at=0.25, unhealthy_at=0.5)
    service = NotificationService(queue, receipts, sms=provider, monitor=monitor, bus=bus,
                                  metrics=CollectorMetrics(collector, prefix="msg"))
    hooks_store = WebhookStore(tmp_path / "webhooks.db")
    hooks = WebhookService(hooks_store, queue, guard=SSRFGuard(allow_cidrs=["127.0.0.1/32"]))
    receiver = Receiver()
    await hooks_store.put_target(Target(id="ops", url=receiver.url, secret="whsec_0123456789", backoff_base=0,
                                        events=("messaging.sms.*",)))
    notifier = WebhookNotifier(bus, hooks)
    worker = Worker(queue, poll_interval=0.02)
    service.register(worker)
    hooks.register(worker)
    await notifier.start()
    await notifier.ready()
    await worker.start()
    try:
        sent = await service.send(SendRequest("sms", "+491511234", body="fine"))
        assert (await settle(service, sent.id)).value == "sent"
        assert monitor.status("sms").state is ChannelState.HEALTHY
        provider.broken = True
        failed = await service.send(SendRequest("sms", "+491511234", body="no"))
        assert (await settle(service, failed.id)).value == "failed"
        assert monitor.status("sms").state is ChannelState.UNHEALTHY        # 1 of 2 failed: rate 0.5
        for _ in range(200):
            if notifier.notified == 2 and len(receiver.requests) == 2:
                break
            await asyncio.sleep(0.02)
        events = sorted(json.loads(body)["type"] for _, _, body in receiver.requests)
        assert events == ["messaging.sms.failed", "messaging.sms.sent"]
        deliveries = await hooks_store.deliveries(target_id="ops")
        assert len(deliveries) == 2
        assert {(await settled(hooks_store, d.id)).value for d in deliveries} == {"success"}
    finally:
        await worker.stop()
        await notifier.stop()
        await hooks.close()
        await hooks_store.close()
        receiver.close()
        await bus.close()
    failed_family = collector.snapshot().family("msg_failed_total")
    assert failed_family is not None and failed_family.samples[0].labels["final"] == "true"
    assert collector.snapshot().family("msg_send_duration_seconds") is not None

    # the probe, run as a scheduler job: a broken provider is unhealthy even without traffic
    scheduler = Scheduler(SQLiteJobStore(tmp_path / "jobs.db"), poll_interval=0.02)
    quiet = ChannelMonitor()
    quiet.watch({"sms": provider})
    quiet.register(scheduler)
    await quiet.add_job(scheduler, every="@every 1s")
    await scheduler.trigger_now("messaging.channel-check")
    await scheduler.run_pending()
    await scheduler.join()
    health = quiet.health()["sms"]
    assert health.state is ChannelState.UNHEALTHY and "probe refused" in health.last_error
    provider.broken = False
    assert (await quiet.check())["sms"].state is ChannelState.HEALTHY
    await scheduler.store.close()


async def test_channels_route_shows_health(parts: Any) -> None:
    queue, receipts = parts
    service = NotificationService(queue, receipts, sms=LogSMS(), monitor=ChannelMonitor())
    app = App()
    register_routes(app, service)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m.test") as client:
        body = (await client.get("/api/v1/messages/channels")).json()
    assert body["channels"] == {"sms": "log-sms"} and body["health"]["sms"]["state"] == "healthy"
    with pytest.raises(ValueError):
        ChannelMonitor(degraded_at=0.6, unhealthy_at=0.5)
