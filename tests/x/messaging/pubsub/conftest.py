"""The transports of the bridge suite: each test runs once per real server, in a namespace of its own."""

from __future__ import annotations

import uuid

import pytest

TRANSPORTS = {"redis": ("redis_url", "redis"), "nats": ("nats_url", "nats"), "mqtt": ("mosquitto_url", "aiomqtt")}


@pytest.fixture(params=sorted(TRANSPORTS))
def bridge_url(request: pytest.FixtureRequest) -> str:
    fixture, client = TRANSPORTS[request.param]
    pytest.importorskip(client, reason=f"the {request.param} client is not installed")
    base = request.getfixturevalue(fixture)       # skips (fails under CI=true) when the server is down
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}namespace=t{uuid.uuid4().hex[:12]}"
