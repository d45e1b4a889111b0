"""plumego.security: Security primitives: JWT issue and verify, password hashing, security header policies, input safety guards and the abuse guard.

Stable root (ga). Imports only the standard library and plumego.contract, plumego.log;
never plumego.x, the reference app or tooling.
"""
