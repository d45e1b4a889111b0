"""with_messaging: publish events over plumego's pub/sub, in one process or across many.

``python -m examples.with_messaging [--host H] [--port P] [--backend redis://...|nats://...|mqtt://...]``.
POST /events/publish {"topic", "payload"} publishes (Go's with-messaging); GET /events/recent?pattern=orders/#
shows what this process received (MQTT filter). With ``--backend`` every instance receives what any instance
published, through Redis pub/sub, NATS or an MQTT broker. The experimental pub/sub API is used only in
``adapters/bus.py``, behind the app's own ``EventBus`` protocol.
"""
