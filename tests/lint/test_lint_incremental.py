"""Work proportional to the change: the incremental run (``plumego_lint.incremental``) and ``check FILE.py``.

Every cached or partial run is compared with a run that uses no cache at all on the same tree: neither
route may ever change a finding, only save work. Runs the engine in-process (jobs=1) on copies of the
rules fixture (a specs repo) and of the service lookups fixture (re-exports through an adapter).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from plumego_lint import discovery, facts
from plumego_lint.cache import FactsCache
from plumego_lint.engine import CheckOptions, CheckResult, run_check

SERVICE_LOOKUPS = Path(__file__).resolve().parents[1] / "fixtures" / "service_lookups"
Key = tuple[str, str, int, int, str, str | None]


def _run(root: Path, **kwargs: object) -> CheckResult:
    return run_check(root, CheckOptions(jobs=1, **kwargs))  # type: ignore[arg-type]


def _keys(result: CheckResult) -> list[Key]:
    return [(f.code, f.path, f.line, f.column, f.message, f.source) for f in result.findings]


def _assert_same_as_uncached(root: Path, result: CheckResult) -> None:
    fresh = _run(root, use_cache=False)
    assert _keys(result) == _keys(fresh)
    assert result.suppressed == fresh.suppressed


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture()
def service_copy(tmp_path: Path) -> Path:
    target = tmp_path / "service_lookups"
    shutil.copytree(SERVICE_LOOKUPS, target)
    return target


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("whole-tree work in an incremental run")


def test_an_edited_file_is_the_only_one_read_and_checked(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    first = _run(root)
    assert first.rechecked is None
    _edit(root / "shop/core/__init__.py", "import shop.lazy  # expect: PLG101\n", "")
    with pytest.MonkeyPatch.context() as patch:     # neither discovery nor the facts cache is needed
        patch.setattr(discovery, "discover", _refuse)
        patch.setattr(FactsCache, "load", _refuse)
        second = _run(root)
        third = _run(root)
    assert not second.cached
    assert second.rechecked == ["shop/core/__init__.py"]
    assert len(second.findings) == len(first.findings) - 1
    assert third.cached          # the incremental run stored a record the next run reuses as it is
    assert _keys(third) == _keys(second)
    _assert_same_as_uncached(root, second)


def test_atomic_save_and_touch_stay_incremental(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _run(root)
    target = root / "shop/base/__init__.py"
    # an editor's save: write a temporary file, rename it over the original (the directory's ctime moves)
    tmp = target.with_name(".base.tmp")
    tmp.write_text(target.read_text(encoding="utf-8") + "import shop.core  # new\n", encoding="utf-8")
    os.replace(tmp, target)
    saved = _run(root)
    assert saved.rechecked == ["shop/base/__init__.py"]
    _assert_same_as_uncached(root, saved)
    os.utime(target)     # touched, same bytes: nothing to check again
    os.chmod(target, 0o644)
    touched = _run(root)
    assert touched.rechecked == []
    assert _keys(touched) == _keys(saved)


@pytest.mark.parametrize("change", ["add", "delete", "rename", "spec", "module_yaml", "config", "non_python"])
def test_other_changes_run_everything_and_agree(fixture_copy, change: str) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _run(root)
    if change == "add":
        (root / "shop/base/extra.py").write_text("import shop.core\n", encoding="utf-8")
    elif change == "delete":
        (root / "shop/x/nested/bad.py").unlink()
    elif change == "rename":
        (root / "shop/x/nested/bad.py").rename(root / "shop/x/nested/worse.py")
    elif change == "spec":
        _edit(root / "specs/dependency-rules.yaml", "declared_callers: [x/pay, lazy, base]",
              "declared_callers: [x/pay, lazy]")
    elif change == "module_yaml":
        _edit(root / "shop/core/module.yaml", "  - new_app\n", "  - new_app\n  - gone_app\n")
    elif change == "config":
        with (root / "pyproject.toml").open("a", encoding="utf-8") as handle:
            handle.write('ignore = ["PLG107"]\n')
    else:
        (root / "notes.txt").write_text("hello\n", encoding="utf-8")
    result = _run(root)
    assert result.rechecked is None and not result.cached
    _assert_same_as_uncached(root, result)


def test_project_rules_follow_the_edited_file_through_its_summary(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    before = _keys(_run(root))
    # x/pay no longer imports internal/codec: PLG106 on its declared_callers line
    _edit(root / "shop/x/pay/__init__.py", "from shop.internal.codec import encode\n", "")
    after = _run(root)
    assert after.rechecked == ["shop/x/pay/__init__.py"]
    assert sum(k[0] == "PLG106" for k in _keys(after)) == sum(k[0] == "PLG106" for k in before) + 1
    _assert_same_as_uncached(root, after)
    # a public entrypoint disappears from the code: PLG407 on the module.yaml line
    app = root / "shop/core/_app.py"
    core = root / "shop/core/__init__.py"
    _edit(app, "def new_app", "def old_app")
    _edit(core, "from ._app import App, new_app", "from ._app import App")
    gone = _run(root)
    assert gone.rechecked == ["shop/core/__init__.py", "shop/core/_app.py"]
    assert sum(k[0] == "PLG407" for k in _keys(gone)) == sum(k[0] == "PLG407" for k in _keys(after)) + 1
    _assert_same_as_uncached(root, gone)
    _edit(app, "def old_app", "def new_app")      # and back (the module defines it again)
    back = _run(root)
    assert back.rechecked == ["shop/core/_app.py"]
    _assert_same_as_uncached(root, back)


def test_noqa_added_and_removed(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _run(root)
    core = root / "shop/core/__init__.py"
    _edit(core, "import shop.lazy  # expect: PLG101\n", "import shop.lazy  # noqa: PLG101\n")
    quiet = _run(root)
    assert quiet.rechecked == ["shop/core/__init__.py"] and quiet.suppressed >= 1
    _assert_same_as_uncached(root, quiet)
    _edit(core, "import shop.lazy  # noqa: PLG101\n", "import shop.lazy\n")
    loud = _run(root)
    _assert_same_as_uncached(root, loud)


def test_a_broken_file_and_its_repair(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _run(root)
    base = root / "shop/base/__init__.py"
    good = base.read_text(encoding="utf-8")
    base.write_text(good + "def broken(:\n", encoding="utf-8")
    broken = _run(root)
    assert broken.rechecked == ["shop/base/__init__.py"]
    assert any(k[0] == "PLG901" for k in _keys(broken))
    _assert_same_as_uncached(root, broken)
    base.write_text(good, encoding="utf-8")
    repaired = _run(root)
    assert not any(k[0] == "PLG901" for k in _keys(repaired))
    _assert_same_as_uncached(root, repaired)


def test_a_changed_adapter_rechecks_the_files_that_read_it(service_copy: Path) -> None:
    first = _run(service_copy)
    assert any(k[1] == "svc/aaa_early.py" for k in _keys(first))
    leaky = service_copy / "svc/adapters/leaky.py"
    # the adapter stops re-exporting the experimental client: the stable files reaching through it change
    leaky.write_text('"""An adapter with an interface."""\nfrom typing import Protocol\n\n\n'
                     'class Client(Protocol):\n    def send(self) -> None: ...\n\n\nAlias = Client\n'
                     '__all__ = ["Client", "Alias"]\n', encoding="utf-8")
    second = _run(service_copy)
    assert second.rechecked is not None
    assert {"svc/adapters/leaky.py", "svc/aaa_early.py", "svc/zz_late.py"} <= set(second.rechecked)
    assert _keys(second) != _keys(first)
    _assert_same_as_uncached(service_copy, second)
    # the ports module: itself, and the adapter whose interface check (PLG303) looked at its Protocol
    (service_copy / "svc/ports.py").write_text((service_copy / "svc/ports.py").read_text(encoding="utf-8")
                                               + "\nCACHE: dict[str, int] = {}\n", encoding="utf-8")
    third = _run(service_copy)
    assert third.rechecked == ["svc/adapters/ported.py", "svc/ports.py"]
    _assert_same_as_uncached(service_copy, third)


# ------------------------------------------------------------------------------------- check FILE.py

def _every_python_file(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if ".plumego-lint-cache" not in p.parts)


@pytest.mark.parametrize("fixture", ["rules", "service"])
def test_check_named_files_equals_the_whole_run_filtered(  # type: ignore[no-untyped-def]
        fixture_copy, service_copy: Path, fixture: str) -> None:
    root: Path = fixture_copy("rules") if fixture == "rules" else service_copy
    whole = _run(root, use_cache=False)
    for path in _every_python_file(root):
        rel = path.relative_to(root).as_posix()
        named = _run(root, paths=[path])
        assert named.rechecked is None
        assert _keys(named) == [k for k in _keys(whole) if k[1] == rel], rel
    pair = _every_python_file(root)[:2]
    both = _run(root, paths=pair)
    rels = {p.relative_to(root).as_posix() for p in pair}
    assert _keys(both) == [k for k in _keys(whole) if k[1] in rels]


def test_check_named_file_reads_only_that_file(  # type: ignore[no-untyped-def]
        fixture_copy, monkeypatch: pytest.MonkeyPatch) -> None:
    root: Path = fixture_copy("rules")
    read: list[str] = []
    original = facts.read_and_parse

    def counting(path: Path) -> tuple[str, bytes, facts.FileFacts, object]:
        read.append(path.relative_to(root).as_posix())
        return original(path)

    monkeypatch.setattr(facts, "read_and_parse", counting)
    monkeypatch.setattr(FactsCache, "load", lambda self: (_ for _ in ()).throw(AssertionError("facts cache")))
    result = _run(root, paths=[root / "shop/core/__init__.py"])
    assert read == ["shop/core/__init__.py"]
    assert result.findings and all(f.path == "shop/core/__init__.py" for f in result.findings)
    # a partial run records no findings and loads no facts; it keeps the tree index (sources, module.yaml files)
    assert [p.name.split("-")[0] for p in (root / ".plumego-lint-cache").glob("*.marshal")] == ["tree"]


# ------------------------------------------------------------------------------------------ tree index

def test_tree_index_spares_the_walks_until_a_directory_changes(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    from plumego_lint.specs import loader

    root: Path = fixture_copy("rules")
    core = root / "shop/core/__init__.py"
    first = _run(root, paths=[core])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(discovery, "discover", _refuse)
        patch.setattr(loader, "iter_manifest_files", _refuse)
        again = _run(root, paths=[core])
        # an editor's save-by-rename moves the directory's ctime, not its names: still no walk
        tmp = core.with_name(".core.tmp")
        tmp.write_text(core.read_text(encoding="utf-8"), encoding="utf-8")
        os.replace(tmp, core)
        saved = _run(root, paths=[core])
    assert _keys(first) == _keys(again) == _keys(saved)
    # a new module is found (the index is stale once its directory lists another name)
    extra = root / "shop/core/extra.py"
    extra.write_text("import shop.lazy\n", encoding="utf-8")
    added = _run(root, paths=[extra])
    assert [k[0] for k in _keys(added)] == ["PLG101"]
    assert _keys(added) == [k for k in _keys(_run(root, use_cache=False)) if k[1] == "shop/core/extra.py"]
    # a new module.yaml is read (its directory changed)
    (root / "shop/lazy/module.yaml").write_text((root / "shop/core/module.yaml").read_text(encoding="utf-8")
                                                .replace("shop/core", "shop/lazy"), encoding="utf-8")
    whole = _run(root)
    _assert_same_as_uncached(root, whole)


def test_no_cache_writes_no_cache_at_all(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _run(root, use_cache=False)
    _run(root, use_cache=False, paths=[root / "shop/core/__init__.py"])
    assert not (root / ".plumego-lint-cache").exists()


def test_a_spec_error_during_a_parallel_cold_run_is_still_plg902(tmp_path: Path) -> None:
    """Specs load while the parse workers run: an error there stops the run with the same SpecError."""
    from plumego_lint.specs import SpecError

    (tmp_path / "pyproject.toml").write_text('[tool.plumego-lint]\nspecs = "specs"\n', encoding="utf-8")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs/repo.yaml").write_text("repo:\n  name: big\n  module: big\n", encoding="utf-8")
    (tmp_path / "specs/dependency-rules.yaml").write_text("modules: [unclosed\n", encoding="utf-8")
    pkg = tmp_path / "big"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    for i in range(320):     # above PARALLEL_MIN_FILES: the process pool route
        (pkg / f"m{i}.py").write_text("import os\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        run_check(tmp_path, CheckOptions(jobs=2))
    assert caught.value.path == "specs/dependency-rules.yaml"


def test_module_index_knows_every_parent() -> None:
    from plumego_lint.facts import ModuleIndex

    index = ModuleIndex(["a.b.c.d", "a.b", "x.y", "z"])
    assert {"a", "a.b", "a.b.c", "a.b.c.d", "x", "x.y", "z"} == {m for m in index._known}
    assert index.top_level == {"a", "x", "z"}
    assert "a.b.c" in index and "a.c" not in index


def test_a_state_file_from_another_run_is_not_used(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _run(root)
    state = next((root / ".plumego-lint-cache").glob("state-*.marshal"))
    old = state.read_bytes()
    _edit(root / "shop/core/__init__.py", "import shop.lazy  # expect: PLG101\n", "")
    assert _run(root).rechecked == ["shop/core/__init__.py"]
    state.write_bytes(old)          # the state of the first run next to the record of the second
    _edit(root / "shop/base/__init__.py", "\n", "\nimport shop.core\n")
    result = _run(root)
    assert result.rechecked is None and not result.cached
    _assert_same_as_uncached(root, result)
    state.write_bytes(b"\x00garbage")
    _edit(root / "shop/base/__init__.py", "\nimport shop.core\n", "\n")
    damaged = _run(root)
    assert damaged.rechecked is None
    _assert_same_as_uncached(root, damaged)


def test_source_file_make_is_the_same_frozen_object() -> None:
    import dataclasses

    from plumego_lint.facts import SourceFile

    made = SourceFile.make("/r/a/b.py", "a/b.py", "a.b", False, True)
    assert made == SourceFile("/r/a/b.py", "a/b.py", "a.b", False, True)
    assert hash(made) == hash(SourceFile("/r/a/b.py", "a/b.py", "a.b", False, True))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.rel = "c.py"  # type: ignore[misc]


def test_the_incremental_run_reuses_the_last_runs_manifest_list(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    from plumego_lint.specs import loader
    from plumego_lint.treeindex import TreeIndex

    root: Path = fixture_copy("rules")
    first = _run(root)
    assert first.project.manifest_listing        # the module.yaml files the specs were loaded from
    _edit(root / "shop/core/__init__.py", "import shop.lazy  # expect: PLG101\n", "")
    with pytest.MonkeyPatch.context() as patch:     # no tree index (a stat per directory), no module.yaml walk
        patch.setattr(TreeIndex, "load", _refuse)
        patch.setattr(loader, "iter_manifest_files", _refuse)
        second = _run(root)
        _edit(root / "shop/core/__init__.py", "import json\n", "import json\nimport shop.lazy\n")
        third = _run(root)
    assert second.rechecked == third.rechecked == ["shop/core/__init__.py"]
    _assert_same_as_uncached(root, third)


def test_a_replay_that_finds_a_change_hands_the_record_to_the_run(  # type: ignore[no-untyped-def]
        fixture_copy, capsys) -> None:
    from plumego_lint import replay
    from plumego_lint.cache import RunCache
    from plumego_lint.cli import main

    root: Path = fixture_copy("rules")
    report = root.parent / "report.json"
    argv = ["check", "--exit-zero", "--jobs", "1", "--format", "json", "--output", str(report), str(root)]
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert main(argv) == 0
        _edit(root / "shop/core/__init__.py", "import shop.lazy  # expect: PLG101\n", "")
        with pytest.MonkeyPatch.context() as patch:     # the replay read the record: the run does not again
            patch.setattr(RunCache, "read", _refuse)
            assert main(argv) == 0
        assert replay.HANDOFF is None                   # taken, once
        edited = report.read_text(encoding="utf-8")
        assert main([*argv[:-1], "--no-cache", str(root)]) == 0
        assert report.read_text(encoding="utf-8") == edited
    finally:
        os.chdir(cwd)
    capsys.readouterr()


def test_changes_after_a_verified_prefix_are_all_the_changes(tmp_path: Path) -> None:
    from plumego_lint.snapshot import Snapshot

    for i in range(6):
        (tmp_path / f"m{i}.py").write_text(f"x = {i}\n", encoding="utf-8")
    snapshot = Snapshot.take([str(tmp_path)], set())
    snapshot.settle()
    assert snapshot.first_change() is None
    (tmp_path / "m2.py").write_text("x = 20\n", encoding="utf-8")
    (tmp_path / "m4.py").write_text("x = 40\n", encoding="utf-8")
    verified = snapshot.first_change()
    assert verified is not None
    files = list(snapshot.files)
    assert files[verified[1]] in {str(tmp_path / "m2.py"), str(tmp_path / "m4.py")}
    assert snapshot.changes(verified) == snapshot.changes()
    assert set(snapshot.changes()[1]) == {str(tmp_path / "m2.py"), str(tmp_path / "m4.py")}
