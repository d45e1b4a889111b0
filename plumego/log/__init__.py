"""plumego.log: Structured logging: text and JSON loggers with levels, fields and redaction of secret-looking keys.

Stable root (ga). Imports only the standard library;
never plumego.x, the reference app or tooling.
"""

from plumego.log._escape import escape_unsafe, truncate
from plumego.log._logger import (
    DiscardLogger,
    Fields,
    JSONLogger,
    Level,
    LogFormat,
    LoggerConfig,
    StructuredLogger,
    TextLogger,
    new_logger,
    parse_level,
)
from plumego.log._redact import REDACTED, SECRET_KEY_FRAGMENTS, is_secret_key, redact_fields

__all__ = [
    "REDACTED",
    "SECRET_KEY_FRAGMENTS",
    "DiscardLogger",
    "Fields",
    "JSONLogger",
    "Level",
    "LogFormat",
    "LoggerConfig",
    "StructuredLogger",
    "TextLogger",
    "escape_unsafe",
    "is_secret_key",
    "new_logger",
    "parse_level",
    "redact_fields",
    "truncate",
]
