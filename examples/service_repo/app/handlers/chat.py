"""The chat endpoint: depends on the service, never on storage or experimental APIs."""

from __future__ import annotations

from app.services.chat import ChatService


class ChatHandler:
    def __init__(self, service: ChatService) -> None:
        self.service = service

    async def __call__(self, text: str) -> str:
        return await self.service.reply(text)
