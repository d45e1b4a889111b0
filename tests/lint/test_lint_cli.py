"""CLI surface as subprocesses: formats (text, JSON schema, SARIF, GitHub, Markdown, JUnit), exit codes,
--output/--exit-zero, explain, baselines that survive line moves, noqa, and the facts cache."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from conftest import FIXTURES, found, run_cli

ROOT = FIXTURES / "rules"


def test_text_format_lines() -> None:
    proc = run_cli("check", "--no-cache", cwd=ROOT)
    assert proc.returncode == 1
    assert "shop/base/__init__.py:2:8: PLG101 shop.base imports shop.core, denied by module base (deny 'core')" \
        in proc.stdout.splitlines()


def test_json_schema_is_exactly_the_documented_one() -> None:
    proc = run_cli("check", "--no-cache", "--format", "json", cwd=ROOT)
    doc = json.loads(proc.stdout)
    assert set(doc) == {"version", "tool", "root", "summary", "violations"}
    assert doc["version"] == 1 and doc["tool"]["name"] == "plumego-lint"
    assert set(doc["summary"]) == {"files", "errors", "warnings", "infos"}
    assert doc["summary"]["errors"] == sum(1 for v in doc["violations"] if v["severity"] == "error")
    for v in doc["violations"]:
        assert set(v) == {"code", "severity", "path", "line", "column", "message", "source"}
        assert v["line"] >= 1 and v["column"] >= 1 and not v["path"].startswith("/")


def test_sarif_has_rules_relative_uris_and_line_independent_fingerprints(tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                         fixture_copy) -> None:
    root = fixture_copy("rules")
    first = json.loads(run_cli("check", "--no-cache", "--format", "sarif", cwd=root).stdout)
    run = first["runs"][0]
    assert first["version"] == "2.1.0"
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "PLG101" in ids and all(r["help"]["text"] for r in run["tool"]["driver"]["rules"])
    result = next(r for r in run["results"] if r["ruleId"] == "PLG101")
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "shop/base/__init__.py", "uriBaseId": "%SRCROOT%"}
    assert ids[result["ruleIndex"]] == "PLG101"
    # move the import down two lines: the fingerprint must not change
    init = root / "shop/base/__init__.py"
    init.write_text("\n\n" + init.read_text(encoding="utf-8"), encoding="utf-8")
    second = json.loads(run_cli("check", "--no-cache", "--format", "sarif", cwd=root).stdout)
    moved = next(r for r in second["runs"][0]["results"] if r["ruleId"] == "PLG101")
    assert moved["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert moved["partialFingerprints"] == result["partialFingerprints"]


def test_github_annotations() -> None:
    proc = run_cli("check", "--no-cache", "--format", "github", cwd=ROOT)
    assert "::error file=shop/base/__init__.py,line=2,col=8,title=PLG101::shop.base imports shop.core" in proc.stdout
    assert "::warning file=shop/core/__init__.py,line=17,col=12,title=PLG110::" in proc.stdout


def test_markdown_and_junit(tmp_path: Path) -> None:
    md = run_cli("check", "--no-cache", "--format", "markdown", cwd=ROOT).stdout
    assert md.startswith("## plumego-lint: failed") and "| PLG101 | 2 |" in md
    out = tmp_path / "junit.xml"
    proc = run_cli("check", "--no-cache", "--format", "junit", "--output", str(out), cwd=ROOT)
    assert proc.returncode == 1 and proc.stdout == ""
    suites = ET.parse(out).getroot()
    failures = suites.findall(".//failure")
    assert failures and suites.get("failures") == str(len(failures))
    assert any(f.get("type") == "PLG101" for f in failures)


def test_exit_zero_and_usage_errors() -> None:
    assert run_cli("check", "--no-cache", "--exit-zero", cwd=ROOT).returncode == 0
    assert run_cli("check", "--format", "nope", cwd=ROOT).returncode == 2
    assert run_cli("explain", "PLG999").returncode == 2
    assert run_cli().returncode == 2


def test_explain_rule_and_list() -> None:
    proc = run_cli("explain", "PLG107")
    assert proc.returncode == 0 and "allow" in proc.stdout and "dependency-rules.yaml modules.<m>.allow" in proc.stdout
    listing = run_cli("explain").stdout
    assert all(code in listing for code in ("PLG101", "PLG110", "PLG204", "PLG407", "PLG501", "PLG901", "PLG903"))


def test_baseline_survives_line_moves_and_reports_stale_entries(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    baseline = root / "lint-baseline.json"
    assert run_cli("check", "--no-cache", "--write-baseline", str(baseline), cwd=root).returncode == 0
    assert run_cli("check", "--no-cache", "--baseline", str(baseline), cwd=root).returncode == 0
    core = root / "shop/core/__init__.py"
    text = core.read_text(encoding="utf-8")
    core.write_text("\n\n\n" + text.replace("import tools.helper  # expect: PLG103\n", ""), encoding="utf-8")
    proc = run_cli("check", "--no-cache", "--format", "json", "--baseline", str(baseline), cwd=root)
    payload = json.loads(proc.stdout)
    got = found(payload)
    assert proc.returncode == 0          # every finding moved by three lines: still baselined
    assert ("lint-baseline.json", 1, "PLG903") in got            # tools.helper entry is no longer needed
    assert all(c == "PLG903" for _, _, c in got)


def test_baseline_lets_new_violations_through(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    baseline = root / "b.json"
    run_cli("check", "--no-cache", "--write-baseline", str(baseline), cwd=root)
    (root / "shop/base/more.py").write_text("import shop.core\n", encoding="utf-8")
    proc = run_cli("check", "--no-cache", "--format", "json", "--baseline", str(baseline), cwd=root)
    assert proc.returncode == 1
    assert found(json.loads(proc.stdout)) == {("shop/base/more.py", 1, "PLG101")}


def test_noqa_forms(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    (root / "shop/base/quiet.py").write_text(
        "import shop.core  # noqa: PLG101\nimport shop.core.x  # noqa\nimport shop.core  # noqa: PLG107\n"
        "from shop.core import (  # noqa: PLG101\n    thing,\n)\n", encoding="utf-8")
    payload = json.loads(run_cli("check", "--no-cache", "--format", "json", cwd=root).stdout)
    assert {(p, line) for p, line, _ in found(payload) if p == "shop/base/quiet.py"} == {("shop/base/quiet.py", 3)}


def test_cache_is_written_reused_and_invalidated_by_content(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    cold = run_cli("check", "--format", "json", cwd=root)
    cache_files = list((root / ".plumego-lint-cache").glob("facts-*.marshal"))
    assert len(cache_files) == 1
    warm = run_cli("check", "--format", "json", cwd=root)
    assert json.loads(warm.stdout)["violations"] == json.loads(cold.stdout)["violations"]
    (root / "shop/base/__init__.py").write_text("import os\n", encoding="utf-8")
    after = found(json.loads(run_cli("check", "--format", "json", cwd=root).stdout))
    assert not any(p == "shop/base/__init__.py" for p, _, _ in after)
    cache_files[0].write_bytes(b"garbage")            # a corrupt cache is ignored, never fatal
    again = run_cli("check", "--format", "json", cwd=root)
    assert found(json.loads(again.stdout)) == after


def test_parallel_parse_gives_the_same_findings(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("imports")
    for i in range(320):
        (root / f"app/stable/gen_{i}.py").write_text(f"import os\nimport app.ext.plugin as p{i}\n", encoding="utf-8")
    serial = json.loads(run_cli("check", "--no-cache", "--jobs", "1", "--format", "json", cwd=root).stdout)
    parallel = json.loads(run_cli("check", "--no-cache", "--jobs", "2", "--format", "json", cwd=root).stdout)
    assert serial["violations"] == parallel["violations"]
    assert len(serial["violations"]) > 320


def test_paths_limit_the_report(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    payload = json.loads(run_cli("check", "--no-cache", "--format", "json", "shop/base", cwd=root).stdout)
    assert {p for p, _, _ in found(payload)} == {"shop/base/__init__.py"}


def test_every_path_must_exist_and_lie_in_the_project(fixture_copy,  # type: ignore[no-untyped-def]
                                                      tmp_path: Path) -> None:
    root: Path = fixture_copy("rules")
    missing = run_cli("check", "--no-cache", "shop/base", "shop/nope.py", cwd=root)
    assert missing.returncode == 2 and "path not found: shop/nope.py" in missing.stderr
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text("import os\n", encoding="utf-8")
    outside = run_cli("check", "--no-cache", "shop/base", str(elsewhere), cwd=root)
    assert outside.returncode == 2 and "is outside the project root" in outside.stderr, outside.stderr
    assert outside.stdout == ""     # no report that would read as "clean"


def test_text_names_files_from_the_working_directory(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    root: Path = fixture_copy("rules")
    at_root = run_cli("check", "--no-cache", cwd=root).stdout.splitlines()
    below = run_cli("check", "--no-cache", cwd=root / "shop" / "base").stdout.splitlines()
    assert "shop/base/__init__.py:2:8: PLG101" in "\n".join(at_root)
    assert "\n__init__.py:2:8: PLG101" in "\n".join(below) and "\n../core/__init__.py:" in "\n".join(below)
    assert len(below) == len(at_root)
    # the summary line aside, each line names the same file from elsewhere
    assert [line.split(":", 1)[1] for line in below[:-1]] == [line.split(":", 1)[1] for line in at_root[:-1]]
    # machine formats keep repo-relative paths wherever they run
    payload = json.loads(run_cli("check", "--no-cache", "--format", "json", cwd=root / "shop" / "base").stdout)
    assert ("shop/base/__init__.py", 2, "PLG101") in found(payload)
