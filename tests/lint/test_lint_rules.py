"""One fixture repo with a positive case for every rule family (marked `# expect: CODE` in Python files,
listed here for spec/doc findings); every unmarked line is a negative case."""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES, check_json, expected_markers, found, run_cli

ROOT = FIXTURES / "rules"

SPEC_FINDINGS = {
    ("docs/core.md", 3, "PLG501"),
    ("shop/core/module.yaml", 12, "PLG407"),
    ("shop/extra", 1, "PLG202"),
    ("shop/misc", 1, "PLG201"),
    ("shop/x/nested/module.yaml", 4, "PLG403"),
    ("shop/x/nested/module.yaml", 7, "PLG406"),
    ("shop/x/undeclared", 1, "PLG203"),
    ("shop/x/undeclared/pyproject.toml", 1, "PLG204"),
    ("specs/dependency-rules.yaml", 35, "PLG106"),
}


def test_every_rule_fires_exactly_where_marked() -> None:
    code, payload = check_json(ROOT)
    assert code == 1
    assert found(payload) == expected_markers(ROOT) | SPEC_FINDINGS


def test_findings_cite_the_spec_line_they_come_from() -> None:
    _, payload = check_json(ROOT)
    by_key = {(v["path"], v["line"], v["code"]): v for v in payload["violations"]}  # type: ignore[union-attr]
    assert by_key[("shop/base/__init__.py", 2, "PLG101")]["source"] == "specs/dependency-rules.yaml:16"
    assert by_key[("shop/x/pay/__init__.py", 2, "PLG108")]["source"] == "shop/x/pay/module.yaml:9"
    assert by_key[("shop/core/__init__.py", 7, "PLG104")]["source"] == "specs/dependency-rules.yaml:38"
    assert by_key[("shop/core/__init__.py", 8, "PLG102")]["source"] == "specs/dependency-rules.yaml:2"
    assert by_key[("shop/core/__init__.py", 10, "PLG103")]["source"] == "specs/repo.yaml:11"


def test_warnings_do_not_fail_the_run(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    code, payload = check_json(ROOT, "--select", "PLG110")
    assert code == 0
    assert found(payload) == {("shop/core/__init__.py", 17, "PLG110")}


def test_select_and_ignore_pick_the_next_rule_in_precedence() -> None:
    _, payload = check_json(ROOT, "--ignore", "PLG102")
    got = found(payload)
    assert ("shop/core/__init__.py", 8, "PLG102") not in got
    assert ("shop/core/__init__.py", 8, "PLG101") in got       # core denies x/** too
    _, only = check_json(ROOT, "--select", "PLG2")
    assert {c for _, _, c in found(only)} == {"PLG201", "PLG202", "PLG203", "PLG204"}


def test_explain_edge_names_rule_and_spec_line() -> None:
    proc = run_cli("explain", "--root", str(ROOT), "--import", "shop.base", "shop.core.thing")
    assert proc.returncode == 1
    assert "DENIED by PLG101" in proc.stdout and "specs/dependency-rules.yaml:16" in proc.stdout
    proc = run_cli("explain", "--root", str(ROOT), "--import", "shop.core", "shop.base.secret")
    assert proc.returncode == 0, proc.stdout
    assert "allow 'base' of core (specs/dependency-rules.yaml:" in proc.stdout and "ALLOWED" in proc.stdout
    proc = run_cli("explain", "--root", str(ROOT), "--import", "shop.lazy", "yaml", "--function-level")
    assert proc.returncode == 0 and "approved third-party" in proc.stdout


def test_sync_check_reports_drift_and_sync_fixes_it(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    proc = run_cli("sync", "--check", cwd=root)
    assert proc.returncode == 1 and "docs/core.md:3:1: PLG501" in proc.stdout
    assert run_cli("sync", cwd=root).returncode == 0
    assert run_cli("sync", "--check", cwd=root).returncode == 0
    assert "| `shop.core` | ga | kernel | The core root. |" in (root / "docs/core.md").read_text()


def test_rule_paths_that_match_no_module_are_plg411(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    rules = root / "specs" / "dependency-rules.yaml"
    text = rules.read_text(encoding="utf-8")
    text = text.replace("    deny: [core, x/**]\n", "    deny: [core, x/**, x/pya/**, internal/*]\n")   # line 16
    text = text.replace("special_rules:\n", "  gone:\n    path: legacy\n    layer: stable\n    allow: [stdlib, bse]\n"
                                            "special_rules:\n")                                       # lines 36-40
    rules.write_text(text, encoding="utf-8")
    _, payload = check_json(root)
    dead = {(v["path"], v["line"], v["message"]) for v in payload["violations"]  # type: ignore[union-attr]
            if v["code"] == "PLG411"}
    assert dead == {
        ("specs/dependency-rules.yaml", 16, "module rule 'base': deny entry 'x/pya/**' matches no module under shop"),
        ("specs/dependency-rules.yaml", 36,
         "module rule 'gone': path 'legacy' matches no module under shop; the rule guards nothing"),
        ("specs/dependency-rules.yaml", 39, "module rule 'gone': allow entry 'bse' matches no module under shop"),
    }   # `internal/*` has internal/codec below it, `stdlib` and `**` are not paths: no finding
    violations: list[dict[str, object]] = payload["violations"]  # type: ignore[assignment]
    assert all(v["severity"] == "warning" for v in violations if v["code"] == "PLG411")
