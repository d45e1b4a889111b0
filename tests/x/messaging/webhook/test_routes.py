"""The webhook routes through the App: management (Go's paths, masked secrets, validation, the trigger token,
cursor pages, replay) and the GitHub/Stripe receivers publishing to pub/sub with replay protection."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("httpx", reason="httpx is not installed (pip install 'plumego[webhook]')")

from plumego.core import App, TestClient  # noqa: E402
from plumego.x.messaging.mq import SQLiteTaskQueue  # noqa: E402
from plumego.x.messaging.pubsub import InProcBroker  # noqa: E402
from plumego.x.messaging.webhook import (  # noqa: E402
    WebhookService,
    WebhookStore,
    register_inbound_routes,
    register_management_routes,
)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = App()
    store = WebhookStore(tmp_path / "w.db")
    service = WebhookService(store, SQLiteTaskQueue(tmp_path / "q.db"))
    register_management_routes(app, service, trigger_token="t0ken")
    with TestClient(app) as c:
        yield c


def test_targets_crud_with_masked_secrets(client: TestClient) -> None:
    r = client.post("/webhooks/targets", json={"id": "crm", "url": "https://crm.example.com/hook",
                                               "secret": "whsec_abcdefgh1234", "events": ["order.*"]})
    assert r.status_code == 201 and r.json()["secret"] == "****1234"
    assert client.post("/webhooks/targets", json={"id": "crm", "url": "https://x", "secret": "s"}).status_code == 409
    assert client.get("/webhooks/targets").json()["items"][0]["id"] == "crm"
    r = client.patch("/webhooks/targets/crm", json={"max_retries": 2, "events": ["*"]})
    assert r.status_code == 200 and r.json()["max_retries"] == 2 and r.json()["events"] == ["*"]
    assert client.post("/webhooks/targets/crm/disable").json()["enabled"] is False
    assert client.get("/webhooks/targets/crm").json()["enabled"] is False
    assert client.get("/webhooks/targets/none").status_code == 404
    for bad in ({"url": "https://x"}, {"url": "https://x", "secret": "s", "timeout": "5"},
                {"url": "https://x", "secret": "s", "enabled": "yes"}, {"url": "https://x", "secret": "s", "x": 1},
                {"url": "https://x", "secret": "s", "headers": {"X-Webhook-Id": "forged"}}, [1, 2]):
        r = client.post("/webhooks/targets", json=bad)
        assert r.status_code == 400, (bad, r.status_code)
        assert r.json()["error"]["type"] == "validation_failure"


def test_trigger_token_deliveries_pages_and_replay(client: TestClient) -> None:
    client.post("/webhooks/targets", json={"id": "a", "url": "https://a.example.com", "secret": "s1"})
    client.post("/webhooks/targets", json={"id": "b", "url": "https://b.example.com", "secret": "s2"})
    assert client.post("/webhooks/events/order.created", json={"id": 1}).status_code == 403
    assert client.post("/webhooks/events/order.created?token=wrong", json={"id": 1}).status_code == 403
    ids: list[str] = []
    for n in range(3):
        r = client.post("/webhooks/events/order.created", json={"n": n}, headers={"X-Trigger-Token": "t0ken"})
        assert r.status_code == 202
        ids += r.json()["deliveries"]
    assert len(ids) == 6
    page = client.get("/webhooks/deliveries?limit=4").json()
    assert len(page["items"]) == 4 and page["next_cursor"] is not None
    rest = client.get(f"/webhooks/deliveries?limit=4&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert {d["id"] for d in page["items"] + rest["items"]} == set(ids)
    only_a = client.get("/webhooks/deliveries?target_id=a&status=pending").json()["items"]
    assert len(only_a) == 3 and all(d["target_id"] == "a" for d in only_a)
    for bad in ("status=nope", "cursor=-1", "limit=0", "limit=9999", "cursor=１"):
        assert client.get(f"/webhooks/deliveries?{bad}").status_code == 400, bad
    assert client.get(f"/webhooks/deliveries/{ids[0]}").json()["status"] == "pending"
    r = client.post(f"/webhooks/deliveries/{ids[0]}/replay")
    assert r.status_code == 202 and r.json()["id"] not in ids
    assert client.post("/webhooks/deliveries/nope/replay").status_code == 404


def test_github_and_stripe_receivers_publish_once() -> None:
    app = App()
    broker = InProcBroker()
    pushes = broker.subscribe("in.github.push")
    charges = broker.subscribe("in.stripe.charge.succeeded")
    register_inbound_routes(app, broker, github_secret="gh-secret", stripe_secret="st-secret")
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    sig = "sha256=" + hmac.new(b"gh-secret", body, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature-256": sig, "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1",
               "Content-Type": "application/json"}
    event = json.dumps({"id": "evt_1", "type": "charge.succeeded"}).encode()
    ts = int(time.time())
    st_sig = hmac.new(b"st-secret", f"{ts}.".encode() + event, hashlib.sha256).hexdigest()
    with TestClient(app) as client:
        assert client.post("/webhooks/github", content=body, headers=headers).status_code == 202
        assert client.post("/webhooks/github", content=body, headers=headers).json() == {"status": "duplicate"}
        r = client.post("/webhooks/github", content=body + b" ", headers={**headers, "X-GitHub-Delivery": "d-2"})
        assert r.status_code == 401 and r.json()["error"]["details"]["reason"] == "invalid_signature"
        st_headers = {"Stripe-Signature": f"t={ts},v1={st_sig}"}
        assert client.post("/webhooks/stripe", content=event, headers=st_headers).status_code == 202
        assert client.post("/webhooks/stripe", content=event, headers=st_headers).json()["status"] == "duplicate"
        stale = {"Stripe-Signature": f"t={ts - 3600},v1={st_sig}"}
        r = client.post("/webhooks/stripe", content=event, headers=stale)
        assert r.status_code == 401 and r.json()["error"]["details"]["reason"] == "timestamp_out_of_range"
    assert pushes.stats().buffered == 1 and charges.stats().buffered == 1
