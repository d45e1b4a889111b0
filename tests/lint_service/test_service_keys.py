"""The service extractor's per-file key on strings agrees with the ``Path`` route it replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumego_lint.config import load_config
from plumego_lint.discovery import discover
from plumego_lint.service import service_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("tree", ["tests/fixtures/service_bad", "tests/fixtures/service_lookups",
                                  "examples/service_repo", "."])
def test_name_and_exclusion_equals_module_name_and_is_excluded(tree: str) -> None:
    config = load_config((ROOT / tree).resolve())
    svc = service_config(config)
    files = discover(config)
    assert files
    for f in files:
        assert svc.name_and_exclusion(f.abspath) == (svc.module_name(f.path), svc.is_excluded(f.path)), f.rel


def test_name_and_exclusion_edge_cases(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.plumego-lint]\nexclude = ["gen", "a/skip"]\n', encoding="utf-8")
    config = load_config(tmp_path)
    svc = service_config(config)
    for rel in ("pkg/__init__.py", "pkg/mod.py", "gen/x.py", "a/skip/y.py", "a/keep/z.py", "bad-name/m.py",
                "__init__.py", "top.py", "pkg/gen/deep.py"):
        path = tmp_path / rel
        assert svc.name_and_exclusion(str(path)) == (svc.module_name(path), svc.is_excluded(path)), rel
    outside = tmp_path.parent / "elsewhere.py"
    assert svc.name_and_exclusion(str(outside)) == (svc.module_name(outside), svc.is_excluded(outside))
