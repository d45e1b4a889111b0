"""The in-process broker: topics, glob and MQTT patterns, bounded subscriber buffers, request/reply and replay
history for late subscribers.

Owns delivery inside one process. Go shards its topic map and runs a worker pool; one asyncio event loop needs
neither (delivery to a subscriber is appending to its buffer), so ``publish`` delivers in publish order to every
subscriber and per-key ordering holds trivially. To reach subscribers in other workers or on other machines, wrap
it with a bridge to a real broker (planned: Redis pub/sub, NATS, MQTT). Imports only the standard library and this
package.
"""

from __future__ import annotations

import itertools
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._message import Message, new_message
from ._patterns import compile_glob, compile_mqtt, validate_topic
from ._subscription import Policy, Subscription

__all__ = ["BrokerClosedError", "BrokerStats", "InProcBroker", "REPLY_TO", "CORRELATION_ID"]

REPLY_TO = "reply_to"
CORRELATION_ID = "correlation_id"
_INBOX = "_INBOX/"


class BrokerClosedError(RuntimeError):
    """The broker was closed."""


@dataclass(frozen=True, slots=True)
class BrokerStats:
    published: int
    delivered: int
    dropped: int
    subscriptions: int


class InProcBroker:
    """Publish/subscribe inside one process (Go's ``InProcBroker``).

    ``history``: how many recent messages to keep for ``subscribe(..., replay=N)`` (0: none). Subscriber defaults
    follow Go: buffer 16, ``Policy.DROP_OLDEST``, block timeout 50 ms.
    """

    def __init__(self, *, history: int = 0) -> None:
        if history < 0:
            raise ValueError("history must be >= 0")
        self._exact: dict[str, dict[str, Subscription]] = {}
        self._patterns: dict[str, Subscription] = {}
        self._history: deque[Message] = deque(maxlen=history)
        self._ids = itertools.count(1)
        self._closed = False
        self._keep_history = history > 0
        self._valid_topics: set[str] = set()     # topics that passed validate_topic (bounded, see publish)
        self.published = 0

    # -- subscribing ----------------------------------------------------------------------------------------------

    def subscribe(self, topic: str, *, buffer: int = 16, policy: Policy = Policy.DROP_OLDEST,
                  block_timeout: float = 0.05, replay: int = 0) -> Subscription:
        """Messages published to exactly ``topic``."""
        validate_topic(topic)
        sub = self._new(topic, "topic", lambda t: t == topic, buffer, policy, block_timeout)
        self._exact.setdefault(topic, {})[sub.id] = sub
        self._replay(sub, replay)
        return sub

    def subscribe_pattern(self, pattern: str, *, buffer: int = 16, policy: Policy = Policy.DROP_OLDEST,
                          block_timeout: float = 0.05, replay: int = 0) -> Subscription:
        """Messages whose topic matches a Go glob (``orders/*``, ``user.?``, ``[a-c]x``)."""
        sub = self._new(pattern, "glob", compile_glob(pattern), buffer, policy, block_timeout)
        self._patterns[sub.id] = sub
        self._replay(sub, replay)
        return sub

    def subscribe_mqtt(self, filter_: str, *, buffer: int = 16, policy: Policy = Policy.DROP_OLDEST,
                       block_timeout: float = 0.05, replay: int = 0) -> Subscription:
        """Messages whose topic matches an MQTT filter (``sensors/+/temp``, ``orders/#``)."""
        sub = self._new(filter_, "mqtt", compile_mqtt(filter_), buffer, policy, block_timeout)
        self._patterns[sub.id] = sub
        self._replay(sub, replay)
        return sub

    def _new(self, pattern: str, kind: str, match: Callable[[str], bool], buffer: int, policy: Policy,
             block_timeout: float) -> Subscription:
        if self._closed:
            raise BrokerClosedError("the broker is closed")
        return Subscription(f"sub-{next(self._ids)}", pattern, kind, match, buffer=buffer, policy=policy,
                            block_timeout=block_timeout, on_cancel=self._forget)

    def _forget(self, sub: Subscription) -> None:
        if sub.kind == "topic":
            subs = self._exact.get(sub.pattern)
            if subs is not None:
                subs.pop(sub.id, None)
                if not subs:
                    del self._exact[sub.pattern]
        else:
            self._patterns.pop(sub.id, None)

    def _replay(self, sub: Subscription, count: int) -> None:
        if count < 0:
            raise ValueError("replay must be >= 0")
        if count:
            sub.preload([m for m in self._history if sub.matches(m.topic)][-count:])

    # -- publishing -----------------------------------------------------------------------------------------------

    async def publish(self, topic: str, data: Any, *, type: str = "", meta: Mapping[str, str] | None = None) -> Message:
        """Deliver to every matching subscription by its policy; returns the message as delivered."""
        if topic not in self._valid_topics:       # the regex check once per topic, not once per message
            validate_topic(topic)
            if len(self._valid_topics) >= 4096:
                self._valid_topics.clear()
            self._valid_topics.add(topic)
        message = new_message(topic, data, type=type, meta=meta)
        delivered, blocked = self._offer(message)
        for sub in blocked:                        # BLOCK_WITH_TIMEOUT subscribers with a full buffer: wait
            await sub.offer(message)
        return message

    async def deliver(self, message: Message) -> int:
        """Deliver an existing message (used by bridges to hand on what another process published)."""
        delivered, blocked = self._offer(message)
        for sub in blocked:
            delivered += await sub.offer(message)
        return delivered

    def _offer(self, message: Message) -> tuple[int, list[Subscription]]:
        """Buffer the message in every matching subscription that does not have to wait (no coroutine, no
        await: the common case); returns how many took it and the subscriptions that must wait for room. Each
        subscription still sees messages in publish order, since ``publish`` returns after the waits."""
        if self._closed:
            raise BrokerClosedError("the broker is closed")
        self.published += 1
        if self._keep_history:
            self._history.append(message)
        exact = self._exact.get(message.topic)
        if self._patterns:
            topic = message.topic
            targets: Any = [*(exact.values() if exact else ()), *(s for s in self._patterns.values()
                                                                  if s.matches(topic))]
        elif exact:
            targets = tuple(exact.values())       # a copy: a CLOSE_SUBSCRIBER drop removes itself meanwhile
        else:
            return 0, []
        delivered = 0
        blocked: list[Subscription] = []
        for sub in targets:
            buffered = sub.offer_nowait(message)
            if buffered is None:
                blocked.append(sub)
            else:
                delivered += buffered
        return delivered, blocked

    # -- request / reply ------------------------------------------------------------------------------------------

    async def request(self, topic: str, data: Any, *, timeout: float = 5.0, type: str = "",
                      meta: Mapping[str, str] | None = None) -> Message:
        """Publish with a private reply inbox and wait for the first reply. TimeoutError when none comes; a request
        nobody subscribes to fails at once with LookupError instead of waiting out the timeout."""
        inbox = f"{_INBOX}{uuid.uuid4().hex}"
        correlation = uuid.uuid4().hex
        reply_sub = self._new(inbox, "topic", lambda t: t == inbox, 1, Policy.DROP_NEWEST, 0)
        self._exact.setdefault(inbox, {})[reply_sub.id] = reply_sub
        try:
            message = new_message(topic, data, type=type,
                                  meta={**(meta or {}), REPLY_TO: inbox, CORRELATION_ID: correlation})
            validate_topic(topic)
            if not await self.deliver(message):
                raise LookupError(f"no subscriber for request topic {topic!r}")
            return await reply_sub.get(timeout=timeout)
        finally:
            reply_sub.cancel()

    async def reply(self, request: Message, data: Any, *, type: str = "") -> bool:
        """Answer a request message; False when it carried no reply inbox or the requester is gone."""
        inbox = request.meta.get(REPLY_TO)
        if not inbox or not inbox.startswith(_INBOX):
            return False
        message = new_message(inbox, data, type=type,
                              meta={CORRELATION_ID: request.meta.get(CORRELATION_ID, "")})
        return bool(await self.deliver(message))

    # -- state ----------------------------------------------------------------------------------------------------

    def stats(self) -> BrokerStats:
        subs = [*(s for d in self._exact.values() for s in d.values()), *self._patterns.values()]
        return BrokerStats(self.published, sum(s.delivered for s in subs), sum(s.dropped for s in subs), len(subs))

    async def close(self) -> None:
        """Close every subscription (buffered messages can still be read) and refuse new publishes."""
        self._closed = True
        for sub in [*(s for d in self._exact.values() for s in d.values()), *self._patterns.values()]:
            sub.close()
