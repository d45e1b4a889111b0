"""plumego.log: Structured logging: text and JSON loggers with levels, fields and redaction of secret-looking keys.

Stable root (ga). Imports only the standard library;
never plumego.x, the reference app or tooling.
"""
