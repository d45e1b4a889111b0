"""What a dependency rule's `allow` key means: absent restricts nothing (an import-linter forbidden contract
ported as a deny-only rule gives exactly its deny findings), `allow: []` allows nothing outside the rule's own
path, a nested deny-only rule keeps its parent's allow list; unwritten repo-wide `rules:` flags are off.
Plumego's own rules must keep every boundary they enforce (each has an explicit allow list)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, check_json, expected_markers, found, run_cli

from plumego_lint.specs import load_specs

ROOT = FIXTURES / "allow"
DJANGO = Path(os.environ.get("PLUMEGO_DJANGO_SRC") or REPO / "bench/.work/django_src/django")


def test_allow_semantics_fire_exactly_where_marked() -> None:
    code, payload = check_json(ROOT)
    assert code == 1
    assert found(payload) == expected_markers(ROOT)


def test_explain_says_a_deny_only_rule_does_not_restrict() -> None:
    proc = run_cli("explain", "--root", str(ROOT), "--import", "lib.open", "lib.walled.other")
    assert proc.returncode == 0, proc.stdout
    assert "has an allow list: allow restricts nothing (only deny lists apply)" in proc.stdout
    proc = run_cli("explain", "--root", str(ROOT), "--import", "lib.open", "os")
    assert proc.returncode == 0 and "no rule containing the importer has an allow list" in proc.stdout
    # the nested deny-only rule: its parent's allow list still decides, and the message names the parent
    proc = run_cli("explain", "--root", str(ROOT), "--import", "lib.walled.inner", "lib.free")
    assert proc.returncode == 1
    assert "not in the allow list of module walled [specs/dependency-rules.yaml:10]" in proc.stdout
    proc = run_cli("explain", "--root", str(ROOT), "--import", "lib.closed", "os")
    assert proc.returncode == 1 and "does not allow 'stdlib'" in proc.stdout


def test_a_bare_allow_key_is_a_spec_error_not_a_guess(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("allow")
    rules = root / "specs/dependency-rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("allow: []", "allow:"), encoding="utf-8")
    proc = run_cli("check", "--no-cache", cwd=root)
    assert proc.returncode == 2
    assert "specs/dependency-rules.yaml:9:1: PLG902 'allow' is empty: write `allow: []`" in proc.stderr


def test_unwritten_flags_are_off_and_misspelt_ones_are_errors(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("allow")
    (root / "lib/free/facade.py").write_text("import lib\n", encoding="utf-8")
    code, payload = check_json(root)
    assert ("lib/free/facade.py", 1, "PLG104") not in found(payload)
    rules = root / "specs/dependency-rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text("rules:\n  root_facade_forbidden: true\n" + text, encoding="utf-8")
    _, payload = check_json(root)
    assert ("lib/free/facade.py", 1, "PLG104") in found(payload)
    rules.write_text("rules:\n  root_facade_forbiden: true\n" + text, encoding="utf-8")
    proc = run_cli("check", "--no-cache", cwd=root)
    assert proc.returncode == 2 and "unknown rule 'root_facade_forbiden' under 'rules'" in proc.stderr


def test_plumegos_own_rules_all_keep_an_explicit_allow_list_and_flags() -> None:
    """Absent `allow` used to mean "nothing": every boundary plumego enforced that way must be written out."""
    specs = load_specs(REPO, "specs")
    unrestricted = [r.name for r in specs.rules.modules.values() if not r.restricts]
    assert unrestricted == []
    assert all(specs.rules.flags.get(name) is True for name in (
        "stable_must_not_depend_on_extension", "library_must_not_depend_on_reference", "root_facade_forbidden",
        "stable_third_party_must_be_approved"))


SIX_DENY_ONLY_RULES = """\
modules:
  utils: {path: utils, deny: [db, contrib]}
  http: {path: http, deny: [db, contrib]}
  dispatch: {path: dispatch, deny: [db, http, contrib]}
  template: {path: template, deny: [db]}
  core: {path: core, deny: [contrib/admin]}
  db: {path: db, deny: [contrib/admin, views]}
"""


def test_six_deny_only_rules_on_django_give_only_deny_findings(tmp_path: Path) -> None:
    """The issue's case: deny-only rules used to make every other import of Django a PLG107 (1,513 here)."""
    if not DJANGO.is_dir():
        pytest.skip(f"{DJANGO} not downloaded (python bench/lint_bench.py fetches it; or set PLUMEGO_DJANGO_SRC)")
    root = tmp_path / "django_repo"
    shutil.copytree(DJANGO, root / "django", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "specs").mkdir()
    (root / "specs/repo.yaml").write_text("repo:\n  name: django\n  module: django\n", encoding="utf-8")
    (root / "specs/dependency-rules.yaml").write_text(SIX_DENY_ONLY_RULES, encoding="utf-8")
    (root / "pyproject.toml").write_text('[tool.plumego-lint]\nspecs = "specs"\n', encoding="utf-8")
    proc = run_cli("check", "--no-cache", "--format", "json", "--select", "PLG1,PLG9", cwd=root)
    violations = json.loads(proc.stdout)["violations"]
    assert violations and {v["code"] for v in violations} == {"PLG101"}, violations[:5]
    # exactly the imports a deny pattern matches: the errors of the old workaround of allowing everything (which,
    # being an allow list, also warns about computed import names: PLG110)
    (root / "specs/dependency-rules.yaml").write_text(
        SIX_DENY_ONLY_RULES.replace("deny:", "allow: [stdlib, '**'], deny:"), encoding="utf-8")
    again = json.loads(run_cli("check", "--no-cache", "--format", "json", "--select", "PLG1,PLG9", cwd=root).stdout)
    assert violations == [v for v in again["violations"] if v["severity"] == "error"]
    assert {v["code"] for v in again["violations"]} == {"PLG101", "PLG110"}
