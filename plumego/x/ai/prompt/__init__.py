"""plumego.x.ai.prompt (experimental): prompt templates with ``{{variable}}`` placeholders, versions and tags.

Rendering is strict: a missing variable or an unknown one is an error, never a silently empty prompt. Templates
are plain data (no code runs while rendering). Imports the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PromptError", "PromptRegistry", "Template"]

_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class PromptError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    version: int
    text: str
    tags: frozenset[str] = field(default_factory=frozenset)
    defaults: Mapping[str, str] = field(default_factory=dict)

    @property
    def variables(self) -> set[str]:
        return set(_VAR.findall(self.text))

    def render(self, values: Mapping[str, Any] | None = None, **kw: Any) -> str:
        given = {**self.defaults, **(values or {}), **kw}
        missing = self.variables - set(given)
        if missing:
            raise PromptError(f"prompt {self.name} v{self.version} needs {sorted(missing)}")
        unknown = set(given) - self.variables - set(self.defaults)
        if unknown:
            raise PromptError(f"prompt {self.name} v{self.version} has no variables {sorted(unknown)}")
        return _VAR.sub(lambda m: str(given[m.group(1)]), self.text)


class PromptRegistry:
    def __init__(self) -> None:
        self._templates: dict[str, dict[int, Template]] = {}

    def register(self, name: str, text: str, *, version: int | None = None, tags: Iterable[str] = (),
                 defaults: Mapping[str, str] | None = None) -> Template:
        versions = self._templates.setdefault(name, {})
        number = version if version is not None else max(versions, default=0) + 1
        if number in versions:
            raise PromptError(f"prompt {name} v{number} already exists (versions are immutable)")
        template = Template(name, number, text, frozenset(tags), dict(defaults or {}))
        versions[number] = template
        return template

    def get(self, name: str, version: int | None = None) -> Template:
        versions = self._templates.get(name)
        if not versions:
            raise PromptError(f"no prompt named {name!r}")
        if version is None:
            return versions[max(versions)]
        if version not in versions:
            raise PromptError(f"prompt {name} has no version {version}")
        return versions[version]

    def versions(self, name: str) -> list[int]:
        return sorted(self._templates.get(name, {}))

    def by_tag(self, tag: str) -> list[Template]:
        return [self.get(n) for n in sorted(self._templates) if tag in self.get(n).tags]

    def render(self, name: str, values: Mapping[str, Any] | None = None, *, version: int | None = None) -> str:
        return self.get(name, version).render(values)
