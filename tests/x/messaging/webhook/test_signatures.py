"""Webhook signatures against vectors computed outside Python (openssl dgst -hmac) and GitHub's documented example:
ours verify theirs and theirs verify ours; every verification failure has its code."""

from __future__ import annotations

import uuid

import pytest

from plumego.x.messaging.webhook import (
    HMACConfig,
    MemoryNonceStore,
    RedisNonceStore,
    SignedFormat,
    WebhookVerificationError,
    outbound_headers,
    sign_v1,
    verify_github,
    verify_hmac,
    verify_stripe,
    verify_v1,
)

BODY = b'{"id":"evt_1","type":"order.created"}'
# printf '1700000000.{"id":"evt_1","type":"order.created"}' | openssl dgst -sha256 -hmac whsec_test
GO_V1 = "b4299661e5387b192e6a17c961991dce11e3adb10aabc368d96f3b7a148387e3"
# GitHub's documentation: secret "It's a Secret to Everybody", payload "Hello, World!"
GITHUB = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
# printf '1700000000.n-42.{"a":1}' | openssl dgst -sha512 -hmac k -binary | base64
SHA512_B64 = "QoESo+x4gd69wCqsN4fGjUx6qy/pSoyIeZUDj4sqAIphs48ex6E+b4jcBTjFvlfI+6KoJ410QvAoBDvLEYmYOg=="
# printf '1700000000.{"object":"event"}' | openssl dgst -sha256 -hmac whsec_stripe
STRIPE = "cbf56881d84dd58e7b275b455af452b34ea80968fb70e31e83bac2025b367681"
NOW = 1_700_000_010.0


def test_outbound_signature_matches_go() -> None:
    assert sign_v1("whsec_test", 1700000000, BODY) == GO_V1
    headers = outbound_headers(target_id="t1", event="order.created", delivery_id="d1", attempt=2, body=BODY,
                               secret="whsec_test", timestamp=1700000000)
    assert headers == {"Content-Type": "application/json", "X-Webhook-Id": "t1", "X-Webhook-Event": "order.created",
                       "X-Webhook-Delivery": "d1", "X-Webhook-Timestamp": "1700000000", "X-Webhook-Attempt": "2",
                       "X-Webhook-Signature": f"v1={GO_V1}"}
    assert verify_v1("whsec_test", 1700000000, BODY, f"v1={GO_V1}", now=NOW)
    assert verify_v1("whsec_test", 1700000000, BODY, f"v1=00, v1={GO_V1.upper()}", now=NOW)   # rotation, case
    assert not verify_v1("whsec_test", 1700000000, BODY + b" ", f"v1={GO_V1}", now=NOW)
    assert not verify_v1("whsec_test", 1700000000, BODY, f"v1={GO_V1}", now=NOW + 3600)       # stale
    assert not verify_v1("whsec_test", 1700000000, BODY, f"v0={GO_V1}", now=NOW)


async def test_github() -> None:
    store = MemoryNonceStore()
    headers = {"x-hub-signature-256": GITHUB, "X-GitHub-Delivery": "d-1"}
    await verify_github(headers, b"Hello, World!", "It's a Secret to Everybody", nonce_store=store)
    with pytest.raises(WebhookVerificationError) as info:
        await verify_github(headers, b"Hello, World!", "It's a Secret to Everybody", nonce_store=store)
    assert info.value.code == "replay_detected"
    with pytest.raises(WebhookVerificationError) as info:
        await verify_github({"X-Hub-Signature-256": GITHUB}, b"Hello, World?", "It's a Secret to Everybody")
    assert info.value.code == "invalid_signature" and info.value.status == 401
    with pytest.raises(WebhookVerificationError) as info:
        await verify_github({}, b"x", "s")
    assert info.value.code == "missing_signature"


