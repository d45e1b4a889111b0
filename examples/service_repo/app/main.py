"""Composition root: builds the app and wires handlers, services and adapters explicitly."""

from __future__ import annotations

from app.adapters.queue import PlumegoQueue
from app.handlers.chat import ChatHandler
from app.services.chat import ChatService


def create_app() -> ChatHandler:
    return ChatHandler(ChatService(PlumegoQueue()))
