"""End to end, as users run them: the CLI, flake8 (loaded by entry point) and pre-commit agree.

Every tool runs as a subprocess on a copy of a sample service repo. flake8 finds the plugin through a
``flake8.extension`` entry point in a dist-info folder on PYTHONPATH (what an installed wheel provides).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "service_bad"
EXAMPLE = ROOT / "examples" / "service_repo"
LINE = re.compile(r"^(?:\./)?(?P<path>[^:\s]+\.py):(?P<line>\d+):(?P<col>\d+): (?P<code>PLG\d{3}) ")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd, check=True,
                   capture_output=True)


def _repo(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".plumego-lint-cache", "__pycache__"))
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-qm", "sample service")
    return dest


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    eps = tmp_path_factory.mktemp("entrypoints")
    if any(e.name == "PLG" for e in entry_points(group="flake8.extension")):
        # plumego is installed (pip install -e .): flake8 already finds the plugin, and PYTHONPATH puts
        # this checkout's plumego_lint first
        return {**os.environ, "PYTHONPATH": str(ROOT)}
    dist = eps / "plumego_lint_entrypoint-0.0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plumego-lint-entrypoint\nVersion: 0.0.0\n")
    (dist / "entry_points.txt").write_text("[flake8.extension]\nPLG = plumego_lint.flake8_plugin:PlumegoFlake8Plugin\n")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{eps}"}


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "plumego_lint", *args], cwd, env)


def parse(output: str) -> set[tuple[str, int, int, str]]:
    return {(m["path"], int(m["line"]), int(m["col"]), m["code"])
            for m in (LINE.match(line) for line in output.splitlines()) if m}


def cli_json(cwd: Path, env: dict[str, str]) -> set[tuple[str, int, int, str]]:
    out = cli(["check", "--no-cache", "--format", "json"], cwd, env)
    assert out.returncode in (0, 1), out.stderr
    data = json.loads(out.stdout)
    return {(v["path"], v["line"], v["column"], v["code"]) for v in data["violations"] if v["severity"] != "info"}


def test_cli_and_flake8_agree_on_the_sample_repo(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _repo(BAD, tmp_path / "bad")
    expected = cli_json(repo, env)
    assert len({code for *_, code in expected}) >= 7  # PLG201, 301-303, 601-603 all present
    flake = run([sys.executable, "-m", "flake8", "--select", "PLG", "."], repo, env)
    assert flake.returncode == 1, flake.stderr
    assert parse(flake.stdout) == expected
    # info findings are opt-in for flake8 and then match the CLI's infos too
    with_info = run([sys.executable, "-m", "flake8", "--select", "PLG", "--plumego-info", "."], repo, env)
    assert {f for f in parse(with_info.stdout) if f[3] == "PLG304"} == {
        ("app/services/forms.py", 14, 1, "PLG304"), ("app/services/forms.py", 15, 1, "PLG304")}


def test_flake8_honours_noqa_and_disable_noqa(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _repo(BAD, tmp_path / "bad")
    target = "app/services/forms.py"
    normal = parse(run([sys.executable, "-m", "flake8", "--select", "PLG", target], repo, env).stdout)
    raw = parse(run([sys.executable, "-m", "flake8", "--select", "PLG", "--disable-noqa", target], repo, env).stdout)
    assert {f[1] for f in raw - normal} == {16, 17}



def test_noqa_after_a_multi_line_import_holds_in_cli_and_flake8(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _repo(EXAMPLE, tmp_path / "svc")
    target = "app/services/multi.py"
    (repo / target).write_text("from plumego.x.ai import (\n    Orchestrator,\n)  # noqa: PLG301\n"
                               "from plumego.x.ai import (\n    Session,\n)\n")
    flake = parse(run([sys.executable, "-m", "flake8", "--select", "PLG", target], repo, env).stdout)
    raw = parse(run([sys.executable, "-m", "flake8", "--select", "PLG", "--disable-noqa", target], repo, env).stdout)
    cli_found = parse(cli(["check", "--no-cache", target], repo, env).stdout)
    assert {(f[1], f[3]) for f in flake} == {(f[1], f[3]) for f in cli_found} == {(4, "PLG301")}
    assert {(f[1], f[3]) for f in raw} == {(1, "PLG301"), (4, "PLG301")}

def test_exit_codes_clean_and_failing(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _repo(EXAMPLE, tmp_path / "svc")
    assert cli(["check", "--no-cache"], repo, env).returncode == 1
    bad_config = repo / "pyproject.toml"
    bad_config.write_text(bad_config.read_text() + 'typing_only = "maybe"\n')
    out = cli(["check", "--no-cache"], repo, env)
    assert out.returncode == 2 and "PLG902" in out.stderr
    # flake8 cannot exit 2 for a plugin: the same error is PLG902 on line 1 of each file, never silence
    flake = run([sys.executable, "-m", "flake8", "--select", "PLG", "app/main.py", "app/services/chat.py"], repo, env)
    assert flake.returncode == 1
    assert [line.split(": ", 1)[0] for line in flake.stdout.splitlines()] == [
        "app/main.py:1:1", "app/services/chat.py:1:1"], flake.stdout
    assert "PLG902 plumego-lint cannot run:" in flake.stdout and "pyproject.toml:" in flake.stdout


def test_fix_then_everything_is_clean_and_imports(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _repo(EXAMPLE, tmp_path / "svc")
    chat = repo / "app" / "services" / "chat.py"
    before = chat.read_text()
    diff = cli(["fix", "--diff"], repo, env)
    assert diff.returncode == 1 and "+from app.adapters.ai import ai" in diff.stdout
    assert chat.read_text() == before and not (repo / "app" / "adapters" / "ai.py").exists()
    assert cli(["fix"], repo, env).returncode == 0
    adapter = (repo / "app" / "adapters" / "ai.py").read_text()
    assert "class AiPort(Protocol)" in adapter and "def complete(self)" in adapter
    assert cli(["fix", "--diff"], repo, env).stdout == ""  # idempotent
    assert cli(["check", "--no-cache"], repo, env).returncode == 0
    flake = run([sys.executable, "-m", "flake8", "--select", "PLG", "app"], repo, env)
    assert flake.returncode == 0, flake.stdout
    imports = run([sys.executable, "-c", "import app.services.chat, app.main; print(app.main.create_app())"], repo,
                  {**env, "PYTHONPATH": f"{env['PYTHONPATH']}{os.pathsep}{repo}"})
    assert imports.returncode == 0, imports.stderr


def test_fix_extends_an_existing_adapter(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _repo(EXAMPLE, tmp_path / "svc")
    assert cli(["fix"], repo, env).returncode == 0
    (repo / "app" / "services" / "more.py").write_text(
        '"""More."""\nfrom plumego.x.ai import Orchestrator as Orch\n\n\ndef run() -> object:\n    return Orch()\n')
    assert cli(["fix"], repo, env).returncode == 0
    adapter = (repo / "app" / "adapters" / "ai.py").read_text()
    assert adapter.count("class AiPort(Protocol)") == 1
    assert "def Orchestrator(self) -> Any: ..." in adapter and "return _experimental.Orchestrator" in adapter
    assert "return ai.Orchestrator()" in (repo / "app" / "services" / "more.py").read_text()
    assert cli(["check", "--no-cache"], repo, env).returncode == 0


def test_report_formats_and_delta_against_a_git_revision(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _repo(EXAMPLE, tmp_path / "svc")
    baseline = cli(["report", "--format", "json", "--no-cache"], repo, env)
    assert baseline.returncode == 0, baseline.stderr
    data = json.loads(baseline.stdout)
    tiers = {p["module"]: p["tier"] for p in data["plumego"]}
    assert tiers == {"plumego.x.ai": "experimental", "plumego.x.messaging.mq": "experimental"}
    assert data["findings_by_rule"] == {"PLG301": 1}
    (tmp_path / "base.json").write_text(baseline.stdout)
    assert cli(["fix"], repo, env).returncode == 0
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "wrap ai")
    md = cli(["report", "--base", "HEAD~1", "--no-cache"], repo, env)
    assert md.returncode == 0, md.stderr
    assert "```mermaid" in md.stdout and "| `plumego.x.ai` | experimental |" in md.stdout
    assert "- `app.services` -> `plumego.x.ai`" in md.stdout.split("**Removed edges**")[1]
    assert "Findings: 1 -> 0." in md.stdout
    against_file = cli(["report", "--format", "json", "--baseline", str(tmp_path / "base.json"), "--no-cache"],
                       repo, env)
    delta = json.loads(against_file.stdout)["delta"]
    assert ["app.services", "plumego.x.ai"] in delta["removed_edges"]
    dot = cli(["report", "--format", "dot", "--no-cache"], repo, env)
    assert dot.stdout.startswith("digraph plumego {") and '"app.adapters" -> "plumego.x.ai"' in dot.stdout
    assert not list((tmp_path / "svc").glob("../*plumego-lint-base*"))



def test_report_refuses_bad_base_and_baseline_with_exit_2(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _repo(EXAMPLE, tmp_path / "svc")
    (tmp_path / "garbage.json").write_text("garbage{")
    (tmp_path / "shape.json").write_text('{"plumego": [{"module": "plumego.x.ai"}]}')
    plain = tmp_path / "plain"
    shutil.copytree(EXAMPLE, plain)        # not a git repository
    cases = [
        (["report", "--base", "no-such-rev"], repo, "is not a commit"),
        (["report", "--base", "HEAD"], plain, "not a git repository"),
        (["report", "--baseline", str(tmp_path / "garbage.json")], repo, "cannot read"),
        (["report", "--baseline", str(tmp_path / "missing.json")], repo, "cannot read"),
        (["report", "--baseline", str(tmp_path / "shape.json")], repo, "not an architecture report"),
    ]
    for args, cwd, message in cases:
        out = cli([*args, "--no-cache"], cwd, env)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)

def test_init_writes_a_section_the_linter_accepts(tmp_path: Path, env: dict[str, str]) -> None:
    repo = tmp_path / "svc"
    shutil.copytree(EXAMPLE / "app", repo / "app")
    (repo / "pyproject.toml").write_text('[project]\nname = "svc"\nversion = "0"\n')
    proc = cli(["init"], repo, env)
    assert proc.returncode == 0
    assert "stable: every first-party package, including ones added later" in proc.stderr
    text = (repo / "pyproject.toml").read_text()
    assert "\nstable_paths" not in text and "(found now: app)" in text and 'adapter_paths = ["app.adapters"]' in text
    assert cli(["init"], repo, env).returncode == 2  # never overwrites
    out = cli(["check", "--no-cache"], repo, env)
    assert out.returncode == 1 and "PLG301" in out.stdout


def test_hooks_manifest_is_valid(env: dict[str, str]) -> None:
    out = run([sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"], ROOT, env)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_pre_commit_try_repo_agrees_with_cli_and_flake8(tmp_path: Path, env: dict[str, str]) -> None:
    tool = tmp_path / "tool"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for rel in files:
        if (ROOT / rel).is_file():
            (tool / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, tool / rel)
    _git(tool, "init", "-q")
    _git(tool, "add", "-A")
    _git(tool, "commit", "-qm", "plumego")
    home = {**env, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    failing = _repo(BAD, tmp_path / "bad")
    out = run([sys.executable, "-m", "pre_commit", "try-repo", str(tool), "plumego-lint", "--all-files"], failing, home)
    assert out.returncode == 1, out.stdout
    found = {f for f in parse(out.stdout)}
    assert {f for f in found if f[3] != "PLG304"} == cli_json(failing, env)
    flake = run([sys.executable, "-m", "flake8", "--select", "PLG", "."], failing, env)
    assert parse(flake.stdout) == {f for f in found if f[3] != "PLG304"}
    clean = _repo(EXAMPLE, tmp_path / "svc")
    assert cli(["fix"], clean, env).returncode == 0
    _git(clean, "add", "-A")
    _git(clean, "commit", "-qm", "wrap")
    out = run([sys.executable, "-m", "pre_commit", "try-repo", str(tool), "plumego-lint", "--all-files"], clean, home)
    assert out.returncode == 0, out.stdout
