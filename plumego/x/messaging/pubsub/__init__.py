"""plumego.x.messaging.pubsub (experimental): publish/subscribe with topic patterns.

::

    broker = InProcBroker(history=100)
    sub = broker.subscribe_mqtt("orders/+/created")          # or subscribe("orders/eu/created"), subscribe_pattern
    await broker.publish("orders/eu/created", {"id": 42})
    message = await sub.get()

The in-process broker keeps Go's semantics: bounded subscriber buffers (16) with the DropOldest (default),
DropNewest, BlockWithTimeout and CloseSubscriber policies, Go glob and MQTT ``+``/``#`` patterns, request/reply and
replay history for late subscribers. Delivery is at most once per subscriber buffer. A bridge
(``open_bridge(broker, "redis://..." | "nats://..." | "mqtt://...")``) carries published messages to the brokers of
other workers and machines, with the same pattern semantics on every transport.
Imports only the standard library; never plumego.core.
"""

from ._bridge import Bridge, open_bridge
from ._broker import CORRELATION_ID, REPLY_TO, BrokerClosedError, BrokerStats, InProcBroker
from ._message import Message, new_message
from ._patterns import compile_glob, compile_mqtt, validate_topic
from ._subscription import Policy, Subscription, SubscriptionClosed, SubscriptionStats

__all__ = [
    "CORRELATION_ID",
    "REPLY_TO",
    "Bridge",
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
    "open_bridge",
    "validate_topic",
]
