"""The validation error: 422 ``VALIDATION_ERROR`` with one ``{"path", "reason"}`` detail per failing field.

Owns :class:`FieldError`, :class:`ValidationError` and the path spelling (``items[0].qty``; ``""`` is the body
itself). Imports the standard library and plumego.contract only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from plumego.contract import APIError, ErrorType

__all__ = ["MAX_FIELD_ERRORS", "FieldError", "ValidationError", "join_path"]

MAX_FIELD_ERRORS: Final = 50
"""A body with a thousand bad fields gets the first 50 reported (and ``truncated: true``), not a megabyte answer."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One failing field: where (``path``) and why (``reason``, client-safe words)."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


def join_path(path: Sequence[str | int]) -> str:
    """``("items", 0, "qty")`` -> ``items[0].qty``; ``()`` -> ``""`` (the body itself)."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(f".{part}" if out else str(part))
    return "".join(out)


class ValidationError(APIError):
    """422 ``VALIDATION_ERROR`` (type ``validation_failure``, category ``validation_error``), as Go's x/validate
    answers. ``details`` is ``{"fields": [{"path", "reason"}, ...]}`` plus ``truncated`` when capped."""

    __slots__ = ("fields",)

    def __init__(self, fields: Iterable[FieldError], message: str = "validation failed") -> None:
        listed = list(fields)
        shown = listed[:MAX_FIELD_ERRORS]
        details: dict[str, object] = {"fields": [f.to_dict() for f in shown]}
        if len(listed) > len(shown):
            details["truncated"] = True
        super().__init__(ErrorType.VALIDATION, message, details=details)
        # The canonical table gives validation_failure 400 (Go's contract does too); x/validate answers 422 like
        # Go's ValidationError does, keeping the type, code and category.
        self._status = 422
        self.fields: tuple[FieldError, ...] = tuple(shown)
