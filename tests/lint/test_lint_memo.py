"""The findings memo: after a change, unchanged files reuse their file-local findings, and every change
that could alter them (the file, the module index, a spec, a module.yaml) makes them be computed again.

Runs the engine in-process (jobs=1) on copies of the rules fixture and compares each cached run with a
run that uses no cache at all: the memo may only ever save work, never change a finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from plumego_lint.engine import CheckOptions, CheckResult, run_check
from plumego_lint.facts import FileFacts, ImportFact, SourceFile
from plumego_lint.rules import Finding, Project
from plumego_lint.rules.boundaries import BoundaryFamily


def _run(root: Path, **kwargs: object) -> CheckResult:
    return run_check(root, CheckOptions(jobs=1, **kwargs))  # type: ignore[arg-type]


def _keys(result: CheckResult) -> list[tuple[str, str, int, str]]:
    return [(f.code, f.path, f.line, f.message) for f in result.findings]


@pytest.fixture()
def checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The files BoundaryFamily.check_file really ran on (the real method, counted)."""
    calls: list[str] = []
    original = BoundaryFamily.check_file

    def counting(self: BoundaryFamily, project: Project, file: SourceFile, facts: FileFacts,
                 imports: list[ImportFact]) -> list[Finding]:
        calls.append(file.rel)
        return list(original(self, project, file, facts, imports))

    monkeypatch.setattr(BoundaryFamily, "check_file", counting)
    yield calls


def _assert_same_as_uncached(root: Path, result: CheckResult) -> None:
    assert _keys(result) == _keys(_run(root, use_cache=False))


def test_one_changed_file_is_the_only_one_checked_again(fixture_copy,  # type: ignore[no-untyped-def]
                                                        checked: list[str]) -> None:
    root: Path = fixture_copy("rules")
    first = _run(root)
    files = len(first.project.files)
    assert len(checked) == files
    core = root / "shop/core/__init__.py"
    core.write_text(core.read_text(encoding="utf-8").replace("import shop.lazy  # expect: PLG101\n", ""),
                    encoding="utf-8")
    checked.clear()
    second = _run(root)
    assert not second.cached
    assert checked == ["shop/core/__init__.py"]
    assert len(second.findings) == len(first.findings) - 1
    _assert_same_as_uncached(root, second)


def test_a_spec_edit_recomputes_findings_of_unchanged_files(fixture_copy,  # type: ignore[no-untyped-def]
                                                            checked: list[str]) -> None:
    root: Path = fixture_copy("rules")
    before = _keys(_run(root))
    rules = root / "specs/dependency-rules.yaml"
    # base may no longer import internal/codec: a finding appears in a file whose bytes did not change
    rules.write_text(rules.read_text(encoding="utf-8").replace("declared_callers: [x/pay, lazy, base]",
                                                               "declared_callers: [x/pay, lazy]"), encoding="utf-8")
    checked.clear()
    after = _run(root)
    assert len(checked) == len(after.project.files)
    assert before != _keys(after)
    _assert_same_as_uncached(root, after)


def test_a_module_yaml_edit_recomputes_findings(fixture_copy,  # type: ignore[no-untyped-def]
                                                checked: list[str]) -> None:
    root: Path = fixture_copy("rules")
    _run(root)
    manifest = next(root.glob("shop/x/*/module.yaml"))
    manifest.write_text(manifest.read_text(encoding="utf-8") + "\n# touched\n", encoding="utf-8")
    checked.clear()
    after = _run(root)
    assert len(checked) == len(after.project.files)
    _assert_same_as_uncached(root, after)


def test_a_new_module_changes_resolution_so_every_file_is_checked_again(fixture_copy,  # type: ignore[no-untyped-def]
                                                                        checked: list[str]) -> None:
    root: Path = fixture_copy("rules")
    _run(root)
    # `from shop.base import secret` resolved to a module; a new module next to it changes the index
    (root / "shop/base/extra_mod.py").write_text("import os\n", encoding="utf-8")
    checked.clear()
    after = _run(root)
    assert len(checked) == len(after.project.files)
    _assert_same_as_uncached(root, after)


def test_moving_a_file_changes_its_module_and_its_findings(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _run(root)
    source = root / "shop/core/__init__.py"
    (root / "shop/lazy/moved.py").write_bytes(source.read_bytes())
    after = _run(root)
    _assert_same_as_uncached(root, after)
    assert any(p == "shop/lazy/moved.py" for _, p, _, _ in _keys(after))


def test_a_damaged_memo_is_ignored_and_rewritten(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    first = _keys(_run(root))
    memos = list((root / ".plumego-lint-cache").glob("memo-*.marshal"))
    assert len(memos) == 1
    for garbage in (b"", b"\x00garbage", b"\xe9" * 100):
        memos[0].write_bytes(garbage)
        (root / "shop/core/__init__.py").write_text("import os\n", encoding="utf-8")
        result = _run(root)
        _assert_same_as_uncached(root, result)
    assert first != _keys(result)
    assert memos[0].read_bytes()[:1] != b"\x00"


def test_memo_survives_a_checkout_at_another_path(fixture_copy,  # type: ignore[no-untyped-def]
                                                  tmp_path: Path, checked: list[str]) -> None:
    import shutil

    root: Path = fixture_copy("rules")
    _run(root)
    other = tmp_path / "elsewhere"
    shutil.copytree(root, other, copy_function=shutil.copyfile)     # a CI checkout with the cache restored
    checked.clear()
    result = _run(other)
    assert not result.cached
    assert checked == []
    _assert_same_as_uncached(other, result)
