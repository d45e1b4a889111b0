"""plumego.core: The ASGI application kernel: App, configuration, explicit route and middleware wiring, lifecycle components and graceful shutdown.

Stable root (ga). Imports only the standard library and plumego.contract, plumego.router, plumego.middleware, plumego.health, plumego.log, plumego.metrics;
never plumego.x, the reference app or tooling.
"""
