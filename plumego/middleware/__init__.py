"""plumego.middleware: Pure ASGI middleware: request id, recovery, access log, metrics, tracing, body limit, timeout, CORS, compression, concurrency limit, security headers, abuse guard, auth and coalescing.

Stable root (ga). Imports only the standard library and plumego.contract, plumego.log, plumego.metrics, plumego.security;
never plumego.x, the reference app or tooling.
"""
