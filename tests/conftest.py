"""Shared pytest fixtures: the repository root and real-service availability.

Tests that need PostgreSQL, Redis, NATS, RabbitMQ or Mosquitto call ``require_service``: on a
machine without the service they skip with the reason, except under CI=true, where a missing
service fails the test (CI machines start them before the run).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

SERVICES = {
    "postgres": ("127.0.0.1", 5432),
    "redis": ("127.0.0.1", 6379),
    "nats": ("127.0.0.1", 4222),
    "rabbitmq": ("127.0.0.1", 5672),
    "mosquitto": ("127.0.0.1", 1883),
}


def require_service(name: str) -> tuple[str, int]:
    """Return (host, port) of a running service, or skip (fail under CI=true) when it is down."""
    host, port = SERVICES[name]
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return host, port
    except OSError as exc:
        reason = f"{name} is not reachable on {host}:{port} ({exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
