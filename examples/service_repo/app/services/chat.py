"""Chat replies. Stable code: it must not import experimental plumego APIs directly."""

from __future__ import annotations

from plumego.x import ai

from app.adapters.queue import EventQueue


class ChatService:
    def __init__(self, events: EventQueue) -> None:
        self.events = events

    async def reply(self, text: str) -> str:
        answer = await ai.complete(text)
        await self.events.publish("chat.replied", answer)
        return str(answer)
