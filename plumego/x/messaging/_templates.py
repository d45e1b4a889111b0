"""``{{key}}`` templates (Go's TemplateEngine): a template refers to parameters by name; a missing one is an error,
not an empty string. Imports only the standard library."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["TemplateError", "render"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")


class TemplateError(ValueError):
    """A template names a parameter that was not given."""


def render(template: str, params: Mapping[str, object]) -> str:
    missing = sorted({m.group(1) for m in _PLACEHOLDER.finditer(template) if m.group(1) not in params})
    if missing:
        raise TemplateError(f"missing template parameters: {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), template)
