"""Broken inputs never crash the run: each is PLG901 (or skipped) and the rest of the tree is still checked.
Bad config or specs stop the run with exit 2 and name the file and line (PLG902)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import check_json, found, run_cli


def _project(root: Path) -> Path:
    (root / "specs").mkdir(parents=True)
    (root / "specs/repo.yaml").write_text("repo:\n  module: app\nlayers:\n  stable:\n    paths: [core]\n"
                                          "", encoding="utf-8")
    (root / "specs/dependency-rules.yaml").write_text("modules:\n  core:\n    path: core\n    allow: [stdlib]\n"
                                                      "    deny: [ext]\n", encoding="utf-8")
    (root / "pyproject.toml").write_text("[tool.plumego-lint]\n", encoding="utf-8")
    for d in ("app", "app/core", "app/ext"):
        (root / d).mkdir(exist_ok=True)
        (root / d / "__init__.py").write_text("", encoding="utf-8")
    (root / "app/core/bad_import.py").write_text("import app.ext\n", encoding="utf-8")
    return root


def _assert_rest_still_checked(payload: dict[str, object]) -> None:
    assert ("app/core/bad_import.py", 1, "PLG101") in found(payload)


def test_syntax_error(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app/core/broken.py").write_text("import os\ndef f(:\n    pass\n", encoding="utf-8")
    code, payload = check_json(root)
    assert code == 1
    assert ("app/core/broken.py", 2, "PLG901") in found(payload)
    _assert_rest_still_checked(payload)


def test_non_utf8_file(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app/core/latin.py").write_bytes(b"x = '\xe9t\xe9'\nimport app.ext\n")
    _, payload = check_json(root)
    assert any(p == "app/core/latin.py" and c == "PLG901" for p, _, c in found(payload))
    _assert_rest_still_checked(payload)



def test_non_utf8_bytes_only_in_a_comment_are_plg901(tmp_path: Path) -> None:
    """ast.parse accepts these bytes (its in-memory tokenizer skips comments) but Python refuses to import the
    file; PLG901 follows the interpreter."""
    root = _project(tmp_path)
    (root / "app/core/latin.py").write_bytes(b"import os\n# caf\xe9\nimport app.ext\n")
    _, payload = check_json(root)
    assert ("app/core/latin.py", 2, "PLG901") in found(payload)
    _assert_rest_still_checked(payload)

def test_declared_latin1_encoding_is_fine(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app/core/latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9t\xe9'\nimport app.ext\n")
    _, payload = check_json(root)
    assert ("app/core/latin.py", 3, "PLG101") in found(payload)


def test_nul_bytes(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app/core/nul.py").write_bytes(b"import os\nx = 1\x00\n")
    _, payload = check_json(root)
    assert ("app/core/nul.py", 2, "PLG901") in found(payload)
    _assert_rest_still_checked(payload)


def test_bom_is_accepted_and_imports_are_seen(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app/core/bom.py").write_bytes(b"\xef\xbb\xbfimport app.ext\n")
    _, payload = check_json(root)
    assert ("app/core/bom.py", 1, "PLG101") in found(payload)
    assert not any(c == "PLG901" for _, _, c in found(payload))


def test_ten_megabyte_file(tmp_path: Path) -> None:
    root = _project(tmp_path)
    filler = b"# padding line to make the file large ......................................\n"
    body = filler * (10 * 1024 * 1024 // len(filler) + 1)
    (root / "app/core/huge.py").write_bytes(body + b"import app.ext\n")
    line = body.count(b"\n") + 1
    _, payload = check_json(root)
    assert ("app/core/huge.py", line, "PLG101") in found(payload)


def test_symlink_loop_is_not_followed(tmp_path: Path) -> None:
    root = _project(tmp_path)
    os.symlink(root / "app", root / "app/core/loop")
    os.symlink(root / "app/core/missing.py", root / "app/core/dangling.py")
    code, payload = check_json(root)
    assert code == 1
    _assert_rest_still_checked(payload)
    assert not any("loop" in p for p, _, _ in found(payload))


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root can read a chmod 000 file, so the unreadable case cannot be produced")
def test_unreadable_file(tmp_path: Path) -> None:
    root = _project(tmp_path)
    secret = root / "app/core/secret.py"
    secret.write_text("import os\n", encoding="utf-8")
    secret.chmod(0)
    try:
        _, payload = check_json(root)
    finally:
        secret.chmod(0o644)
    assert ("app/core/secret.py", 1, "PLG901") in found(payload)
    _assert_rest_still_checked(payload)


def test_bad_yaml_in_specs_exits_2_with_file_and_line(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "specs/dependency-rules.yaml").write_text("modules:\n  core:\n    path: core\n    deny: [ext\n",
                                                      encoding="utf-8")
    proc = run_cli("check", cwd=root)
    assert proc.returncode == 2
    assert proc.stderr.startswith("specs/dependency-rules.yaml:")
    assert "PLG902" in proc.stderr


def test_wrong_type_in_specs_names_the_line(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "specs/dependency-rules.yaml").write_text("modules:\n  core:\n    path: core\n    deny: ext\n",
                                                      encoding="utf-8")
    proc = run_cli("check", cwd=root)
    assert proc.returncode == 2
    assert "specs/dependency-rules.yaml:4:1: PLG902 'deny' must be a list of strings" in proc.stderr



@pytest.mark.parametrize(("module", "message"), [
    ("5", "repo.module '5' must be an importable package name"),
    ("app.2x", "repo.module 'app.2x' must be an importable package name"),
    ("appp", "repo.module 'appp' names no package or module under the source roots"),  # a typo: rules would pass
])
def test_repo_module_must_name_a_package_of_the_tree(tmp_path: Path, module: str, message: str) -> None:
    root = _project(tmp_path)
    (root / "specs/repo.yaml").write_text(f"repo:\n  name: demo\n  module: {module}\n", encoding="utf-8")
    proc = run_cli("check", cwd=root)
    assert proc.returncode == 2
    assert f"specs/repo.yaml:3:1: PLG902 {message}" in proc.stderr

def test_unknown_config_key_exits_2_with_line(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.plumego-lint]\nsoruce_roots = ['.']\n",
                                         encoding="utf-8")
    proc = run_cli("check", cwd=root)
    assert proc.returncode == 2
    assert "pyproject.toml:5:1: PLG902 unknown key 'soruce_roots'" in proc.stderr


def test_invalid_toml_exits_2(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text("[tool.plumego-lint]\nexclude = [\n", encoding="utf-8")
    proc = run_cli("check", cwd=root)
    assert proc.returncode == 2 and "PLG902" in proc.stderr


def test_nested_projects_and_virtualenvs_are_skipped(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app/core/vendored").mkdir()
    (root / "app/core/vendored/setup.py").write_text("", encoding="utf-8")
    (root / "app/core/vendored/mod.py").write_text("import app.ext\n", encoding="utf-8")
    (root / "app/core/venv_like").mkdir()
    (root / "app/core/venv_like/pyvenv.cfg").write_text("", encoding="utf-8")
    (root / "app/core/venv_like/mod.py").write_text("import app.ext\n", encoding="utf-8")
    (root / "app/core/test_core.py").write_text("import app.ext\n", encoding="utf-8")
    _, payload = check_json(root)
    paths = {p for p, _, _ in found(payload)}
    assert paths == {"app/core/bad_import.py"}


def test_exclude_patterns(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text('[tool.plumego-lint]\nexclude = ["app/core/bad_*.py"]\n', encoding="utf-8")
    code, payload = check_json(root)
    assert code == 0 and found(payload) == set()
