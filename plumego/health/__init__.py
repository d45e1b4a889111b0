"""plumego.health: Health model: liveness and readiness states and the aggregation of component checks with timeouts.

Stable root (ga). Imports only the standard library;
never plumego.x, the reference app or tooling.
"""
