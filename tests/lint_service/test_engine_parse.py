"""The service family inside ``plumego-lint check``: each file parsed once, the findings of the per-file route.

The engine's parse step builds every file's service facts (``ServiceExtractor``) from the tree it parses
for the import facts, in the parse workers when there are any, and the facts cache keeps them. These
tests run the real engine on real fixture trees and compare with the route that parses each file again
in the service family (what it still does when called without the parse step) and with
``service.check_paths``; a counting wrapper around ``ast.parse`` shows what is parsed.
"""

from __future__ import annotations

import ast
import marshal
import pickle
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plumego_lint import engine
from plumego_lint.engine import CheckOptions, analyze, apply_noqa, build_project, collect_facts, evaluate, run_check
from plumego_lint.findings import Finding
from plumego_lint.rules import default_families
from plumego_lint.rules.service import ServiceFamily
from plumego_lint.service import SERVICE_CODES, ServiceContext, check_paths, load_service_config
from plumego_lint.service.facts import ModuleFacts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "service_repo"
BAD = ROOT / "tests" / "fixtures" / "service_bad"
LOOKUPS = ROOT / "tests" / "fixtures" / "service_lookups"   # lookups of files checked before and after
REPOS = {"example": EXAMPLE, "service_bad": BAD, "service_lookups": LOOKUPS,
         "rules": ROOT / "tests" / "lint" / "fixtures" / "rules",
         "imports": ROOT / "tests" / "lint" / "fixtures" / "imports"}


class CountingParse:
    """``ast.parse`` that counts the sources it is given; every call still parses."""

    def __init__(self, real: Callable[..., ast.Module]) -> None:
        self.real = real
        self.sources: Counter[bytes] = Counter()

    def __call__(self, source: str | bytes, *args: Any, **kwargs: Any) -> ast.Module:
        self.sources[source if isinstance(source, bytes) else source.encode()] += 1
        return self.real(source, *args, **kwargs)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> CountingParse:
    counting = CountingParse(ast.parse)
    monkeypatch.setattr(ast, "parse", counting)
    return counting


def _copy(src: Path, tmp_path: Path) -> Path:
    """A copy of a fixture repo; the lookups one gets a file that does not parse (never committed as such)."""
    target = tmp_path / src.name
    shutil.copytree(src, target, ignore=shutil.ignore_patterns(".plumego-lint-cache", "__pycache__"))
    if src == LOOKUPS:
        (target / "svc" / "broken.py").write_text("def broken(:\n    pass\n", encoding="utf-8")
    return target


def _drop_run_cache(root: Path) -> None:
    for record in (root / ".plumego-lint-cache").glob("run-*.marshal"):
        record.unlink()


def _per_file_route(root: Path) -> list[Finding]:
    """The route before the parse step built service facts: the family parses each file itself."""
    project = build_project(root)
    analysis = analyze(project, collect_facts(project, jobs=1, use_cache=False))    # no families: no tree facts
    findings, _ = apply_noqa(project, analysis, evaluate(project, analysis, default_families()))
    return findings


@pytest.mark.parametrize("name", sorted(REPOS))
def test_check_finds_what_the_per_file_parse_route_finds(name: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root = _copy(REPOS[name], tmp_path)
    expected = _per_file_route(root)
    assert expected
    assert run_check(root, CheckOptions(use_cache=False, jobs=1)).findings == expected
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 1)        # the process pool, even on a small tree
    assert run_check(root, CheckOptions(use_cache=False, jobs=2)).findings == expected
    cold = run_check(root, CheckOptions(jobs=2))
    _drop_run_cache(root)
    warm = run_check(root, CheckOptions(jobs=1))                # service facts from the facts cache
    assert not cold.cached and not warm.cached
    assert cold.findings == expected and warm.findings == expected


@pytest.mark.parametrize("root", [EXAMPLE, BAD, LOOKUPS], ids=lambda p: p.name)
def test_service_findings_are_the_service_runners(root: Path, tmp_path: Path) -> None:
    root = _copy(root, tmp_path)
    found = {(f.path, f.line, f.column, f.code, f.message)
             for f in run_check(root, CheckOptions(use_cache=False, jobs=1)).findings
             if f.code in SERVICE_CODES and f.code != "PLG901"}
    ctx = ServiceContext.create(load_service_config(root))
    old = {(path.relative_to(root).as_posix(), f.line, f.column, f.code, f.message)
           for path, fs in check_paths([], ctx).items() for f in fs if f.code != "PLG901"}
    assert found and found == old


