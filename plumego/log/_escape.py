"""Making untrusted text safe to write into one log line: escaping and length caps.

Owns the set of characters a log line never carries raw (every control, format, line/paragraph
separator, non-space separator and lone surrogate) and the visible truncation marker. Imports only
the standard library.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

# Code points escaped in every log line, text and JSON: Unicode categories Cc (C0 incl. NUL and ESC,
# DEL, C1 incl. U+0085 NEL and U+009B CSI), Cf (format: soft hyphen, zero-width and bidi controls such
# as U+202E, BOM, tags), Cs (lone surrogates, which cannot even be encoded), Zl/Zp (U+2028, U+2029) and
# Zs except the ASCII space (U+00A0 would otherwise pass for a field separator). Generated from
# unicodedata 14.0 (CPython 3.11); tests/log/test_log_escape.py checks it against the running Python.
UNSAFE_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x0000, 0x001F), (0x007F, 0x00A0), (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C),
    (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x1680, 0x1680),
    (0x180E, 0x180E), (0x2000, 0x200F), (0x2028, 0x202F), (0x205F, 0x2064), (0x2066, 0x206F),
    (0x3000, 0x3000), (0xD800, 0xDFFF), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)

_SHORT: Final = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}


def _json_escape(code: int) -> str:
    """The JSON escape of one code point (astral ones as a surrogate pair), so an escaped JSON line stays valid."""
    short = _SHORT.get(code)
    if short is not None:
        return short
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


# A str.translate table: one C-level pass replaces every unsafe code point by its JSON escape.
ESCAPES: Final = MappingProxyType(
    {code: _json_escape(code) for low, high in UNSAFE_RANGES for code in range(low, high + 1)}
)


def escape_unsafe(text: str) -> str:
    """``text`` with every unsafe character replaced by its JSON escape (``\\n``, ``\\u0085``, ``\\u202e`` ...).

    Cheap when there is nothing to do: ``str.isprintable`` is False for every unsafe character, so
    printable text is returned as is without a second pass.
    """
    if text.isprintable():
        return text
    return text.translate(ESCAPES)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters plus a visible marker saying how much was left out.

    ``limit <= 0`` means no cap. The marker is ASCII, so a capped value never ends in half an escape.
    """
    if limit <= 0 or len(text) <= limit:
        return text
    return f"{text[:limit]}...[truncated {len(text) - limit} chars]"
