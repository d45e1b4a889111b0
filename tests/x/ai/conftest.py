"""Fixtures of the x/ai tests: a local wire-format server per test, and a sleep that records instead of waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .wire_server import WireServer


@pytest.fixture
async def wire() -> AsyncIterator[WireServer]:
    server = WireServer()
    await server.start()
    yield server
    await server.close()


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()
