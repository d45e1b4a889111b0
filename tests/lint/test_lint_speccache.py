"""The spec cache (``plumego_lint.speccache``): a short run reuses the loaded specs, and any change to what the
load read (a spec file's bytes, an optional spec file appearing, a module.yaml added, a doc path a manifest
names) loads them again; failed loads are never kept. Runs on copies of the rules fixture, in-process.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import plumego_lint.specs.loader as loader
from plumego_lint.engine import build_project
from plumego_lint.flake8_plugin import _project
from plumego_lint.speccache import cache_file, load_specs_cached
from plumego_lint.specs import SpecError, SpecSet, load_specs
from plumego_lint.specs.loader import iter_manifest_files

from conftest import REPO


def _listing(package_dir: Path) -> list[Path]:
    return list(iter_manifest_files(package_dir))


def _cached(root: Path) -> SpecSet:
    return load_specs_cached(root, "specs", root / ".plumego-lint-cache", _listing)


def _no_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> SpecSet:
        raise AssertionError("the specs were loaded again, not read from the spec cache")
    monkeypatch.setattr(loader, "load_specs", refuse)


def test_second_load_comes_from_the_cache_and_equals_a_fresh_load(  # type: ignore[no-untyped-def]
        fixture_copy, monkeypatch) -> None:
    root: Path = fixture_copy("rules")
    first = _cached(root)
    assert first == load_specs(root, "specs")
    assert cache_file(root / ".plumego-lint-cache", root.resolve(), "specs").is_file()
    with monkeypatch.context() as m:
        _no_yaml(m)
        again = _cached(root)
    assert again == first and again.problems == first.problems and again.manifests == first.manifests


def test_editing_a_spec_file_invalidates(fixture_copy, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    before = _cached(root)
    rules = root / "specs/dependency-rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("deny: [lazy, x/**]", "deny: [x/**]"),
                     encoding="utf-8")
    after = _cached(root)
    assert after == load_specs(root, "specs") and after != before
    with monkeypatch.context() as m:    # and the new answer is what is cached now
        _no_yaml(m)
        assert _cached(root) == after


def test_a_new_optional_spec_file_invalidates(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    assert _cached(root).maturity == ()
    # an empty flow list reads as "not a list" (a loader quirk, kept): the cached answer must not hide it
    (root / "specs/extension-maturity.yaml").write_text("signals: []\n", encoding="utf-8")
    with pytest.raises(SpecError, match="'signals' must be a list"):
        load_specs(root, "specs")
    with pytest.raises(SpecError, match="'signals' must be a list"):
        _cached(root)
    (root / "specs/extension-maturity.yaml").unlink()
    (root / "specs/extension-taxonomy.yaml").write_text(
        "families:\n  pay:\n    canonical_root: x/pay\n", encoding="utf-8")
    fresh = load_specs(root, "specs")
    assert "pay" in fresh.families and _cached(root) == fresh


def test_a_doc_path_appearing_invalidates(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    before = _cached(root)
    assert any("docs/missing.md" in p.message for p in before.problems)
    (root / "docs/missing.md").write_text("# now here\n", encoding="utf-8")
    after = _cached(root)
    assert not any("docs/missing.md" in p.message for p in after.problems)
    assert after == load_specs(root, "specs")


def test_a_new_module_yaml_invalidates(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    before = _cached(root)
    manifest = (root / "shop/x/pay/module.yaml").read_text(encoding="utf-8")
    (root / "shop/x/pay/sub").mkdir()
    (root / "shop/x/pay/sub/module.yaml").write_text(
        manifest.replace("name: x/pay", "name: x/pay/sub").replace("path: x/pay", "path: x/pay/sub"),
        encoding="utf-8")
    after = _cached(root)
    assert "x/pay/sub" in after.manifests and "x/pay/sub" not in before.manifests
    assert after == load_specs(root, "specs")


def test_a_failed_load_is_not_kept_and_a_corrupt_cache_is_ignored(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    good = _cached(root)
    rules = root / "specs/dependency-rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text + "  broken: [\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(SpecError):
            _cached(root)
    rules.write_text(text, encoding="utf-8")
    assert _cached(root) == good
    cache_file(root / ".plumego-lint-cache", root.resolve(), "specs").write_bytes(b"not a pickle")
    assert _cached(root) == good


class _Planted:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.target),))   # what a hostile repo could commit into its cache directory

    def __init__(self, target: Path) -> None:
        self.target = target


def test_a_planted_pickle_is_never_executed(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    good = _cached(root)
    marker = root / "pwned"
    cache_file(root / ".plumego-lint-cache", root.resolve(), "specs").write_bytes(
        pickle.dumps({"format": 1, "specs": _Planted(marker), "probes": [], "listing": None}))
    assert _cached(root) == good and not marker.exists()


def test_project_and_flake8_plugin_see_a_spec_edit(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    """Through the engine's tree-index path (what `check FILE` and the flake8 plugin use)."""
    root: Path = fixture_copy("rules")
    first = build_project(root, use_cache=True)
    assert first.specs == load_specs(root, "specs")
    rules = root / "specs/dependency-rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("deny: [core, x/**]", "deny: [x/**]"),
                     encoding="utf-8")
    second = build_project(root, use_cache=True)
    assert second.specs == load_specs(root, "specs") != first.specs
    _project.cache_clear()
    loaded = _project(root.resolve())
    assert not isinstance(loaded, SpecError) and loaded[0].specs == second.specs
    _project.cache_clear()


def test_flake8_process_with_cached_specs_imports_no_yaml(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    """The point of the cache: the second flake8 process with a PLG code never imports PyYAML."""
    root: Path = fixture_copy("rules")
    code = ("import sys, ast; from pathlib import Path\n"
            "from plumego_lint.flake8_plugin import PlumegoFlake8Plugin as P\n"
            "f = sys.argv[1]; src = Path(f).read_text()\n"
            "out = list(P(ast.parse(src), f, src.splitlines(True)).run())\n"
            "print(len(out), 'yaml' in sys.modules, 'plumego_lint.generate' in sys.modules)")
    target = str(root / "shop/core/__init__.py")
    env_path = {"PYTHONPATH": str(REPO)}
    runs = [subprocess.run([sys.executable, "-c", code, target], cwd=root, capture_output=True, text=True,
                           env={**env_path, "PATH": ""}, check=True).stdout.split() for _ in range(2)]
    assert runs[0][0] == runs[1][0] and int(runs[0][0]) > 0     # the same findings, cold and from the cache
    assert runs[1][1:] == ["False", "False"]
