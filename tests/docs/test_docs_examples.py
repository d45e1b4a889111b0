"""Every fenced ```python block in docs/**/*.md and README.md runs here, so the documentation cannot rot.

One test per block, named ``<file>:<line>``. A block runs in a fresh module namespace in a temporary working
directory; top-level ``await`` is allowed (the block then runs on its own event loop). Two HTML comments on the
line just above a fence change that, and nothing else does:

- ``<!-- docs-test: continue -->``: run this block in the namespace of the block(s) before it in the same file
  (they are re-run first, so each test stands alone);
- ``<!-- docs-test: skip <reason> -->``: not run (a fragment, or it starts a server); it must still compile.

Each stable module primer must open with a ``## Usage`` section holding at least one runnable block, above its
generated facts table.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
STABLE_PRIMERS = ("contract", "core", "health", "log", "metrics", "middleware", "router", "security", "store")
_MARKER = re.compile(r"<!--\s*docs-test:\s*(skip|continue)\b\s*(.*?)\s*-->")
_OPEN = re.compile(r"^```(python|py)\s*$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    source: str
    mode: str  # "run", "continue" or "skip"
    reason: str = ""

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT).as_posix()}:{self.line}"


def blocks_in(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        if _OPEN.match(lines[index]):
            start = index
            end = index + 1
            while end < len(lines) and lines[end].rstrip() != "```":
                end += 1
            marker = _MARKER.search(lines[start - 1]) if start > 0 else None
            mode, reason = ("run", "") if marker is None else (marker.group(1), marker.group(2))
            found.append(Block(path, start + 1, "\n".join(lines[start + 1:end]) + "\n", mode, reason))
            index = end + 1
        else:
            index += 1
    return found


ALL_BLOCKS = [block for path in [*sorted(DOCS.rglob("*.md")), REPO_ROOT / "README.md"] for block in blocks_in(path)]


def _chain(block: Block) -> list[Block]:
    """The blocks to run for ``block``: the preceding ones it continues, then itself."""
    same_file = [b for b in ALL_BLOCKS if b.path == block.path and b.mode != "skip" and b.line <= block.line]
    chain: list[Block] = []
    for candidate in reversed(same_file):
        chain.insert(0, candidate)
        if candidate.mode == "run":
            break
    return chain


def _compile(block: Block) -> types.CodeType:
    # Padded so that line numbers in tracebacks are the Markdown file's own, which the traceback then shows.
    source = "\n" * block.line + block.source
    return compile(source, str(block.path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)


def _execute(block: Block, module: types.ModuleType) -> None:
    result = eval(_compile(block), module.__dict__)  # noqa: S307 - the docs' own examples
    if inspect.iscoroutine(result):
        asyncio.run(result)


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[block.id for block in ALL_BLOCKS])
def test_docs_example(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _compile(block)  # every block must at least be valid Python
    if block.mode == "skip":
        assert block.reason, f"{block.id}: a skipped example must say why"
        assert code is not None
        return
    monkeypatch.chdir(tmp_path)
    name = "docs_example_" + re.sub(r"\W", "_", block.id)
    module = types.ModuleType(name)
    sys.modules[name] = module  # dataclasses and typing resolve names through sys.modules
    try:
        for step in _chain(block):
            _execute(step, module)
    finally:
        del sys.modules[name]


def test_every_stable_primer_opens_with_a_runnable_usage_section() -> None:
    for name in STABLE_PRIMERS:
        path = DOCS / "modules" / f"{name}.md"
        text = path.read_text(encoding="utf-8")
        generated = text.index("<!-- plumego-lint:begin module-facts")
        usage = text.find("\n## Usage")
        assert 0 <= usage < generated, f"{path}: no '## Usage' section above the generated facts block"
        runnable = [b for b in blocks_in(path) if b.mode != "skip"]
        first_line_of_facts = text[:generated].count("\n") + 1
        assert any(b.line < first_line_of_facts for b in runnable), f"{path}: no runnable example in Usage"


def test_getting_started_exists_and_runs_most_of_its_examples() -> None:
    blocks = blocks_in(DOCS / "getting-started.md")
    assert len([b for b in blocks if b.mode != "skip"]) >= 8
