"""The caches: the run cache makes "nothing changed" a stat pass, and every kind of change still re-runs.

Runs the engine in-process on copies of the rules fixture. Snapshots compare ctime, so freshly copied
trees are "racy" (digests recorded and re-checked); ``_age`` moves mtimes back as ``cp -p`` or an archive
would, which must never hide a change.
"""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
import time
from pathlib import Path

from plumego_lint.cache import FORMAT, RunCache, Snapshot
from plumego_lint.engine import CheckOptions, CheckResult, run_check

from conftest import REPO


def _age(root: Path, seconds: int = 3600) -> None:
    """Move every mtime an hour back (what ``cp -p``/``tar`` do); the ctime still records the change."""
    past = time.time_ns() - seconds * 1_000_000_000
    for dirpath, _, filenames in os.walk(root, topdown=False):
        for name in filenames:
            os.utime(os.path.join(dirpath, name), ns=(past, past))
        os.utime(dirpath, ns=(past, past))


def _settle(root: Path) -> None:
    """Age the tree, then run twice: the first run re-snapshots (the ageing changed every stat), the second hits."""
    _age(root)
    _run(root)
    assert _run(root).cached


def _keys(result: CheckResult) -> list[tuple[str, str, int]]:
    return [(f.code, f.path, f.line) for f in result.findings]


def _run(root: Path, **kwargs: object) -> CheckResult:
    return run_check(root, CheckOptions(**kwargs))  # type: ignore[arg-type]


def test_unchanged_tree_is_answered_from_the_run_cache(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _age(root)
    cold = _run(root)
    assert not cold.cached and cold.findings
    warm = _run(root)
    assert warm.cached
    assert warm.findings == cold.findings and warm.suppressed == cold.suppressed and warm.files == cold.files
    # project and analysis are still there for callers that need them (rebuilt on demand)
    assert warm.project.root == cold.project.root
    assert set(warm.analysis.facts) == set(cold.analysis.facts)
    fresh = _run(root, use_cache=False)
    assert fresh.findings == cold.findings


def test_content_change_new_file_and_spec_change_rerun_the_rules(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _age(root)
    before = _keys(_run(root))
    target = root / "shop/base/__init__.py"
    target.write_text("import os\n", encoding="utf-8")
    after = _run(root)
    assert not after.cached
    assert not any(p == "shop/base/__init__.py" for _, p, _ in _keys(after)) and before != _keys(after)
    _settle(root)
    (root / "shop/base/extra.py").write_text("import shop.tools_x\nimport tools\n", encoding="utf-8")
    added = _run(root)
    assert not added.cached and any(p == "shop/base/extra.py" for _, p, _ in _keys(added))
    _settle(root)
    rules = root / "specs/dependency-rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# a comment changes nothing but the bytes\n",
                     encoding="utf-8")
    assert not _run(root).cached


def test_same_size_edit_with_the_old_mtime_restored_is_seen(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _age(root)
    target = root / "shop/base/__init__.py"
    original = target.read_bytes()
    target.write_bytes(b"import os\n".ljust(len(original), b"#"))     # fresh mtime: racy for the next snapshot
    first = _run(root)
    st = target.stat()
    target.write_bytes(original)                                      # same size ...
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))              # ... and the same mtime: only bytes differ
    second = _run(root)
    assert not second.cached
    assert _keys(second) != _keys(first)
    assert _keys(second) == _keys(_run(root, use_cache=False))