def test_stripe() -> None:
    assert verify_stripe(f"t=1700000000,v1=deadbeef,v1={STRIPE}", b'{"object":"event"}', "whsec_stripe",
                         now=NOW) == 1700000000
    cases = [
        (None, "missing_signature"), ("t=1700000000", "missing_signature"), (f"v1={STRIPE}", "missing_timestamp"),
        (f"t=17e8,v1={STRIPE}", "invalid_timestamp"), (f"t=１７,v1={STRIPE}", "invalid_timestamp"),
        (f"t=1699990000,v1={STRIPE}", "timestamp_out_of_range"), ("t=1700000000,v1=00ff", "invalid_signature"),
    ]
    for header, code in cases:
        with pytest.raises(WebhookVerificationError) as info:
            verify_stripe(header, b'{"object":"event"}', "whsec_stripe", now=NOW)
        assert info.value.code == code, header


async def test_generic_hmac_formats_encodings_and_failures() -> None:
    store = MemoryNonceStore()
    config = HMACConfig(secret="k", header="X-Sig", algorithm="sha512", encoding="base64", nonce_store=store,
                        ip_allowlist=("10.0.0.0/8", "::1/128"))
    headers = {"X-Sig": SHA512_B64, "X-Timestamp": "1700000000", "X-Nonce": "n-42"}
    verified = await verify_hmac(headers, b'{"a":1}', config, client_ip="10.1.2.3", now=NOW)
    assert verified.timestamp == 1700000000 and verified.nonce == "n-42"
    failures = [
        (headers, "10.1.2.3", "replay_detected"),
        (headers, "192.168.1.1", "ip_denied"),
        (headers, "not-an-ip", "ip_denied"),
        ({**headers, "X-Sig": "%%%"}, "::1", "invalid_encoding"),
        ({**headers, "X-Nonce": "n-43"}, "::1", "invalid_signature"),
        ({k: v for k, v in headers.items() if k != "X-Nonce"}, "::1", "missing_nonce"),
        ({k: v for k, v in headers.items() if k != "X-Timestamp"}, "::1", "missing_timestamp"),
        ({k: v for k, v in headers.items() if k != "X-Sig"}, "::1", "missing_signature"),
    ]
    for hdrs, ip, code in failures:
        with pytest.raises(WebhookVerificationError) as info:
            await verify_hmac(hdrs, b'{"a":1}', config, client_ip=ip, now=NOW)
        assert info.value.code == code
    assert info.value.status == 401
    with pytest.raises(WebhookVerificationError) as info:
        await verify_hmac(headers, b"x" * 100, HMACConfig(secret="k", max_body=10), now=NOW)
    assert info.value.code == "body_too_large" and info.value.status == 413
    raw = HMACConfig(secret="whsec_test", header="X-Webhook-Signature", prefix="v1=",
                     signed_format=SignedFormat.TIMESTAMP_BODY, timestamp_header="X-Webhook-Timestamp")
    go_headers = {"X-Webhook-Signature": f"v1={GO_V1}", "X-Webhook-Timestamp": "1700000000"}
    assert (await verify_hmac(go_headers, BODY, raw, now=NOW)).timestamp == 1700000000   # Go's outbound, inbound
    with pytest.raises(ValueError):
        HMACConfig(secret="")
    with pytest.raises(ValueError):
        HMACConfig(secret="k", encoding="base32")


@pytest.mark.services
async def test_redis_nonce_store_is_shared(redis_url: str) -> None:
    redis = pytest.importorskip("redis.asyncio", reason="redis-py is not installed (pip install 'plumego[redis]')")
    prefix = f"t{uuid.uuid4().hex[:10]}:"
    first = RedisNonceStore(redis.Redis.from_url(redis_url), prefix)
    second = RedisNonceStore.from_url(redis_url, prefix)       # another worker
    try:
        assert await first.add_if_absent("n1", 60)
        assert not await second.add_if_absent("n1", 60)
        assert await second.add_if_absent("n2", 60)
    finally:
        await first._r.delete(prefix + "n1", prefix + "n2")
        await first._r.aclose()
        await second._r.aclose()
