"""Runs the service rule family on one file or a whole service repo.

Owns the per-file entry point shared by the CLI and the flake8 plugin (``check_tree``: one ast tree
in, sorted findings out), ``# noqa`` handling for surfaces that do not do it themselves, and the
service-mode test. Must not import reporters or the CLI.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from plumego_lint.facts import ParseError, parse
from plumego_lint.service.context import Finding, ServiceContext
from plumego_lint.service.facts import ModuleFacts
from plumego_lint.service.hygiene import HYGIENE_CHECKS
from plumego_lint.service.maturity import MATURITY_CHECKS

Check = Callable[[ModuleFacts, ServiceContext], Iterator[Finding]]
SERVICE_CHECKS: tuple[Check, ...] = MATURITY_CHECKS + HYGIENE_CHECKS
SERVICE_CODES = ("PLG201", "PLG301", "PLG302", "PLG303", "PLG304", "PLG305", "PLG601", "PLG602", "PLG603")

NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def is_plumego_repo(root: Path) -> bool:
    """Plumego's own repository runs the spec rules; everything else is a service repo."""
    return (root / "specs" / "repo.yaml").is_file() and (root / "plumego" / "core").is_dir()


def noqa_allows(line_text: str, code: str) -> bool:
    """True when a ``# noqa`` comment on the line silences ``code`` (bare noqa silences all)."""
    match = NOQA.search(line_text)
    if match is None:
        return False
    codes = match.group("codes")
    if not codes:
        return True
    return any(code.upper().startswith(c.upper()) for c in re.split(r"[,\s]+", codes) if c)


def check_facts(facts: ModuleFacts, ctx: ServiceContext, checks: Sequence[Check] = SERVICE_CHECKS) -> list[Finding]:
    found: set[Finding] = set()
    for check in checks:
        found.update(check(facts, ctx))
    return sorted(found)


def check_tree(tree: ast.Module, path: Path, ctx: ServiceContext, source: str | bytes | None = None,
               module: str | None = None) -> list[Finding]:
    """Service findings for one parsed file (no noqa filtering: the caller's surface does that).

    ``source`` (when known) lets fact extraction skip expression walks; ``module`` saves a path lookup.
    """
    module = module or ctx.config.module_name(path)
    if module is None or ctx.config.is_excluded(path):
        return []
    facts = ctx.facts_for(tree, module, path.name == "__init__.py", source)
    return check_facts(facts, ctx)


def check_file(path: Path, ctx: ServiceContext, lines: Sequence[str] | None = None,
               source: bytes | None = None) -> list[Finding]:
    """Parse and check one file, dropping findings silenced by ``# noqa``; unparsable files give PLG901.

    ``source`` stands in for the file's bytes (``fix`` checks text it has rewritten but not written yet)."""
    try:
        source = path.read_bytes() if source is None else source
    except OSError as exc:
        return [Finding(1, 1, "PLG901", f"cannot read {path.name}: {exc.strerror or exc}")]
    tree = parse(source, str(path))
    if isinstance(tree, ParseError):
        return [Finding(tree.line, tree.col, "PLG901", f"cannot parse {path.name}: {tree.message}")]
    text_lines = lines if lines is not None else source.decode("utf-8", "replace").splitlines()
    kept = []
    for finding in check_tree(tree, path, ctx, source):
        span = range(finding.line, max(finding.line, finding.end_line) + 1)   # any line of a multi-line import
        if not any(0 < n <= len(text_lines) and noqa_allows(text_lines[n - 1], finding.code) for n in span):
            kept.append(finding)
    return kept


def check_paths(paths: Iterable[Path], ctx: ServiceContext) -> dict[Path, list[Finding]]:
    """Findings per file for every Python file under ``paths`` (default: the source roots)."""
    return {file: check_file(file, ctx) for file in ctx.config.iter_files(paths)}
