"""with_events: orders through a durable outbox to an idempotent consumer, with retries (Go's with-events).

``python -m examples.with_events [--port P] [--data-dir D] [--backend sqlite:///... | postgresql://... | redis://...
| nats://...]``. POST /orders {"item", "qty"} (an ``Idempotency-Key`` header makes retries safe) stores the order
and hands it to the durable task queue, keyed on the order id; a consumer publishes ``orders.created`` on pub/sub
and marks the order processed, once, however often the task is delivered; a failing consumer is retried with
back-off (an item named ``flaky`` fails its first attempt, to show it). GET /orders/:id shows the order and whether
it was processed. At startup, orders not yet processed are handed to the queue again (the dedupe key makes that
safe), so an order accepted just before a crash is not lost. Experimental APIs stay in ``adapters/outbox.py``.
"""
