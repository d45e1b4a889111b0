"""plumego.contract: Wire contracts shared by every module: error and success envelopes, the canonical error table, request-id and trace carriers, and the ASGI Request/Response types.

Stable root (ga). Imports only the standard library;
never plumego.x, the reference app or tooling.
"""
