"""A subscriber's bounded buffer and what happens when it is full (Go's backpressure policies).

Owns one subscription: its buffer, policy, counters and closing. Imports only the standard library and this
package's message and pattern modules.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ._message import Message

__all__ = ["Policy", "Subscription", "SubscriptionClosed", "SubscriptionStats"]


class Policy(enum.Enum):
    """What ``publish`` does when a subscriber's buffer is full."""

    DROP_OLDEST = "drop_oldest"          # Go's default: the oldest buffered message makes room
    DROP_NEWEST = "drop_newest"          # the new message is dropped for this subscriber
    BLOCK_WITH_TIMEOUT = "block_timeout"  # the publisher waits up to block_timeout, then drops the new message
    CLOSE_SUBSCRIBER = "close"           # the subscription is closed (a slow consumer is cut off)


class SubscriptionClosed(Exception):
    """The subscription was cancelled or closed and its buffer is drained."""


@dataclass(frozen=True, slots=True)
class SubscriptionStats:
    delivered: int
    dropped: int
    buffered: int


class Subscription:
    """Receive with ``await sub.get()`` or ``async for message in sub``; ``cancel()`` ends it."""

    def __init__(self, sub_id: str, pattern: str, kind: str, match: Callable[[str], bool], *, buffer: int,
                 policy: Policy, block_timeout: float, on_cancel: Callable[[Subscription], None]) -> None:
        if buffer < 1:
            raise ValueError("buffer must be >= 1")
        if block_timeout < 0:
            raise ValueError("block_timeout must be >= 0")
        self.id = sub_id
        self.pattern = pattern
        self.kind = kind            # "topic", "glob" or "mqtt"
        self.matches = match
        self.policy = policy
        self.block_timeout = block_timeout
        self._buffer: deque[Message] = deque()
        self._size = buffer
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = False
        self._on_cancel = on_cancel
        self.delivered = 0
        self.dropped = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> SubscriptionStats:
        return SubscriptionStats(self.delivered, self.dropped, len(self._buffer))

    def offer_nowait(self, message: Message) -> bool | None:
        """The broker's fast path: buffer ``message`` without waiting; None when the policy says to wait."""
        if self._closed:
            return False
        if len(self._buffer) < self._size:
            self._buffer.append(message)
            self._readable.set()
            return True
        if self.policy is Policy.BLOCK_WITH_TIMEOUT:
            return None
        if self.policy is Policy.DROP_OLDEST:
            self._buffer.popleft()
            self.dropped += 1
            self._buffer.append(message)
            return True
        self.dropped += 1
        if self.policy is Policy.CLOSE_SUBSCRIBER:
            self.close()
        return False

    async def offer(self, message: Message) -> bool:
        """Called by the broker: buffer ``message`` by the policy; True when it was buffered."""
        if self._closed:
            return False
        if len(self._buffer) >= self._size:
            if self.policy is Policy.DROP_OLDEST:
                self._buffer.popleft()
                self.dropped += 1
            elif self.policy is Policy.DROP_NEWEST:
                self.dropped += 1
                return False
            elif self.policy is Policy.CLOSE_SUBSCRIBER:
                self.dropped += 1
                self.close()
                return False
            else:
                try:
                    while len(self._buffer) >= self._size and not self.closed:
                        self._writable.clear()
                        await asyncio.wait_for(self._writable.wait(), self.block_timeout)
                except TimeoutError:
                    self.dropped += 1
                    return False
                if self.closed:
                    return False
        self._buffer.append(message)
        self._readable.set()
        return True

    def preload(self, messages: list[Message]) -> None:
        """Put replayed history in front of anything published later (called before the first publish)."""
        self._buffer.extend(messages[-self._size:])
        if self._buffer:
            self._readable.set()

    async def get(self, timeout: float | None = None) -> Message:
        """The next message; waits for one. Raises SubscriptionClosed once closed and drained, TimeoutError after
        ``timeout`` seconds without a message."""
        while not self._buffer:
            if self._closed:
                raise SubscriptionClosed(self.id)
            self._readable.clear()
            if timeout is None:
                await self._readable.wait()
            else:
                await asyncio.wait_for(self._readable.wait(), timeout)
        message = self._buffer.popleft()
        self.delivered += 1
        if self.policy is Policy.BLOCK_WITH_TIMEOUT:
            self._writable.set()
        return message

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        try:
            return await self.get()
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    def close(self) -> None:
        """Stop receiving; what is buffered can still be read, then ``get`` raises SubscriptionClosed."""
        if not self._closed:
            self._closed = True
            self._readable.set()
            self._writable.set()
            self._on_cancel(self)

    def cancel(self) -> None:
        """Stop receiving and drop what is buffered."""
        self._buffer.clear()
        self.close()
