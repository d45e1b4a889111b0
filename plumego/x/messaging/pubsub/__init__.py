"""plumego.x.messaging.pubsub (experimental): publish/subscribe with topic patterns.

::

    broker = InProcBroker(history=100)
    sub = broker.subscribe_mqtt("orders/+/created")          # or subscribe("orders/eu/created"), subscribe_pattern
    await broker.publish("orders/eu/created", {"id": 42})
    message = await sub.get()

The in-process broker keeps Go's semantics: bounded subscriber buffers (16) with the DropOldest (default),
DropNewest, BlockWithTimeout and CloseSubscriber policies, Go glob and MQTT ``+``/``#`` patterns, request/reply and
replay history for late subscribers. Delivery is at most once per subscriber buffer. Bridges that carry messages to
other workers and machines (Redis pub/sub, NATS, MQTT) are not built yet.
Imports only the standard library; never plumego.core.
"""

from ._broker import CORRELATION_ID, REPLY_TO, BrokerClosedError, BrokerStats, InProcBroker
from ._message import Message, new_message
from ._patterns import compile_glob, compile_mqtt, validate_topic
from ._subscription import Policy, Subscription, SubscriptionClosed, SubscriptionStats

__all__ = [
    "CORRELATION_ID",
    "REPLY_TO",
    "BrokerClosedError",
    "BrokerStats",
    "InProcBroker",
    "Message",
    "Policy",
    "Subscription",
    "SubscriptionClosed",
    "SubscriptionStats",
    "compile_glob",
    "compile_mqtt",
    "new_message",
    "validate_topic",
]