def test_lookups_reach_files_checked_later(tmp_path: Path) -> None:
    root = _copy(LOOKUPS, tmp_path)
    found = {(f.path, f.line, f.code) for f in run_check(root, CheckOptions(use_cache=False, jobs=1)).findings}
    assert {("svc/aaa_early.py", 3, "PLG302"), ("svc/aaa_early.py", 7, "PLG302"),
            ("svc/zz_late.py", 2, "PLG302")} <= found
    assert not [f for f in found if f[0] == "svc/adapters/ported.py"]    # its Protocol is in svc/ports.py


def test_each_file_is_parsed_once_and_not_again_with_a_warm_facts_cache(tmp_path: Path,
                                                                        parses: CountingParse) -> None:
    root = _copy(LOOKUPS, tmp_path)
    cold = run_check(root, CheckOptions(jobs=1))
    contents = Counter(Path(f.abspath).read_bytes() for f in cold.project.files)
    assert parses.sources == contents          # every file exactly once: checks and lookups included
    assert any(f.code == "PLG302" for f in cold.findings) and any(f.code == "PLG901" for f in cold.findings)

    parses.sources.clear()
    _drop_run_cache(root)
    warm = run_check(root, CheckOptions(jobs=1))
    assert not warm.cached and warm.findings == cold.findings
    assert not parses.sources                  # import facts and service facts both came from the cache

    late = root / "svc/zz_late.py"
    late.write_text(late.read_text(encoding="utf-8") + "\nCOUNT = 1\n", encoding="utf-8")
    _drop_run_cache(root)
    touched = run_check(root, CheckOptions(jobs=1))
    assert parses.sources == Counter({late.read_bytes(): 1})
    assert touched.findings == run_check(root, CheckOptions(use_cache=False, jobs=1)).findings


def test_a_new_module_invalidates_the_cached_facts_that_named_it(tmp_path: Path, parses: CountingParse) -> None:
    # `from svc.adapters import newer` imports a name of svc.adapters until svc/adapters/newer.py exists,
    # then a module: PLG302 on the attribute use appears only then, though zz_user.py did not change.
    root = _copy(LOOKUPS, tmp_path)
    user = root / "svc/zz_user.py"
    user.write_text("from svc.adapters import newer\n\n\ndef use() -> object:\n    return newer.Alias\n",
                    encoding="utf-8")
    before = run_check(root, CheckOptions(jobs=1))
    assert not [f for f in before.findings if f.path == "svc/zz_user.py"]
    newer = root / "svc/adapters/newer.py"
    newer.write_text("from plumego.x.ai import Client\n\nAlias = Client\n", encoding="utf-8")
    parses.sources.clear()
    _drop_run_cache(root)
    after = run_check(root, CheckOptions(jobs=1))
    assert parses.sources == Counter({user.read_bytes(): 1, newer.read_bytes(): 1})
    assert ("svc/zz_user.py", 5, "PLG302") in {(f.path, f.line, f.code) for f in after.findings}
    assert after.findings == run_check(root, CheckOptions(use_cache=False, jobs=1)).findings


def test_extractor_pickles_and_its_facts_survive_marshal() -> None:
    project = build_project(LOOKUPS)
    extractor = ServiceFamily().tree_extractor(project)
    assert extractor is not None
    clone = pickle.loads(pickle.dumps(extractor))        # what a spawned parse worker receives
    ctx = ServiceContext.create(extractor.config)
    checked = 0
    for file in project.files:
        key = extractor.key(file)
        data = Path(file.abspath).read_bytes()
        if key is None:
            continue
        tree = ast.parse(data)
        plain = clone.extract(key, tree, data)
        stored = marshal.loads(marshal.dumps(plain))
        assert stored == plain and extractor.still_valid(stored)
        module = ctx.config.module_name(file.path)
        assert module is not None
        assert extractor.decode(stored) == ctx.facts_for(tree, module, file.is_package, data)
        checked += 1
    assert checked >= 8
    assert not extractor.still_valid(("damaged",)) and not extractor.still_valid(((), (("x", 1, 2),)))
    with pytest.raises((TypeError, ValueError)):
        extractor.decode((("not", "module", "facts"), ()))
    with pytest.raises(TypeError):
        ModuleFacts.from_plain(("m", False, ((1,),), (), (), None, (), (), (), {}))


def test_plumego_own_repository_has_no_service_extractor() -> None:
    assert ServiceFamily().tree_extractor(build_project(ROOT)) is None
