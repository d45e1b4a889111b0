"""The project lints itself: plumego-lint and import-linter (on the generated .importlinter) pass on this tree,
and injected violations in a copy of the tree are reported at the right path, line and code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, check_json, found, run_cli


def test_plumego_lint_check_is_clean_on_this_repo() -> None:
    proc = run_cli("check", "--no-cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


def test_sync_check_is_clean_on_this_repo() -> None:
    proc = run_cli("sync", "--check")
    assert proc.returncode == 0, proc.stdout


def test_import_linter_passes_on_the_generated_contracts() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed (pip install -e .[dev])")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([exe, "--no-cache"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout



def test_flake8_line_length_and_pyflakes_are_clean() -> None:
    """The house line length (E501 at 120) and pyflakes (F: unused imports and names, undefined names); style
    beyond that is not gated. Lint fixtures are excluded: their unused imports are what the tests read."""
    dirs = [d for d in ("plumego", "plumego_lint", "reference_app", "tests", "bench", "scripts", "examples")
            if (REPO / d).is_dir()]
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "E501,F", "--max-line-length",
                           "120", "--extend-exclude", ".work,.venv,__pycache__,fixtures", *dirs],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr

def _inject(root: Path, rel: str, line: str) -> int:
    """Append ``line`` to a module; returns its 1-based line number."""
    path = root / rel
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + line + "\n", encoding="utf-8")
    return text.count("\n") + 1


@pytest.mark.parametrize(("rel", "line", "code"), [
    ("plumego/core/__init__.py", "from plumego.x.ai import provider", "PLG102"),
    ("plumego/contract/__init__.py", "from plumego.core import App", "PLG101"),
    ("plumego/health/__init__.py", "import plumego.log", "PLG101"),
    ("plumego/metrics/__init__.py", "from plumego import core as _facade_core, App", "PLG104"),
    ("plumego/log/__init__.py", "import plumego", "PLG104"),
    ("plumego/router/__init__.py", "import reference_app", "PLG103"),
    ("plumego/store/__init__.py", "import redis", "PLG109"),
    ("plumego/security/__init__.py", "import cryptography", "PLG109"),
    ("plumego/x/openapi/__init__.py", "from plumego.x.ai import provider", "PLG101"),
    ("plumego/x/rest/__init__.py", "import plumego.middleware", "PLG107"),
    ("plumego/x/ai/provider/__init__.py", "from ...tenant import *", "PLG101"),
    ("plumego/core/__init__.py", "import importlib\nimportlib.import_module(__name__ + '.plugin')", "PLG110"),
])
def test_injected_import_violation_is_reported_at_its_line(repo_copy: Path, rel: str, line: str, code: str) -> None:
    at = _inject(repo_copy, rel, line) + line.count("\n")
    _, payload = check_json(repo_copy)
    assert (rel, at, code) in found(payload), payload["violations"]


def test_security_may_import_cryptography_lazily(repo_copy: Path) -> None:
    _inject(repo_copy, "plumego/security/__init__.py",
            "def _rsa() -> object:\n    import cryptography\n    return cryptography")
    code, payload = check_json(repo_copy)
    assert code == 0, payload["violations"]


def test_injected_layout_and_manifest_violations(repo_copy: Path) -> None:
    _inject(repo_copy, "plumego/utils/__init__.py", "")
    _inject(repo_copy, "plumego/x/billing/__init__.py", "")
    manifest = repo_copy / "plumego/core/module.yaml"
    text = manifest.read_text(encoding="utf-8").replace("status: ga", "status: stable-ish")
    # Works whether the list is empty (``[]``) or already has entries.
    text = text.replace("public_entrypoints: []", "public_entrypoints:").replace(
        "public_entrypoints:\n", "public_entrypoints:\n  - DefinitelyNotThere\n", 1)
    manifest.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    status_line = next(i for i, l in enumerate(lines, 1) if l.startswith("status:"))
    entry_line = next(i for i, l in enumerate(lines, 1) if "DefinitelyNotThere" in l)
    _, payload = check_json(repo_copy)
    got = found(payload)
    assert ("plumego/utils", 1, "PLG201") in got
    assert ("plumego/x/billing", 1, "PLG203") in got
    assert ("plumego/core/module.yaml", status_line, "PLG403") in got
    assert ("plumego/core/module.yaml", entry_line, "PLG407") in got
    primer = (repo_copy / "docs/modules/core.md").read_text(encoding="utf-8").splitlines()
    block_line = next(i for i, l in enumerate(primer, 1) if l.startswith("<!-- plumego-lint:begin module-facts"))
    assert ("docs/modules/core.md", block_line, "PLG501") in got  # the primer's block now disagrees


def test_edited_dependency_rules_make_importlinter_drift(repo_copy: Path) -> None:
    rules = repo_copy / "specs/dependency-rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert text.count("    deny:\n      - security\n      - store\n") == 1        # core's deny list
    rules.write_text(text.replace("    deny:\n      - security\n      - store\n", "    deny:\n      - security\n"),
                     encoding="utf-8")
    _, payload = check_json(repo_copy)
    assert any(p == ".importlinter" and c == "PLG501" for p, _, c in found(payload))


def test_reference_app_importing_an_extension_is_plg111(repo_copy: Path) -> None:
    _inject(repo_copy, "reference_app/uses_x.py", "import plumego.core\nfrom plumego.x import tenant\n")
    _inject(repo_copy, "reference_app/handlers/uses_x.py", "import plumego.x.ai.provider\n")
    _, payload = check_json(repo_copy)
    got = found(payload)
    assert ("reference_app/uses_x.py", 2, "PLG111") in got
    assert ("reference_app/handlers/uses_x.py", 1, "PLG111") in got
    assert not any(p == "reference_app/uses_x.py" and line == 1 for p, line, _ in got)
    sources = {v["source"] for v in payload["violations"] if v["code"] == "PLG111"}
    assert sources and all(s.startswith("specs/repo.yaml:") for s in sources)
