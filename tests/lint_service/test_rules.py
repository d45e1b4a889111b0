"""The service rule family on real fixture trees: every import form, re-exports, interfaces, hygiene."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from plumego_lint.service import ServiceContext, check_file, check_paths, load_service_config, match_dotted
from plumego_lint.service.facts import extract_facts

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "service_bad"
EXAMPLE = ROOT / "examples" / "service_repo"


def run(root: Path) -> set[tuple[str, int, str]]:
    ctx = ServiceContext.create(load_service_config(root))
    found = check_paths([], ctx)
    return {(p.relative_to(root).as_posix(), f.line, f.code) for p, fs in found.items() for f in fs}


@pytest.fixture(scope="module")
def bad() -> set[tuple[str, int, str]]:
    return run(BAD)


def of(found: set[tuple[str, int, str]], path: str, code: str) -> list[int]:
    return sorted(line for p, line, c in found if p == path and c == code)


def test_plg301_catches_every_import_form(bad: set[tuple[str, int, str]]) -> None:
    # module import, from-package import, from-symbol, subpackage, aliased, star, missing name, try,
    # TYPE_CHECKING body and else-branch, function-level, import_module, __import__
    assert of(bad, "app/services/forms.py", "PLG301") == [7, 8, 9, 10, 11, 12, 13, 20, 25, 27, 31, 32, 33]


def test_noqa_silences_one_code_or_all(bad: set[tuple[str, int, str]]) -> None:
    assert not [f for f in bad if f[0] == "app/services/forms.py" and f[1] in (16, 17)]


def test_beta_subpackages_are_info_not_errors(bad: set[tuple[str, int, str]]) -> None:
    assert of(bad, "app/services/forms.py", "PLG304") == [14, 15]


def test_typing_only_can_be_ignored_for_one_rule(tmp_path: Path) -> None:
    shutil.copytree(BAD, tmp_path / "repo")
    pyproject = tmp_path / "repo" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'ignore_typing_only = ["PLG301"]\n')
    found = run(tmp_path / "repo")
    lines = of(found, "app/services/forms.py", "PLG301")
    assert 25 not in lines and 27 in lines  # the TYPE_CHECKING body is skipped, its else-branch is not


def test_adapter_reexports_and_missing_interface(bad: set[tuple[str, int, str]]) -> None:
    assert of(bad, "app/adapters/leaky.py", "PLG302") == [3, 5, 6]
    assert of(bad, "app/adapters/leaky.py", "PLG303") == [2]
    assert not [f for f in bad if f[0] == "app/adapters/good.py"]
    # stable code importing the experimental name through the adapter, by name and by attribute
    assert of(bad, "app/services/through.py", "PLG302") == [4, 8]


def test_vague_package_and_hygiene(bad: set[tuple[str, int, str]]) -> None:
    assert of(bad, "app/utils/__init__.py", "PLG201") == [1]
    assert of(bad, "app/handlers/users.py", "PLG601") == [8, 9, 16]  # LIMIT = 10 and a tuple are fine
    assert of(bad, "app/handlers/users.py", "PLG602") == [14, 21]
    assert of(bad, "app/handlers/users.py", "PLG603") == [4]
    assert of(bad, "app/middleware/auth.py", "PLG603") == [2]


def test_example_service_has_exactly_one_violation() -> None:
    assert {(p, c) for p, _, c in run(EXAMPLE) if c != "PLG304"} == {("app/services/chat.py", "PLG301")}


def test_defaults_without_config(tmp_path: Path) -> None:
    (tmp_path / "svc" / "adapters").mkdir(parents=True)
    (tmp_path / "svc" / "__init__.py").write_text("")
    (tmp_path / "svc" / "adapters" / "__init__.py").write_text("")
    (tmp_path / "svc" / "adapters" / "ai.py").write_text(
        "from typing import Protocol\nfrom plumego.x import ai\n\n\nclass Port(Protocol):\n    pass\n")
    (tmp_path / "svc" / "api.py").write_text("from plumego.x import ai\n")
    config = load_service_config(tmp_path)
    assert config.first_party == ("svc",) and config.stable_paths == ("svc",)
    assert run(tmp_path) == {("svc/api.py", 1, "PLG301")}


@pytest.mark.parametrize(("pattern", "module", "expected"), [
    ("app.adapters", "app.adapters", True),
    ("app.adapters", "app.adapters.ai.client", True),
    ("app.adapters", "app.adaptersx", False),
    ("*.adapters", "svc.adapters.ai", True),
    ("*.adapters", "svc.x.adapters", False),
    ("**.adapters", "svc.x.adapters.q", True),
    ("**.adapters", "adapters", True),
    ("app.*.ports", "app.billing.ports", True),
    ("app.*.ports", "app.ports", False),
])
def test_dotted_patterns(pattern: str, module: str, expected: bool) -> None:
    assert match_dotted(pattern, module) is expected


def test_relative_and_aliased_dynamic_imports(tmp_path: Path) -> None:
    ctx = ServiceContext.create(load_service_config(EXAMPLE))
    tree = ast.parse(
        "from importlib import import_module as im\n"
        "from . import chat\n"
        "im('plumego.x.rpc')\n"
        "im('.chat', package=__package__)\n"
    )
    facts = extract_facts(tree, "app.services.extra", False, ctx.is_module)
    assert [(f.module, f.kind) for f in facts.imports] == [
        ("importlib", "from"), ("app.services.chat", "from"), ("plumego.x.rpc", "dynamic"),
        ("app.services.chat", "dynamic")]


def test_unparsable_file_is_reported_not_raised(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "repo")
    broken = tmp_path / "repo" / "app" / "broken.py"
    broken.write_text("def (:\n")
    ctx = ServiceContext.create(load_service_config(tmp_path / "repo"))
    assert [f.code for f in check_file(broken, ctx)] == ["PLG901"]


def test_deprecated_symbols_from_manifests_are_plg305(tmp_path: Path) -> None:
    """PLG305 reads deprecated_symbols from plumego's manifests (here a copy with one entry added)."""
    from plumego_lint.specs import TierIndex

    pkg = tmp_path / "plumego"
    shutil.copytree(ROOT / "plumego", pkg, ignore=shutil.ignore_patterns("*.py", "__pycache__", "*.typed"))
    core = pkg / "core" / "module.yaml"
    core.write_text(core.read_text().replace(
        "deprecated_symbols: []",
        "deprecated_symbols:\n  - symbol: OldApp\n    replacement: plumego.core.App\n    since: '0.1'"))
    tiers = TierIndex.from_package_dir(pkg)
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    use = repo / "app" / "legacy.py"
    use.write_text("import plumego.core\nfrom plumego.core import OldApp, App\n\n\n"
                   "def build() -> object:\n    return plumego.core.OldApp()\n")
    ctx = ServiceContext.create(load_service_config(repo), tiers=tiers)
    found = [(f.line, f.code, f.message) for f in check_file(use, ctx) if f.code == "PLG305"]
    assert [(line, code) for line, code, _ in found] == [(2, "PLG305"), (6, "PLG305")]
    assert all("plumego.core.OldApp is deprecated since 0.1; use plumego.core.App" in m for _, _, m in found)
    # the source is the deprecated_symbols entry's line in that manifest
    sources = {f.source for f in check_file(use, ctx) if f.code == "PLG305"}
    assert len(sources) == 1
    path, _, line = sources.pop().rpartition(":")  # type: ignore[union-attr]
    assert path == "plumego/core/module.yaml"
    assert core.read_text().splitlines()[int(line) - 1].strip() == "- symbol: OldApp"
    # a typing-only import counts by default and follows `ignore_typing_only` like every other rule
    use.write_text("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from plumego.core import OldApp\n")
    assert [f.line for f in check_file(use, ctx) if f.code == "PLG305"] == [4]
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'ignore_typing_only = ["PLG305"]\n')
    quiet = ServiceContext.create(load_service_config(repo), tiers=tiers)
    assert [f.code for f in check_file(use, quiet) if f.code == "PLG305"] == []


