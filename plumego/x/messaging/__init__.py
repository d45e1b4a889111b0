"""plumego.x.messaging (beta): the notification service — SMS and email through providers, queued durably — and
the family's subpackages: mq (task queue), pubsub, scheduler and webhook (experimental).

::

    queue = await open_queue("sqlite:///queue.db")
    service = NotificationService(queue, SQLiteReceiptStore("receipts.db"), sms=Failover([primary, backup]),
                                  email=LogEmail())
    worker = Worker(queue)
    service.register(worker)
    register_routes(app, service)                    # POST /api/v1/messages/send, /batch, GET /:id/receipt, ...
    app.add_component("messaging-worker", worker)

Optional parts, as in Go's ``Config``: ``quota=QuotaChecker(SQLiteQuotaStore("quota.db"), [QuotaLimit("tenant",
"day", 1000)])`` (QUOTA_EXCEEDED, 429), ``monitor=ChannelMonitor()`` (healthy/degraded/unhealthy in GET /channels),
``metrics=CollectorMetrics(collector)`` (``sms_gateway_*``) and ``bus=broker`` with a :class:`WebhookNotifier`
(``messaging.<channel>.<status>`` webhook events).

May import the stable roots its module.yaml allows and its own subpackages; never plumego.core or the reference
app.
"""

from ._metrics import CollectorMetrics, MessagingMetrics, NoMetrics
from ._monitor import ChannelHealth, ChannelMonitor, ChannelState
from ._notifier import RESULT_TOPIC, WebhookNotifier
from ._providers import (
    EmailMessage,
    EmailProvider,
    Failover,
    HTTPEmailProvider,
    HTTPSMSProvider,
    LogEmail,
    LogSMS,
    ProviderError,
    RateLimited,
    SMSMessage,
    SMSProvider,
)
from ._quota import (
    MemoryQuotaStore,
    QuotaChecker,
    QuotaExceeded,
    QuotaLimit,
    QuotaStore,
    RedisQuotaStore,
    SQLiteQuotaStore,
)
from ._receipts import Receipt, ReceiptStatus, SQLiteReceiptStore
from ._routes import register_routes
from ._service import PRIORITIES, MessagingError, NotificationService, SendRequest
from ._templates import TemplateError, render

__all__ = [
    "PRIORITIES",
    "RESULT_TOPIC",
    "ChannelHealth",
    "ChannelMonitor",
    "ChannelState",
    "CollectorMetrics",
    "EmailMessage",
    "EmailProvider",
    "Failover",
    "HTTPEmailProvider",
    "HTTPSMSProvider",
    "LogEmail",
    "LogSMS",
    "MemoryQuotaStore",
    "MessagingError",
    "MessagingMetrics",
    "NoMetrics",
    "NotificationService",
    "ProviderError",
    "QuotaChecker",
    "QuotaExceeded",
    "QuotaLimit",
    "QuotaStore",
    "RateLimited",
    "RedisQuotaStore",
    "Receipt",
    "ReceiptStatus",
    "SMSMessage",
    "SMSProvider",
    "SQLiteQuotaStore",
    "SQLiteReceiptStore",
    "SendRequest",
    "TemplateError",
    "WebhookNotifier",
    "register_routes",
    "render",
]
