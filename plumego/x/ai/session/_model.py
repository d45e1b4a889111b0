"""The session record and its JSON form (messages keep their blocks), shared by every storage backend.

Imports the standard library and x/ai.provider types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..provider import ContentBlock, Message, ToolUse

__all__ = ["Session", "SessionError", "SessionExpired", "SessionNotFound", "StoredMessage", "VersionConflict"]


class SessionError(Exception):
    """Base of the session errors."""


class SessionNotFound(SessionError, KeyError):
    pass


class SessionExpired(SessionNotFound):
    """The session's TTL has passed; it was removed."""


class VersionConflict(SessionError):
    """Another writer changed the session first (the manager retries)."""


@dataclass(slots=True)
class StoredMessage:
    message: Message
    tokens: int
    at: float


@dataclass(slots=True)
class Session:
    id: str
    created_at: float
    expires_at: float
    tenant_id: str = ""
    user_id: str = ""
    agent_id: str = ""
    model: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    messages: list[StoredMessage] = field(default_factory=list)
    updated_at: float = 0.0
    version: int = 0

    @property
    def token_count(self) -> int:
        return sum(m.tokens for m in self.messages)

    def to_json(self) -> str:
        return json.dumps({
            "id": self.id, "created_at": self.created_at, "expires_at": self.expires_at, "updated_at": self.updated_at,
            "tenant_id": self.tenant_id, "user_id": self.user_id, "agent_id": self.agent_id, "model": self.model,
            "metadata": self.metadata, "context": self.context, "version": self.version,
            "messages": [{"tokens": m.tokens, "at": m.at, **message_to_dict(m.message)} for m in self.messages]},
            separators=(",", ":"))

    @staticmethod
    def from_json(text: str | bytes) -> Session:
        d = json.loads(text)
        return Session(d["id"], d["created_at"], d["expires_at"], d.get("tenant_id", ""), d.get("user_id", ""),
                       d.get("agent_id", ""), d.get("model", ""), d.get("metadata") or {}, d.get("context") or {},
                       [StoredMessage(message_from_dict(m), int(m.get("tokens", 0)), float(m.get("at", 0)))
                        for m in d.get("messages") or []], d.get("updated_at", 0.0), int(d.get("version", 0)))


def message_to_dict(msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": str(msg.role)}
    if msg.name:
        out["name"] = msg.name
    if msg.tool_call_id:
        out["tool_call_id"] = msg.tool_call_id
    if isinstance(msg.content, str):
        out["content"] = msg.content
        return out
    blocks = []
    for b in msg.content:
        item: dict[str, Any] = {"type": b.type}
        for key in ("text", "media_type", "data", "url", "tool_use_id"):
            if getattr(b, key):
                item[key] = getattr(b, key)
        if b.is_error:
            item["is_error"] = True
        if b.tool_use is not None:
            item["tool_use"] = {"id": b.tool_use.id, "name": b.tool_use.name, "input": dict(b.tool_use.input)}
        blocks.append(item)
    out["content"] = blocks
    return out


def message_from_dict(d: dict[str, Any]) -> Message:
    content = d.get("content", "")
    if isinstance(content, list):
        blocks = []
        for b in content:
            use = b.get("tool_use")
            blocks.append(ContentBlock(b["type"], b.get("text", ""), b.get("media_type", ""), b.get("data", ""),
                                       b.get("url", ""), ToolUse(use["id"], use["name"], use["input"]) if use else None,
                                       b.get("tool_use_id", ""), bool(b.get("is_error", False))))
        content = tuple(blocks)
    return Message(d["role"], content, d.get("name", ""), d.get("tool_call_id", ""))
