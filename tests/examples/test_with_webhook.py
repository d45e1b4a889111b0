"""examples/with_webhook as a user runs it: signed GitHub and Stripe deliveries accepted once, forged ones refused,
redeliveries deduplicated across two instances sharing Redis, a missing secret refused at startup, and
plumego-lint in service mode passing on it."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid

import pytest
from example_server import REPO, call, serve

SECRETS = {"GITHUB_WEBHOOK_SECRET": "gh-secret", "STRIPE_WEBHOOK_SECRET": "st-secret"}


def github(body: bytes, delivery: str, secret: str = "gh-secret") -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery}


def test_receivers() -> None:
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    event = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "invoice.paid"}).encode()
    ts = int(time.time())
    stripe = {"Stripe-Signature": f"t={ts},v1=" + hmac.new(b"st-secret", f"{ts}.".encode() + event,
                                                             hashlib.sha256).hexdigest()}
    with serve("examples.with_webhook", env=SECRETS) as url:
        assert call(url + "/webhooks/github", raw=body, headers=github(body, "d-1")) == (202, {"status": "accepted"})
        assert call(url + "/webhooks/github", raw=body, headers=github(body, "d-1")) == (200, {"status": "duplicate"})
        status, err = call(url + "/webhooks/github", raw=body, headers=github(body, "d-2", secret="wrong"))
        assert status == 401 and err["error"]["details"]["reason"] == "invalid_signature"
        assert call(url + "/webhooks/stripe", raw=event, headers=stripe)[0] == 202
        topics = [e["topic"] for e in call(url + "/events")[1]["items"]]
        assert topics == ["in.github.push", "in.stripe.invoice.paid"]


@pytest.mark.services
def test_redeliveries_are_deduplicated_across_instances(redis_url: str) -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    delivery = f"d-{uuid.uuid4().hex}"
    with serve("examples.with_webhook", "--backend", redis_url, env=SECRETS) as a, \
            serve("examples.with_webhook", "--backend", redis_url, env=SECRETS) as b:
        assert call(a + "/webhooks/github", raw=body, headers=github(body, delivery))[0] == 202
        assert call(b + "/webhooks/github", raw=body, headers=github(body, delivery)) == (200, {"status": "duplicate"})


def test_startup_needs_a_secret() -> None:
    proc = subprocess.run([sys.executable, "-m", "examples.with_webhook", "--port", "0"], cwd=REPO,
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    assert proc.returncode == 2 and "GITHUB_WEBHOOK_SECRET" in proc.stderr


def test_plumego_lint_service_mode() -> None:
    proc = subprocess.run([sys.executable, "-m", "plumego_lint", "check"], cwd=REPO / "examples" / "with_webhook",
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
