"""The shipped control plane loads and validates; bad specs fail with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from plumego_lint.specs import SpecError, TierIndex, load_specs, match_pattern
from plumego_lint.specs.loader import iter_manifest_files

STABLE = ["contract", "router", "core", "middleware", "security", "store", "health", "log", "metrics"]


def test_every_shipped_manifest_validates(repo_root: Path) -> None:
    specs = load_specs(repo_root)
    assert specs.package == "plumego"
    assert [f"{p.code} {p.location} {p.message}" for p in specs.problems] == []
    for root in STABLE:
        assert specs.manifests[root].status == "ga"
        assert specs.manifests[root].layer == "stable"
    assert len(specs.manifests) == len(list(iter_manifest_files(repo_root / "plumego")))


def test_every_extension_root_is_declared_with_a_manifest_and_taxonomy(repo_root: Path) -> None:
    specs = load_specs(repo_root)
    on_disk = sorted(f"x/{p.name}" for p in (repo_root / "plumego" / "x").iterdir()
                     if p.is_dir() and p.name != "__pycache__")
    assert sorted(specs.repo.layer_paths("extension")) == on_disk
    assert sorted(f.canonical_root for f in specs.families.values()) == on_disk
    for rel in on_disk:
        assert rel in specs.manifests


def test_dependency_rules_cover_every_root_and_family(repo_root: Path) -> None:
    specs = load_specs(repo_root)
    paths = {r.path for r in specs.rules.modules.values()}
    assert set(STABLE) | set(specs.repo.layer_paths("extension")) <= paths
    for root in STABLE:
        rule = specs.rules.modules[root]
        assert any(d.pattern == "x/**" for d in rule.deny), root
        assert rule.allows_stdlib
    # health, log and metrics get the same boundaries as the others (upstream forgot them)
    assert not any(a.pattern == "contract" for a in specs.rules.modules["health"].allow)


def test_tiers_from_manifests(repo_root: Path) -> None:
    index = TierIndex.from_package_dir(repo_root / "plumego")
    assert index.tier_of("plumego.core") == "ga"
    assert index.tier_of("plumego.core.app") == "ga"
    assert index.tier_of("plumego.x.ai") == "experimental"
    assert index.tier_of("plumego.x.ai.orchestration") == "experimental"
    assert index.tier_of("plumego.x.ai.provider") == "beta"
    assert index.tier_of("plumego.x.ai.provider.openai") == "beta"
    assert index.tier_of("plumego.x.data.idempotency") == "beta"
    assert index.tier_of("plumego.x.messaging") == "beta"
    assert index.tier_of("plumego.x.messaging.mq") == "experimental"
    assert index.tier_of("plumego_lint") is None
    assert index.tier_of("plumegox") is None
    entry = index.lookup("plumego.x.ai.provider.openai")
    assert entry is not None and entry.source.path == "plumego/x/ai/provider/module.yaml"


@pytest.mark.parametrize(
    ("pattern", "rel", "expected"),
    [
        ("x/**", "x", True), ("x/**", "x/ai/provider", True), ("x/**", "xy", False),
        ("core", "core", True), ("core", "core/app", True), ("core", "corex", False),
        ("x/*", "x/ai", True), ("x/*", "x/ai/provider", False), ("x/*", "x", False),
        ("**", "anything/at/all", True),
    ],
)
def test_pattern_semantics(pattern: str, rel: str, expected: bool) -> None:
    assert match_pattern(pattern, rel) is expected


def _copy_specs(repo_root: Path, tmp_path: Path) -> Path:
    shutil.copytree(repo_root / "specs", tmp_path / "specs")
    shutil.copytree(repo_root / "plumego", tmp_path / "plumego",
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(repo_root / "docs", tmp_path / "docs")
    return tmp_path


def test_yaml_syntax_error_names_file_and_line(repo_root: Path, tmp_path: Path) -> None:
    root = _copy_specs(repo_root, tmp_path)
    path = root / "specs" / "dependency-rules.yaml"
    lines = path.read_text().splitlines()
    lines.insert(9, "  broken: [unclosed")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError) as info:
        load_specs(root)
    assert info.value.path == "specs/dependency-rules.yaml"
    assert info.value.line >= 10


def test_wrong_type_names_the_key_line(repo_root: Path, tmp_path: Path) -> None:
    root = _copy_specs(repo_root, tmp_path)
    path = root / "specs" / "dependency-rules.yaml"
    text = path.read_text().replace("  contract:\n    path: contract\n", "  contract:\n    path: [contract]\n", 1)
    path.write_text(text)
    line = text.splitlines().index("    path: [contract]") + 1
    with pytest.raises(SpecError) as info:
        load_specs(root)
    assert (info.value.path, info.value.line) == ("specs/dependency-rules.yaml", line)
    assert "'path' must be a string" in info.value.message


def test_missing_spec_file_is_fatal(repo_root: Path, tmp_path: Path) -> None:
    root = _copy_specs(repo_root, tmp_path)
    (root / "specs" / "repo.yaml").unlink()
    with pytest.raises(SpecError, match="file not found"):
        load_specs(root)


def test_manifest_problems_are_reported_with_lines(repo_root: Path, tmp_path: Path) -> None:
    root = _copy_specs(repo_root, tmp_path)
    manifest = root / "plumego" / "x" / "rest" / "module.yaml"
    text = manifest.read_text().replace("status: beta", "status: preview").replace("owner: platform-api\n", "")
    text = text.replace("name: x/rest", "name: rest") + "colour: blue\n"
    manifest.write_text(text)
    (root / "plumego" / "x" / "rpc" / "module.yaml").unlink()
    problems = {(p.code, p.location.path, p.message) for p in load_specs(root).problems}
    codes = {code for code, _, _ in problems}
    assert {"PLG401", "PLG402", "PLG403", "PLG405", "PLG410"} <= codes
    status_line = text.splitlines().index("status: preview") + 1
    assert any(p.code == "PLG403" and p.location.line == status_line for p in load_specs(root).problems)
    assert ("PLG401", "specs/repo.yaml", "missing module.yaml for x/rpc") in problems


def test_tier_mismatch_between_family_and_subpackage(repo_root: Path, tmp_path: Path) -> None:
    root = _copy_specs(repo_root, tmp_path)
    sub = root / "plumego" / "x" / "ai" / "provider" / "module.yaml"
    sub.write_text(sub.read_text().replace("status: beta", "status: experimental"))
    messages = [p.message for p in load_specs(root).problems if p.code == "PLG409"]
    assert any("stability_tiers puts 'provider' in 'beta'" in m for m in messages)
