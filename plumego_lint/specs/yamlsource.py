"""YAML documents that remember where each value came from.

Owns loading a YAML file into plain dicts/lists whose mapping keys and list items carry their
1-based source line, so every spec error and every finding can cite ``file:line``.
Must not import the rest of plumego_lint (it is the bottom of the specs package).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plumego_lint.spec_error import SpecError as SpecError

if TYPE_CHECKING:
    from yaml.constructor import SafeConstructor
    from yaml.nodes import Node


class LocatedDict(dict[str, Any]):
    """A mapping from YAML; ``line`` is where it starts, ``key_lines`` where each key is."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list[Any]):
    """A sequence from YAML; ``item_lines[i]`` is the line of item ``i``."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


# While a spec cache records a load (``speccache``): every file the loader read (its content digest, None when it
# could not be read) and every path it probed (is_file / is_dir / exists, with the answer), so a cached spec set is
# reused only while each of them gives the same answer.
Probe = tuple[str, str, "str | bool | None"]
_PROBES: list[Probe] | None = None


def record_probes(probes: list[Probe] | None) -> list[Probe] | None:
    """Start (a list) or stop (None) recording; returns the recorder that was set before."""
    global _PROBES
    before, _PROBES = _PROBES, probes
    return before


def probe(path: Path, kind: str) -> bool:
    """``path.is_file()`` (kind "file"), ``is_dir()`` ("dir") or ``exists()`` ("exists"), recorded when asked."""
    answer = path.is_file() if kind == "file" else path.is_dir() if kind == "dir" else path.exists()
    if _PROBES is not None:
        _PROBES.append((str(path), kind, answer))
    return answer


def content_digest(data: bytes) -> str:
    try:   # the builtin BLAKE2 module: importing ``hashlib`` also loads OpenSSL
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - CPython builds it in
        from hashlib import blake2b
    return blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Location:
    """A place in a spec file, rendered ``path:line`` in findings (``source`` in JSON)."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def _convert(node: Node, path: str, ctor: SafeConstructor) -> Any:
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    line = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        out = LocatedDict()
        out.line = line
        out.key_lines = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise SpecError(path, key_node.start_mark.line + 1, "mapping keys must be plain scalars")
            key = str(ctor.construct_scalar(key_node))
            if key in out:
                raise SpecError(path, key_node.start_mark.line + 1, f"duplicate key {key!r}")
            out.key_lines[key] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, path, ctor)
        return out
    if isinstance(node, SequenceNode):
        seq = LocatedList()
        seq.line = line
        seq.item_lines = []
        for item in node.value:
            seq.item_lines.append(item.start_mark.line + 1)
            seq.append(_convert(item, path, ctor))
        return seq
    assert isinstance(node, ScalarNode)
    return ctor.construct_object(node, deep=True)


# libyaml's composer (when PyYAML was built with it) gives the same nodes and marks about 10x faster: loading the
# installed plumego's 37 manifests for the service tiers went from 0.33 s to about 0.03 s. PyYAML is imported on
# the first load (about 15-20 ms): a process that reads its specs from the spec cache (``speccache``) never does.


def load_yaml(file: Path, display_path: str) -> Any:
    """Parse ``file``; raise SpecError naming ``display_path`` and the line on any problem."""
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        if _PROBES is not None:
            _PROBES.append((str(file), "read", None))
        raise SpecError(display_path, 1, "file not found") from None
    except OSError as exc:
        raise SpecError(display_path, 1, f"cannot read file: {exc}") from None
    if _PROBES is not None:
        _PROBES.append((str(file), "read", content_digest(data)))
    try:   # what read_text(encoding="utf-8") gives: universal newlines
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise SpecError(display_path, 1, f"cannot read file: {exc}") from None
    import yaml
    from yaml.constructor import ConstructorError, SafeConstructor

    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise SpecError(display_path, line, f"invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise SpecError(display_path, 1, f"invalid YAML: {exc}") from None
    if node is None:
        empty = LocatedDict()
        empty.line = 1
        empty.key_lines = {}
        return empty
    try:
        return _convert(node, display_path, SafeConstructor())
    except ConstructorError as exc:
        mark = exc.problem_mark
        raise SpecError(display_path, (mark.line + 1) if mark else 1, f"invalid YAML value: {exc.problem}") from None
