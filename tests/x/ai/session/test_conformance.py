"""One conformance suite for every session storage: memory, SQLite and Redis (the real server, own key prefix).
Differences are capability flags (``shared``), never skipped assertions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from plumego.x.ai.provider import ContentBlock, Message, Role, ToolUse
from plumego.x.ai.session import (BudgetExceeded, Manager, SessionConfig, SessionExpired, SessionNotFound,
                                  SessionStorage, open_storage)

Opener = Callable[[], SessionStorage]


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    opened: list[SessionStorage] = []
    if request.param == "memory":
        shared = open_storage("memory://")

        def make() -> SessionStorage:
            return shared
    elif request.param == "sqlite":
        def make() -> SessionStorage:
            return open_storage(f"sqlite:///{tmp_path}/sessions.db")
    else:
        url, prefix = request.getfixturevalue("redis_namespace")

        def make() -> SessionStorage:
            return open_storage(f"{url}?prefix={{{prefix}}}")

    def tracked() -> SessionStorage:
        storage = make()
        opened.append(storage)
        return storage

    yield tracked
    for storage in {id(s): s for s in opened}.values():
        await storage.aclose()


class Clock:
    def __init__(self) -> None:
        import time
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_create_get_delete_and_expiry(opener: Opener) -> None:
    clock = Clock()
    manager = Manager(opener(), clock=clock, config=SessionConfig(ttl=60))
    session = await manager.create(tenant_id="t1", user_id="u1", model="m", metadata={"plan": "pro"})
    got = await manager.get(session.id)
    assert (got.tenant_id, got.user_id, got.model, got.metadata) == ("t1", "u1", "m", {"plan": "pro"})
    clock.now += 61
    with pytest.raises(SessionExpired):
        await manager.get(session.id)
    with pytest.raises(SessionNotFound):
        await manager.get(session.id)
    other = await manager.create()
    assert await manager.delete(other.id) and not await manager.delete(other.id)
    with pytest.raises(SessionNotFound):
        await manager.get("no-such-id")
    short = await manager.create(ttl=5)
    clock.now += 4
    await manager.extend(short.id, 100)
    clock.now += 50
    assert (await manager.get(short.id)).id == short.id


async def test_messages_round_trip_with_blocks_and_paging(opener: Opener) -> None:
    manager = Manager(opener())
    sid = (await manager.create()).id
    use = ToolUse("call_1", "calculator", {"expression": "6*7"})
    messages = [Message(Role.SYSTEM, "be brief"), Message(Role.USER, "what is 6*7?"),
                Message(Role.ASSISTANT, [ContentBlock.of_text("computing"), ContentBlock.of_tool_use(use)]),
                Message(Role.USER, [ContentBlock.of_tool_result("call_1", "42"),
                                    ContentBlock.of_image(media_type="image/png", data="aGk=")])]
    for m in messages:
        session = await manager.append_message(sid, m)
    assert session.token_count == sum(manager.count(m) for m in messages) and session.version == 5
    assert await manager.get_messages(sid) == messages
    assert await manager.get_messages(sid, offset=1, limit=2) == messages[1:3]
    await manager.set_context(sid, "topic", {"name": "math"})
    assert await manager.get_context(sid, "topic") == {"name": "math"}
    assert await manager.get_context(sid, "missing", "d") == "d"


async def test_auto_trim_keeps_system_messages_and_budgets(opener: Opener) -> None:
    manager = Manager(opener(), config=SessionConfig(max_messages=4, max_tokens=10_000))
    sid = (await manager.create()).id
    await manager.append_message(sid, Message(Role.SYSTEM, "rules"))
    for i in range(6):
        await manager.append_message(sid, Message(Role.USER, f"message {i}"))
    texts = [m.text() for m in await manager.get_messages(sid)]
    assert texts == ["rules", "message 3", "message 4", "message 5"]
    tight = Manager(manager.storage, config=SessionConfig(max_tokens=30))
    sid2 = (await tight.create()).id
    for i in range(10):
        await tight.append_message(sid2, Message(Role.USER, f"word{i} " * 3))
    session = await tight.get(sid2)
    assert session.token_count <= 30 and session.messages[-1].message.text() == "word9 " * 3
    await tight.trim_messages(sid2, 1)
    assert len(await tight.get_messages(sid2)) == 1


async def test_budget_errors_when_auto_trim_is_off(opener: Opener) -> None:
    manager = Manager(opener(), config=SessionConfig(max_messages=2, auto_trim=False))
    sid = (await manager.create()).id
    await manager.append_message(sid, Message(Role.USER, "a"))
    await manager.append_message(sid, Message(Role.USER, "b"))
    with pytest.raises(BudgetExceeded):
        await manager.append_message(sid, Message(Role.USER, "c"))
    assert [m.text() for m in await manager.get_messages(sid)] == ["a", "b"]
    with pytest.raises(BudgetExceeded):
        await Manager(manager.storage, config=SessionConfig(max_tokens=5)).append_message(
            sid, Message(Role.USER, "far too long a message for five tokens"))


async def test_active_context_is_the_newest_that_fit(opener: Opener) -> None:
    manager = Manager(opener())
    sid = (await manager.create()).id
    await manager.append_message(sid, Message(Role.SYSTEM, "sys"))
    for i in range(10):
        await manager.append_message(sid, Message(Role.USER, f"turn {i}"))
    cost = manager.count(Message(Role.USER, "turn 0"))
    active = await manager.active_context(sid, manager.count(Message(Role.SYSTEM, "sys")) + 3 * cost)
    assert [m.text() for m in active] == ["sys", "turn 7", "turn 8", "turn 9"]
    assert await manager.active_context(sid, 0) == []


async def test_concurrent_appends_from_two_managers_lose_nothing(opener: Opener) -> None:
    first, second = Manager(opener()), Manager(opener())
    sid = (await first.create()).id
    await asyncio.gather(*(m.append_message(sid, Message(Role.USER, f"n{i}"))
                           for i, m in enumerate([first, second] * 10)))
    texts = sorted(m.text() for m in await second.get_messages(sid))
    assert texts == sorted(f"n{i}" for i in range(20))
    assert (await first.get(sid)).version == 21
    if first.storage.shared:
        assert first.storage is not second.storage or first.storage.name == "memory"


async def test_purge_expired(opener: Opener) -> None:
    clock = Clock()
    manager = Manager(opener(), clock=clock)
    await manager.create(ttl=1)
    keep = await manager.create(ttl=100)
    clock.now += 2
    removed = await manager.purge_expired()
    assert removed == (0 if manager.storage.name == "redis" else 1)     # Redis expires keys itself (PEXPIREAT)
    assert (await manager.get(keep.id)).id == keep.id


def test_storage_urls(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        open_storage("mongodb://x")
    with pytest.raises(ValueError):
        open_storage("sqlite://")
