"""plumego.store: Storage contracts and embedded implementations: cache, KV, file store and idempotency, standard library only.

Stable root (ga). Imports only the standard library and plumego.contract, plumego.log, plumego.metrics;
never plumego.x, the reference app or tooling.
"""