def test_report_written_into_the_tree_does_not_invalidate(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    report = root / "lint-report.json"
    report.write_text("{}", encoding="utf-8")
    _age(root)
    _run(root, outputs=[report])
    report.write_text('{"changed": true}', encoding="utf-8")
    assert _run(root, outputs=[report]).cached


def test_corrupt_caches_are_ignored_and_rebuilt(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _age(root)
    expected = _keys(_run(root))
    cache_dir = root / ".plumego-lint-cache"
    run_files = list(cache_dir.glob("run-*.marshal"))
    facts_files = list(cache_dir.glob("facts-*.marshal"))
    assert len(run_files) == 1 and len(facts_files) == 1
    for garbage in (b"", b"garbage", marshal.dumps({"format": 1, "dirs": [], "files": 3}),
                    marshal.dumps({"format": 1, "dirs": {"/": "x"}, "files": {}, "findings": [(1,)],
                                   "suppressed": 0, "files_checked": 1})):
        run_files[0].write_bytes(garbage)
        facts_files[0].write_bytes(garbage)
        again = _run(root)
        assert not again.cached and _keys(again) == expected
        assert _run(root).cached                      # rewritten in a valid form
    # a loadable facts file whose entries have the wrong shape: those files are parsed again
    loaded = marshal.loads(facts_files[0].read_bytes())
    assert loaded["format"] == FORMAT
    loaded["entries"] = {digest: ("not", "facts") for digest in loaded["entries"]}
    facts_files[0].write_bytes(marshal.dumps(loaded))
    run_files[0].unlink()
    assert _keys(_run(root)) == expected


def test_concurrent_runs_never_corrupt_the_cache(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _age(root)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "plumego_lint", "check", "--format", "json", "--exit-zero"]
    procs = [subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    payloads = [json.loads(out)["violations"] for out, _ in outputs]
    assert all(p == payloads[0] for p in payloads)
    cache_dir = root / ".plumego-lint-cache"
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".") and p.name != ".gitignore"]  # no temp left
    warm = _cli(root, "check", "--format", "json", "--exit-zero")     # same environment and arguments
    if "REPLAYED" not in warm.stderr:
        # The last report record may name a run-cache version that another of the four runs replaced
        # after it (last writer wins for each file separately): then the run cache answers, and records
        # a report that the next identical run replays.
        assert "ENGINE-LOADED" in warm.stderr and json.loads(warm.stdout)["violations"] == payloads[0]
        warm = _cli(root, "check", "--format", "json", "--exit-zero")
    assert "REPLAYED" in warm.stderr and json.loads(warm.stdout)["violations"] == payloads[0]
    for record in cache_dir.glob("cli-*.marshal"):
        record.unlink()
    (run_file,) = cache_dir.glob("run-*.marshal")
    before = run_file.stat().st_mtime_ns
    warm = _cli(root, "check", "--format", "json", "--exit-zero")     # no replay: the run cache answers
    assert "ENGINE-LOADED" in warm.stderr and json.loads(warm.stdout)["violations"] == payloads[0]
    assert run_file.stat().st_mtime_ns == before                      # a hit: nothing re-run, nothing rewritten


def test_snapshot_sees_added_removed_and_renamed_entries(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/a.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    _age(tmp_path)
    snap = Snapshot.take([str(tmp_path)])
    snap.settle()
    assert snap.unchanged()
    (tmp_path / ".hidden/ignored.txt").write_text("dot directories are not inputs", encoding="utf-8")
    assert snap.unchanged()
    (tmp_path / "pkg/a.py").rename(tmp_path / "pkg/b.py")
    assert not snap.unchanged()
    assert not RunCache(tmp_path / "cache", "k").lookup()     # no file: a miss, not an error


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    code = ("import sys; from plumego_lint.cli import main; rc = main(sys.argv[1:]); "
            "sys.stderr.write('ENGINE-LOADED\\n' if 'plumego_lint.engine' in sys.modules else 'REPLAYED\\n'); "
            "sys.exit(rc)")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def test_cli_replays_an_identical_check_of_an_unchanged_tree(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _age(root)
    first = _cli(root, "check", "--format", "json")
    assert first.returncode == 1 and "ENGINE-LOADED" in first.stderr
    again = _cli(root, "check", "--format", "json")
    assert "REPLAYED" in again.stderr
    assert (again.returncode, again.stdout) == (first.returncode, first.stdout)
    # other arguments are another record; the written report file is re-written identically
    report = root / "out/report.txt"
    _cli(root, "check", "--exit-zero", "--output", str(report))    # creating out/ is a change to the tree
    to_file = _cli(root, "check", "--exit-zero", "--output", str(report))
    text = report.read_text(encoding="utf-8")
    report.write_text("stale", encoding="utf-8")
    replayed = _cli(root, "check", "--exit-zero", "--output", str(report))
    assert "REPLAYED" in replayed.stderr and to_file.returncode == replayed.returncode == 0
    assert report.read_text(encoding="utf-8") == text
    # any change to the tree: the rules run again and the new verdicts are reported
    (root / "shop/base/__init__.py").write_text("import os\n", encoding="utf-8")
    changed = _cli(root, "check", "--format", "json")
    assert "ENGINE-LOADED" in changed.stderr and changed.stdout != first.stdout
    expected = _cli(root, "check", "--format", "json", "--no-cache")
    assert changed.stdout == expected.stdout


def test_baseline_and_no_cache_runs_are_never_replayed(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    _age(root)
    baseline = root / "baseline.json"
    _cli(root, "check", "--write-baseline", str(baseline))
    for args in (("check", "--baseline", str(baseline)), ("check", "--no-cache")):
        _cli(root, *args)
        assert "ENGINE-LOADED" in _cli(root, *args).stderr
    assert not any(p.name.startswith("cli-") and "baseline" in p.name for p in (root / ".plumego-lint-cache").iterdir())


def test_racy_entries_are_verified_by_content_even_when_the_stat_matches(tmp_path: Path) -> None:
    """A change within the same timestamp tick leaves size/ctime/inode equal: only the recorded digest sees it."""
    (tmp_path / "pkg").mkdir()
    target = tmp_path / "pkg/a.py"
    target.write_text("x = 1\n", encoding="utf-8")
    snap = Snapshot.take([str(tmp_path)])
    snap.settle()                                    # just written: racy, so digests are recorded
    assert snap.files[str(target)][3] and snap.unchanged()
    target.write_text("x = 2\n", encoding="utf-8")  # same size
    st = target.stat()
    size, _, ino, digest = snap.files[str(target)]
    snap.files[str(target)] = (size, st.st_ctime_ns, st.st_ino, digest)    # as if in the same tick
    assert not snap.unchanged()
    (tmp_path / "pkg/b.py").write_text("", encoding="utf-8")
    dst = (tmp_path / "pkg").stat()
    snap.files[str(target)] = (size, st.st_ctime_ns, st.st_ino, snap.files[str(target)][3])
    names = snap.dirs[str(tmp_path / "pkg")][2]
    snap.dirs[str(tmp_path / "pkg")] = (dst.st_ctime_ns, dst.st_ino, names)
    assert not snap.unchanged()                      # the entry-name digest sees the new file
