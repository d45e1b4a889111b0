"""Graceful drain of a component's running tasks, shared by the queue worker and the scheduler.

Owns one helper: wait up to a timeout for running asyncio tasks, then cancel the rest and wait for them to end.
Imports only the standard library.
"""

from __future__ import annotations

import asyncio
from collections.abc import Set

__all__ = ["drain"]


async def drain(running: Set[asyncio.Task[None]], timeout: float) -> None:
    """Let ``running`` finish for up to ``timeout`` seconds; cancel what is left and wait until it has ended."""
    if not running:
        return
    _, pending = await asyncio.wait(set(running), timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
