"""The transports of the bridge suite: each test runs once per real server, in a namespace of its own."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.conftest import require_service

TRANSPORTS = {
    "redis": ("redis", "PLUMEGO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "nats": ("nats", "PLUMEGO_TEST_NATS_URL", "nats://127.0.0.1:4222"),
    "mqtt": ("mosquitto", "PLUMEGO_TEST_MOSQUITTO_URL", "mqtt://127.0.0.1:1883"),
}
CLIENTS = {"redis": "redis", "nats": "nats", "mqtt": "aiomqtt"}


@pytest.fixture(params=sorted(TRANSPORTS))
def bridge_url(request: pytest.FixtureRequest) -> str:
    service, env, default = TRANSPORTS[request.param]
    pytest.importorskip(CLIENTS[request.param], reason=f"the {request.param} client is not installed")
    require_service(service)
    base = os.environ.get(env) or default
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}namespace=t{uuid.uuid4().hex[:12]}"