def _excluded_by_each_pattern(exclude: tuple[str, ...], rel: str) -> bool:
    """The reference: every pattern matched on its own (fnmatch per path segment, or on the whole path)."""
    import fnmatch

    parts = rel.split("/")
    for pattern in exclude:
        pattern = pattern.rstrip("/")
        if "/" in pattern:
            if fnmatch.fnmatchcase(rel, pattern) or rel.startswith(pattern + "/"):
                return True
        elif any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return True
    return False


def test_exclude_patterns_match_as_each_pattern_alone() -> None:
    from dataclasses import replace

    config = load_service_config(EXAMPLE)
    rels = ["app/main.py", "tests/test_x.py", "app/tests/x.py", "app/test_x.py", "app/x_test.py", "conftest.py",
            "build/lib/a.py", "app/buildx/a.py", "gen/proto/a_pb2.py", "gen/protox/a.py", "app/[x]/a.py",
            "app/Tests/a.py", "legacy/old.py", "legacy", "app/legacy/old.py", "a.b/c.py"]
    for extra in [(), ("gen/proto",), ("gen/proto/",), ("legacy",), ("*_pb2.py", "[x]"), ("app/*/a.py",), ("",),
                  ("a.b",), ("*.py",)]:
        exclude = config.exclude + extra
        cfg = replace(config, exclude=exclude)
        for rel in rels:
            assert cfg.is_excluded(config.root / rel) == _excluded_by_each_pattern(exclude, rel), (extra, rel)
    assert replace(config, exclude=()).is_excluded(config.root / "app/main.py") is False


