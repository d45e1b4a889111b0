"""Redaction of secret-looking field keys before a log line is rendered.

Owns the documented list of key fragments treated as secrets. Imports only the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

REDACTED: Final = "***"

# A key is secret when its lowercased form, with "-" read as "_", contains any of these fragments.
# Substring matching is deliberate: "access_token", "X-Api-Key", "db_password" and "Set-Cookie" are all caught.
SECRET_KEY_FRAGMENTS: Final[tuple[str, ...]] = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
    "signature",
    "private_key",
    "credential",
)

# One compiled alternation: a single C-level scan of the folded key instead of one substring test per fragment.
_SECRET_PATTERN: Final = re.compile("|".join(re.escape(fragment) for fragment in SECRET_KEY_FRAGMENTS))

# Nested containers deeper than this are rendered as-is; it bounds work on hostile, self-referencing values.
_MAX_DEPTH: Final = 16


def is_secret_key(key: str, extra_fragments: tuple[str, ...] = ()) -> bool:
    """Return True when ``key`` looks like it names a secret (case-insensitive, see SECRET_KEY_FRAGMENTS).

    ``extra_fragments`` must already be lowercased with ``-`` replaced by ``_``.
    """
    folded = key.lower().replace("-", "_")
    if _SECRET_PATTERN.search(folded) is not None:
        return True
    return any(fragment in folded for fragment in extra_fragments)


def redact_fields(fields: Mapping[str, object], extra_fragments: tuple[str, ...] = ()) -> dict[str, object]:
    """Return a copy of ``fields`` whose secret-looking keys hold ``"***"``, recursing into mappings and lists."""
    return {
        key: (REDACTED if is_secret_key(key, extra_fragments) else _redact_value(value, extra_fragments, 1))
        for key, value in fields.items()
    }


def _redact_value(value: object, extra: tuple[str, ...], depth: int) -> object:
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            key: (
                REDACTED
                if isinstance(key, str) and is_secret_key(key, extra)
                else _redact_value(item, extra, depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact_value(item, extra, depth + 1) for item in value]
    return value
