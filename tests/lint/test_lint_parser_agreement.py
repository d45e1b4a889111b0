"""libcst, the parser of record, and the stdlib-ast fast route agree on every static import.

The check path extracts facts with ``ast`` for speed (docs/lint.md); libcst stays the parser for
codemods. This test walks every Python file of the repository and the fixture trees with libcst
(native parser, PositionProvider) and asserts the same import statements, names, levels, lines,
columns and function-level flags as ``plumego_lint.facts.extract``.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from plumego_lint.facts import KIND_FROM, KIND_IMPORT, extract

REPO = Path(__file__).resolve().parents[2]
Key = tuple[str, str, str, int, int, int, bool]


def _dotted(node: cst.BaseExpression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, cst.Name):
        return node.value
    assert isinstance(node, cst.Attribute)
    return f"{_dotted(node.value)}.{node.attr.value}"


class _Imports(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        self.found: set[Key] = set()
        self.depth = 0  # function nesting (lambdas cannot contain import statements)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1

    def _pos(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.get_metadata(PositionProvider, node).start
        return start.line, start.column + 1

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            line, col = self._pos(alias)
            self.found.add((KIND_IMPORT, _dotted(alias.name), "", 0, line, col, self.depth > 0))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = _dotted(node.module)
        level = len(node.relative)
        if isinstance(node.names, cst.ImportStar):
            line, col = self._pos(node.names)
            self.found.add((KIND_FROM, module, "*", level, line, col, self.depth > 0))
            return
        for alias in node.names:
            line, col = self._pos(alias)
            self.found.add((KIND_FROM, module, _dotted(alias.name), level, line, col, self.depth > 0))


def _python_files() -> list[Path]:
    roots = [REPO / "plumego", REPO / "plumego_lint", REPO / "reference_app", REPO / "tests"]
    files = sorted(p for root in roots for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    assert len(files) > 100
    return files


def test_libcst_and_ast_agree_on_every_static_import() -> None:
    checked = 0
    for path in _python_files():
        data = path.read_bytes()
        facts = extract(data)
        if facts.error is not None:
            continue  # broken on purpose (fixtures for PLG901); libcst must refuse them too
        try:
            module = cst.parse_module(data)
        except cst.ParserSyntaxError:
            pytest.fail(f"libcst cannot parse {path} although ast can")
        visitor = _Imports()
        MetadataWrapper(module, unsafe_skip_copy=True).visit(visitor)
        fast = {(i.kind, i.module or "", i.name, i.level, i.line, i.col, i.function_level)
                for i in facts.imports if i.kind in (KIND_IMPORT, KIND_FROM)}
        assert fast == visitor.found, f"{path.relative_to(REPO)}: ast-only {fast - visitor.found}, " \
                                      f"libcst-only {visitor.found - fast}"
        checked += 1
    assert checked > 100
