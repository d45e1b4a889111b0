"""plumego.x.resilience (experimental): Resilience primitives: circuit breaker, retries with backoff, rate limiting.

Planned contents are listed in module.yaml; this package holds no code yet.
May import the stable roots its module.yaml allows; never the reference app or tooling.
"""
