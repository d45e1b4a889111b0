"""The session manager: create/get/update/delete with a TTL, appends that count tokens, message and token budgets
with auto-trim (oldest non-system messages go first), a key/value context, and the active context (the newest
messages that fit a token budget, leading system messages kept). Every change is a compare-and-set on the stored
version, retried on conflict, so several workers appending to one session lose nothing.

Imports the standard library and x/ai.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..provider import Message
from ..tokenizer import TokenCounter, counter_for
from ._model import Session, SessionError, SessionExpired, SessionNotFound, StoredMessage, VersionConflict
from ._storage import MemoryStorage, SessionStorage

__all__ = ["BudgetExceeded", "Manager", "SessionConfig"]

_OVERHEAD = 4


class BudgetExceeded(SessionError):
    """A message would take the session past its budget while auto-trim is off."""


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Go Plumego's defaults: TTL 24h, 1000 messages, 100k tokens, auto-trim on."""

    ttl: float = 24 * 3600.0
    max_messages: int = 1000
    max_tokens: int = 100_000
    auto_trim: bool = True
    max_retries: int = 50


class Manager:
    def __init__(self, storage: SessionStorage | None = None, *, counter: TokenCounter | None = None,
                 config: SessionConfig | None = None, clock: Callable[[], float] = time.time) -> None:
        self.storage: SessionStorage = storage or MemoryStorage()
        self.counter = counter or counter_for("", prefer_tiktoken=False)
        self.config = config or SessionConfig()
        self._clock = clock

    def count(self, message: Message) -> int:
        text = message.text() + "".join(str(dict(u.input)) + u.name for u in message.tool_uses())
        return self.counter.count(text) + _OVERHEAD

    async def create(self, *, tenant_id: str = "", user_id: str = "", agent_id: str = "", model: str = "",
                     ttl: float | None = None, metadata: Mapping[str, Any] | None = None) -> Session:
        now = self._clock()
        life = self.config.ttl if ttl is None else ttl
        if life <= 0:
            raise ValueError("ttl must be positive")
        session = Session(uuid.uuid4().hex, now, now + life, tenant_id, user_id, agent_id, model,
                          dict(metadata or {}), updated_at=now, version=1)
        if not await self.storage.store(session, 0):
            raise VersionConflict("session id collision")        # pragma: no cover - 128 random bits
        return session

    async def get(self, session_id: str) -> Session:
        session = await self.storage.load(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        if session.expires_at <= self._clock():
            await self.storage.delete(session_id)
            raise SessionExpired(session_id)
        return session

    async def delete(self, session_id: str) -> bool:
        return await self.storage.delete(session_id)

    async def update(self, session_id: str, change: Callable[[Session], None]) -> Session:
        """Apply ``change`` to the current session and store it; on a concurrent write, re-read and re-apply."""
        for _ in range(self.config.max_retries):
            session = await self.get(session_id)
            expected = session.version
            change(session)
            session.version = expected + 1
            session.updated_at = self._clock()
            if await self.storage.store(session, expected):
                return session
        raise VersionConflict(f"session {session_id} kept changing under {self.config.max_retries} retries")

    def _trim(self, session: Session) -> None:
        cfg = self.config
        while len(session.messages) > cfg.max_messages or session.token_count > cfg.max_tokens:
            index = next((i for i, m in enumerate(session.messages) if str(m.message.role) != "system"), None)
            if index is None or len(session.messages) == 1:
                break
            session.messages.pop(index)

    async def append_message(self, session_id: str, message: Message) -> Session:
        tokens = self.count(message)
        if tokens > self.config.max_tokens:
            raise BudgetExceeded(f"one message of {tokens} tokens exceeds the session budget "
                                 f"of {self.config.max_tokens}")

        def change(session: Session) -> None:
            session.messages.append(StoredMessage(message, tokens, self._clock()))
            over = (len(session.messages) > self.config.max_messages
                    or session.token_count > self.config.max_tokens)
            if over and not self.config.auto_trim:
                raise BudgetExceeded(f"session {session_id} would exceed its budget "
                                     f"({self.config.max_messages} messages, {self.config.max_tokens} tokens)")
            self._trim(session)
        return await self.update(session_id, change)

    async def get_messages(self, session_id: str, offset: int = 0, limit: int | None = None) -> list[Message]:
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError("offset and limit must not be negative")
        stored = (await self.get(session_id)).messages
        end = None if limit is None else offset + limit
        return [m.message for m in stored[offset:end]]

    async def trim_messages(self, session_id: str, keep_last: int) -> Session:
        if keep_last < 0:
            raise ValueError("keep_last must not be negative")

        def change(session: Session) -> None:
            system = [m for m in session.messages if str(m.message.role) == "system"]
            rest = [m for m in session.messages if str(m.message.role) != "system"]
            session.messages = system + (rest[-keep_last:] if keep_last else [])
        return await self.update(session_id, change)

    async def set_context(self, session_id: str, key: str, value: Any) -> None:
        await self.update(session_id, lambda s: s.context.__setitem__(key, value))

    async def get_context(self, session_id: str, key: str, default: Any = None) -> Any:
        return (await self.get(session_id)).context.get(key, default)

    async def extend(self, session_id: str, ttl: float) -> Session:
        return await self.update(session_id, lambda s: setattr(s, "expires_at", self._clock() + ttl))

    async def active_context(self, session_id: str, max_tokens: int) -> list[Message]:
        """Leading system messages (if they fit), then the newest messages that fit ``max_tokens``, in order."""
        session = await self.get(session_id)
        budget = max_tokens
        head: list[StoredMessage] = []
        for stored in session.messages:
            if str(stored.message.role) != "system" or stored.tokens > budget:
                break
            head.append(stored)
            budget -= stored.tokens
        tail: list[StoredMessage] = []
        for stored in reversed(session.messages[len(head):]):
            if stored.tokens > budget:
                break
            tail.append(stored)
            budget -= stored.tokens
        return [m.message for m in head + tail[::-1]]

    async def purge_expired(self) -> int:
        return await self.storage.purge_expired(self._clock())