def test_every_service_finding_names_the_line_it_derives_from() -> None:
    """Tier codes point at the installed plumego's module.yaml line that sets the tier; the others at the
    pyproject.toml key they read, or the [tool.plumego-lint] table when the key is a default."""
    from plumego_lint.engine import CheckOptions, run_check
    from plumego_lint.specs import installed_package_dir

    result = run_check(BAD, CheckOptions(use_cache=False, jobs=1))
    assert result.findings
    plumego_parent = installed_package_dir("plumego")
    assert plumego_parent is not None
    for f in result.findings:
        assert f.source is not None, f
        path, _, line = f.source.rpartition(":")
        assert line.isdigit() and int(line) >= 1, f
        if f.code in {"PLG301", "PLG302", "PLG303", "PLG304"}:
            assert path.startswith("plumego/") and path.endswith("module.yaml"), f
            text = (plumego_parent.parent / path).read_text(encoding="utf-8").splitlines()[int(line) - 1]
            assert text.startswith(("status:", "stability_tiers:")), (f, text)
        else:
            assert path == "pyproject.toml", f
            wanted = "[tool.plumego-lint]" if f.code != "PLG301" else "stable_paths"
            assert (BAD / "pyproject.toml").read_text(encoding="utf-8").splitlines()[int(line) - 1].startswith(wanted)


def test_noqa_on_any_line_of_a_multi_line_import(tmp_path: Path) -> None:
    """As for the boundary rules: a `# noqa` on the closing line of a parenthesised import silences it."""
    import json
    import os
    import subprocess
    import sys

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    use = repo / "app" / "services" / "multi.py"
    use.write_text("from plumego.x.ai import (\n    Orchestrator,\n)  # noqa: PLG301\n"
                   "from plumego.x.ai import (\n    Session,\n)  # noqa: PLG999\n")
    ctx = ServiceContext.create(load_service_config(repo))
    assert [(f.line, f.code) for f in check_file(use, ctx)] == [(4, "PLG301")]
    proc = subprocess.run([sys.executable, "-m", "plumego_lint", "check", "--no-cache", "--format", "json"],
                          cwd=repo, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    payload = json.loads(proc.stdout)
    assert [(v["line"], v["code"]) for v in payload["violations"] if v["path"] == "app/services/multi.py"] == [
        (4, "PLG301")]
