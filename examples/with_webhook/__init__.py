"""with_webhook: GitHub and Stripe webhook receivers that verify, deduplicate and publish (Go's with-webhook).

``python -m examples.with_webhook [--port P] [--backend redis://...]`` with ``GITHUB_WEBHOOK_SECRET`` and/or
``STRIPE_WEBHOOK_SECRET`` in the environment or ``.env``. POST /webhooks/github and /webhooks/stripe verify the
signature, answer a redelivery with 200 ``duplicate`` and publish the event to pub/sub (``in.github.<event>``,
``in.stripe.<type>``); GET /events shows what was received. With ``--backend redis://...`` deliveries are
deduplicated across every instance (a shared nonce store). Experimental APIs stay in ``adapters/webhooks.py``.
"""
