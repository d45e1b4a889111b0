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

May import the stable roots its module.yaml allows and its own subpackages; never plumego.core or the reference
app.
"""

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
from ._receipts import Receipt, ReceiptStatus, SQLiteReceiptStore
from ._routes import register_routes
from ._service import PRIORITIES, MessagingError, NotificationService, SendRequest
from ._templates import TemplateError, render

__all__ = [
    "PRIORITIES",
    "EmailMessage",
    "EmailProvider",
    "Failover",
    "HTTPEmailProvider",
    "HTTPSMSProvider",
    "LogEmail",
    "LogSMS",
    "MessagingError",
    "NotificationService",
    "ProviderError",
    "RateLimited",
    "Receipt",
    "ReceiptStatus",
    "SMSMessage",
    "SMSProvider",
    "SQLiteReceiptStore",
    "SendRequest",
    "TemplateError",
    "register_routes",
    "render",
]
