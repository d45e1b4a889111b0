"""Close codes, stable handshake error codes, room-name and message validation for x/websocket.

Close codes are Go plumego's (RFC 6455): 1000 normal, 1001 going away, 1002 protocol, 1003 unsupported data, 1007
invalid payload (bad UTF-8), 1008 policy, 1009 too big, 1011 internal error. Imports only the standard library and
plumego.contract.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from plumego.contract import APIError, ErrorType

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_INTERNAL_ERROR",
    "CLOSE_INVALID_PAYLOAD",
    "CLOSE_MESSAGE_TOO_BIG",
    "CLOSE_NORMAL",
    "CLOSE_POLICY_VIOLATION",
    "CLOSE_PROTOCOL_ERROR",
    "CLOSE_UNSUPPORTED_DATA",
    "MessageRejected",
    "MessageValidation",
    "handshake_error",
    "sanitize_for_logging",
    "validate_room_name",
]

CLOSE_NORMAL: Final = 1000
CLOSE_GOING_AWAY: Final = 1001
CLOSE_PROTOCOL_ERROR: Final = 1002
CLOSE_UNSUPPORTED_DATA: Final = 1003
CLOSE_INVALID_PAYLOAD: Final = 1007
CLOSE_POLICY_VIOLATION: Final = 1008
CLOSE_MESSAGE_TOO_BIG: Final = 1009
CLOSE_INTERNAL_ERROR: Final = 1011

MAX_ROOM_NAME_BYTES: Final = 128
_ROOM = re.compile(r"[A-Za-z0-9._:-]+")

# Stable handshake error codes (the ``error.code`` of the refusal envelope) and their statuses.
_HANDSHAKE: Final = {
    "WS_ORIGIN_NOT_ALLOWED": ErrorType.FORBIDDEN,
    "WS_INVALID_ROOM": ErrorType.BAD_REQUEST,
    "WS_TOKEN_REQUIRED": ErrorType.UNAUTHORIZED,
    "WS_QUERY_TOKEN_NOT_ALLOWED": ErrorType.UNAUTHORIZED,
    "WS_INVALID_TOKEN": ErrorType.INVALID_TOKEN,
    "WS_ROOM_PASSWORD_REQUIRED": ErrorType.UNAUTHORIZED,
    "WS_ROOM_PASSWORD_INVALID": ErrorType.FORBIDDEN,
    "WS_ROOM_FORBIDDEN": ErrorType.FORBIDDEN,
    "WS_ROOM_FULL": ErrorType.UNAVAILABLE,
    "WS_HUB_FULL": ErrorType.UNAVAILABLE,
    "WS_HUB_STOPPED": ErrorType.UNAVAILABLE,
}


def handshake_error(code: str, message: str) -> APIError:
    """The refusal for a handshake check, with its stable code (``WS_ROOM_FULL`` ...) and status."""
    return APIError(_HANDSHAKE[code], message, code=code)


def validate_room_name(room: str) -> str:
    """Go's rule: ``[A-Za-z0-9._:-]``, 1..128 bytes. Raises ValueError naming the problem."""
    if not room:
        raise ValueError("room name is empty")
    if len(room.encode("utf-8")) > MAX_ROOM_NAME_BYTES:
        raise ValueError(f"room name is longer than {MAX_ROOM_NAME_BYTES} bytes")
    if not _ROOM.fullmatch(room):
        raise ValueError("room name may contain only letters, digits, '.', '_', ':' and '-'")
    return room


class MessageRejected(Exception):
    """An inbound message broke the validation rules; ``code`` is the close code to answer with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _is_control(ch: str) -> bool:
    return ch not in "\n\r\t" and unicodedata.category(ch) == "Cc"


@dataclass(frozen=True, slots=True)
class MessageValidation:
    """Go's ``MessageValidationConfig``: at most ``max_bytes`` per whole message (1 MiB), UTF-8 required (a binary
    message must decode too; a text one already did, on the server), control characters rejected except newline,
    carriage return and tab. ``allow_binary=False`` closes on any binary message with 1003."""

    max_bytes: int = 1 << 20
    require_utf8: bool = True
    reject_control_chars: bool = True
    allow_binary: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.max_bytes <= 64 << 20:
            raise ValueError("max_bytes must be between 1 and 64 MiB")

    def check(self, data: str | bytes) -> str | bytes:
        """Return ``data`` when acceptable; raise :class:`MessageRejected` with the close code otherwise."""
        if isinstance(data, bytes):
            if not self.allow_binary:
                raise MessageRejected(CLOSE_UNSUPPORTED_DATA, "binary messages are not accepted")
            if len(data) > self.max_bytes:
                raise MessageRejected(CLOSE_MESSAGE_TOO_BIG, f"message larger than {self.max_bytes} bytes")
            if not self.require_utf8:
                return data
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise MessageRejected(CLOSE_INVALID_PAYLOAD, "message is not valid UTF-8") from None
        else:
            text = data
            # the UTF-8 length without encoding a large message twice: ascii is the common case
            size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
            if size > self.max_bytes:
                raise MessageRejected(CLOSE_MESSAGE_TOO_BIG, f"message larger than {self.max_bytes} bytes")
        if self.reject_control_chars and not (text.isascii() and text.isprintable()):
            if any(_is_control(ch) for ch in text):
                raise MessageRejected(CLOSE_POLICY_VIOLATION, "message contains control characters")
        return data


def sanitize_for_logging(data: str | bytes, limit: int = 200) -> str:
    """A log-safe preview: control characters escaped, at most ``limit`` characters, bytes shown as ``<N bytes>``
    when they are not UTF-8."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            return f"<{len(data)} bytes>"
    cut = data[:limit]
    out = "".join(ch if not unicodedata.category(ch).startswith("C") else ch.encode("unicode_escape").decode()
                  for ch in cut)
    return out + ("..." if len(data) > limit else "")
