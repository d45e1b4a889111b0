"""ASGI middleware for the chat service: transport concerns only."""
