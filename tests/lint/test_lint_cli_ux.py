"""The CLI says what it checked (issue 11, item 5), as subprocesses, terminal behaviour through a real pty:
a clean run on a terminal prints one line (pipes get the old, empty output), zero files and unknown codes are
exit 2, --statistics and --show-source, per-file-ignores, colour (NO_COLOR / FORCE_COLOR), progress on long
runs, `explain --import` in a service repo, and `explain PLG201` citing the finding's own source."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import FIXTURES, REPO, run_cli

from plumego_lint.codes import CODES
from plumego_lint.rules import RULES

RULES_FIXTURE = FIXTURES / "rules"
SERVICE_BAD = REPO / "tests/fixtures/service_bad"
EXAMPLE = REPO / "examples/service_repo"
ESC = "\x1b["


def run_tty(*args: str, cwd: Path, **env: str) -> tuple[int, str]:
    """The CLI with stdout and stderr on a pseudo-terminal, as an interactive shell runs it."""
    master, slave = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    environ.update(PYTHONPATH=str(REPO), TERM="xterm", **env)
    proc = subprocess.Popen([sys.executable, "-m", "plumego_lint", *args], cwd=cwd, stdin=slave, stdout=slave,
                            stderr=slave, env=environ)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:         # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(timeout=300), b"".join(chunks).decode().replace("\r\n", "\n")


def run_pipe(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    environ.update(PYTHONPATH=str(REPO), **env)
    return subprocess.run([sys.executable, "-m", "plumego_lint", *args], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=300)


def service_copy(tmp_path: Path, source: Path = EXAMPLE) -> Path:
    target = tmp_path / "svc"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".plumego-lint-cache", "__pycache__"))
    return target


def test_the_code_list_is_the_rule_registry() -> None:
    assert CODES == set(RULES)


def test_a_clean_run_says_what_it_checked_on_a_terminal_only(tmp_path: Path) -> None:
    root = service_copy(tmp_path)
    code, out = run_tty("check", "--no-cache", "--select", "PLG6", cwd=root)
    assert code == 0 and out == f"{ESC}32mchecked 9 files, no findings{ESC}0m\n"
    code, out = run_tty("check", "--no-cache", "--select", "PLG6", cwd=root, NO_COLOR="1")
    assert code == 0 and out == "checked 9 files, no findings\n"
    piped = run_pipe("check", "--no-cache", "--select", "PLG6", cwd=root)
    assert piped.returncode == 0 and piped.stdout == "" and piped.stderr == ""      # unchanged for pipes
    code, out = run_tty("check", "--no-cache", "--select", "PLG6", "app/services/chat.py", cwd=root, NO_COLOR="1")
    assert out == "checked 1 file, no findings\n"
    # a replayed run (same arguments, nothing changed) says the same
    assert run_tty("check", "--select", "PLG6", cwd=root, NO_COLOR="1")[1] == "checked 9 files, no findings\n"
    assert list((root / ".plumego-lint-cache").glob("cli-*.marshal"))
    assert run_tty("check", "--select", "PLG6", cwd=root, NO_COLOR="1")[1] == "checked 9 files, no findings\n"
    assert run_pipe("check", "--select", "PLG6", cwd=root).stdout == ""


def test_colour_on_a_terminal_and_by_force_never_by_default_into_a_pipe() -> None:
    code, out = run_tty("check", "--no-cache", "--select", "PLG110", cwd=RULES_FIXTURE)
    assert code == 0
    assert out == (f"{ESC}1mshop/core/__init__.py{ESC}0m:17:12: {ESC}1m{ESC}33mPLG110{ESC}0m shop.core imports a "
                   "module whose name is not a literal; the boundary rules cannot verify it\n"
                   f"{ESC}1mFound 0 error(s), 1 warning(s), 0 info(s) in 17 files.{ESC}0m\n")
    plain = run_pipe("check", "--no-cache", "--select", "PLG110", cwd=RULES_FIXTURE).stdout
    assert ESC not in plain and plain.startswith("shop/core/__init__.py:17:12: PLG110 ")
    forced = run_pipe("check", "--no-cache", "--select", "PLG110", cwd=RULES_FIXTURE, FORCE_COLOR="1").stdout
    assert forced == out
    assert run_pipe("check", "--no-cache", "--select", "PLG110", cwd=RULES_FIXTURE, FORCE_COLOR="1",
                    NO_COLOR="1").stdout == plain
    # machine formats never get colour
    js = run_pipe("check", "--no-cache", "--format", "json", cwd=RULES_FIXTURE, FORCE_COLOR="1").stdout
    assert ESC not in js and json.loads(js)["violations"]


def test_zero_files_checked_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("check", "--no-cache", "pyproject.toml", cwd=RULES_FIXTURE)
    assert proc.returncode == 2 and proc.stderr == "plumego-lint: no Python files to check in pyproject.toml\n"
    proc = run_cli("check", "--no-cache", "docs", cwd=RULES_FIXTURE)
    assert proc.returncode == 2 and "no Python files to check in docs" in proc.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "pyproject.toml").write_text("[tool.plumego-lint]\n", encoding="utf-8")
    (empty / "notes.txt").write_text("no code here\n", encoding="utf-8")
    proc = run_cli("check", "--no-cache", cwd=empty)
    assert proc.returncode == 2 and f"no Python files to check in the source roots of {empty}" in proc.stderr
    assert proc.stdout == ""
    # a file an exclude pattern drops is not checked...
    root = service_copy(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace('exclude = ["scripts"]',
                                                                       'exclude = ["scripts", "app/services"]'),
                         encoding="utf-8")
    # ...but a Python file the configuration excludes is no usage error: pre-commit passes such files, and a
    # commit that touches only them must pass (as flake8 skips excluded files it is given)
    proc = run_cli("check", "--no-cache", "app/services/chat.py", cwd=root)
    assert proc.returncode == 0 and proc.stdout == ""
    assert "nothing to check: the configuration excludes app/services/chat.py" in proc.stderr
    proc = run_cli("check", "--no-cache", "--format", "json", "app/services", cwd=root)
    assert proc.returncode == 0 and json.loads(proc.stdout)["summary"]["files"] == 0
    for _ in range(2):      # recorded, then replayed: the note comes with it
        proc = run_cli("check", "app/services/chat.py", cwd=root)
        assert proc.returncode == 0 and "nothing to check: the configuration excludes" in proc.stderr


def test_unknown_codes_are_usage_errors_prefixes_are_not(tmp_path: Path) -> None:
    for args in (["--select", "PLG99X"], ["--ignore", "PLG1,E501"], ["--select", "PLG1", "--select", "plg9999"]):
        proc = run_cli("check", "--no-cache", *args, cwd=RULES_FIXTURE)
        assert proc.returncode == 2 and "unknown rule code" in proc.stderr, args
        assert proc.stdout == ""
    for prefix in ("PLG", "PLG1", "plg10", "PLG101"):
        assert run_cli("check", "--no-cache", "--select", prefix, cwd=RULES_FIXTURE).returncode == 1, prefix
    root = service_copy(tmp_path)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text + 'select = ["PLG3", "PLG399"]\n', encoding="utf-8")
    proc = run_cli("check", "--no-cache", cwd=root)
    line = len(text.splitlines()) + 1
    assert proc.returncode == 2
    assert proc.stderr == f"pyproject.toml:{line}:1: PLG902 'select': unknown rule code 'PLG399' (see `plumego-lint " \
                          "explain`)\n"


def test_statistics_and_show_source() -> None:
    proc = run_cli("check", "--no-cache", "--statistics", "--show-source", "shop/base", cwd=RULES_FIXTURE)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "shop/base/__init__.py:2:8: PLG101 shop.base imports shop.core, denied by module base (deny 'core')",
        "import shop.core  # expect: PLG101",
        "       ^",
        "shop/base/__init__.py:3:8: PLG107 shop.base imports shop.lazy, which is not in the allow list of module base",
        "import shop.lazy  # expect: PLG107",
        "       ^",
        "1     PLG101 shop.base imports shop.core, denied by module base (deny 'core')",
        "1     PLG107 shop.base imports shop.lazy, which is not in the allow list of module base",
        "Found 2 error(s), 0 warning(s), 0 info(s) in 2 files.",
    ]
    # a finding on a folder (PLG201 on a package directory) has no source line to show
    proc = run_cli("check", "--no-cache", "--show-source", "--select", "PLG201", cwd=RULES_FIXTURE)
    assert proc.stdout.splitlines()[0].startswith("shop/misc:1:1: PLG201 ")
    assert proc.stdout.splitlines()[1].startswith("Found 1 error(s)")
    proc = run_cli("check", "--no-cache", "--statistics", "--format", "json", cwd=RULES_FIXTURE)
    assert proc.returncode == 2 and "--statistics and --show-source apply to --format text" in proc.stderr


def test_check_of_named_files_counts_only_those(tmp_path: Path) -> None:
    proc = run_cli("check", "--no-cache", "--format", "json", "shop/base/__init__.py", cwd=RULES_FIXTURE)
    assert json.loads(proc.stdout)["summary"]["files"] == 1
    proc = run_cli("check", "--no-cache", "--format", "json", cwd=RULES_FIXTURE)
    assert json.loads(proc.stdout)["summary"]["files"] == 17


def test_per_file_ignores(tmp_path: Path) -> None:
    root = service_copy(tmp_path, SERVICE_BAD)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    before = json.loads(run_cli("check", "--no-cache", "--format", "json", cwd=root).stdout)["violations"]
    assert any(v["path"] == "app/handlers/users.py" and v["code"] == "PLG601" for v in before)
    pyproject.write_text(text + '\n[tool.plumego-lint.per-file-ignores]\n"app/handlers/*" = ["PLG601", "PLG602"]\n'
                         '"app/adapters/leaky.py" = "PLG302, PLG303"\n', encoding="utf-8")
    after = json.loads(run_cli("check", "--no-cache", "--format", "json", cwd=root).stdout)["violations"]
    dropped = [v for v in before if v not in after]
    assert dropped and all((v["path"].startswith("app/handlers/") and v["code"] in {"PLG601", "PLG602"})
                           or (v["path"] == "app/adapters/leaky.py" and v["code"] in {"PLG302", "PLG303"})
                           for v in dropped)
    assert any(v["path"] == "app/handlers/users.py" and v["code"] == "PLG603" for v in after)   # not listed
    assert not any(v["path"] == "app/adapters/leaky.py" for v in after)
    # `check FILE` (what pre-commit and editors run) honours them too, cold and warm
    for extra in (["--no-cache"], [], []):
        named = json.loads(run_cli("check", *extra, "--format", "json", "app/handlers/users.py",
                                   cwd=root).stdout)["violations"]
        assert named == [v for v in after if v["path"] == "app/handlers/users.py"]
    # the inline form, and a folder as a pattern
    pyproject.write_text(text.replace("[tool.plumego-lint]", '[tool.plumego-lint]\nper-file-ignores = {"app" = '
                                      '["PLG"]}'), encoding="utf-8")
    proc = run_cli("check", "--no-cache", cwd=root)
    assert proc.returncode == 0 and proc.stdout == ""
    pyproject.write_text(text + '\n[tool.plumego-lint.per-file-ignores]\n"app/*" = ["PLG6O1"]\n', encoding="utf-8")
    proc = run_cli("check", "--no-cache", cwd=root)
    header = len(text.splitlines()) + 2
    assert proc.returncode == 2
    assert f"pyproject.toml:{header}:1: PLG902 per-file-ignores 'app/*': unknown rule code 'PLG6O1'" in proc.stderr


def test_progress_on_a_terminal_for_long_runs_only(tmp_path: Path) -> None:
    root = tmp_path / "big"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.plumego-lint]\n", encoding="utf-8")
    (root / "pkg/__init__.py").write_text("", encoding="utf-8")
    for i in range(320):
        (root / f"pkg/m{i}.py").write_text(f"import os\n\n\ndef f{i}():\n    return os.sep\n", encoding="utf-8")
    code, out = run_tty("check", "--no-cache", cwd=root, NO_COLOR="1")
    assert code == 0
    assert "\r\x1b[Kplumego-lint: parsed 321/321 files, checking rules\r\x1b[K" in out   # written, then erased
    assert out.endswith("\r\x1b[Kchecked 321 files, no findings\n")
    piped = run_pipe("check", "--no-cache", cwd=root)
    assert piped.stdout == "" and piped.stderr == ""
    small = service_copy(tmp_path)
    assert "parsed" not in run_tty("check", "--no-cache", cwd=small, NO_COLOR="1")[1]


def test_explain_import_in_a_service_repo() -> None:
    proc = run_cli("explain", "--import", "app.services.forms", "plumego.x.ai", cwd=SERVICE_BAD)
    assert proc.returncode == 1, proc.stderr
    assert "app.services.forms is in a stable path (stable_paths 'app', pyproject.toml:6)" in proc.stdout
    assert "plumego.x.ai is a plumego API of tier experimental (plumego/x/ai/module.yaml:" in proc.stdout
    assert "verdict: DENIED by PLG301 (experimental-in-stable-path)" in proc.stdout
    proc = run_cli("explain", "--import", "app.adapters.good", "plumego.x.ai", cwd=SERVICE_BAD)
    assert proc.returncode == 0 and "adapter code (adapter_paths 'app.adapters', pyproject.toml:7)" in proc.stdout
    proc = run_cli("explain", "--import", "app.handlers.users", "app.store.users", cwd=SERVICE_BAD)
    assert proc.returncode == 1 and "verdict: DENIED by PLG603 (layer-reach)" in proc.stdout
    proc = run_cli("explain", "--import", "app.services.forms", "plumego.x.ai.provider", cwd=SERVICE_BAD)
    assert proc.returncode == 0 and "note PLG304: beta plumego API" in proc.stdout and "ALLOWED" in proc.stdout
    # the same verdicts as `check` gives on those imports
    check = run_cli("check", "--no-cache", "--format", "json", cwd=SERVICE_BAD)
    found = {(v["path"], v["code"]) for v in json.loads(check.stdout)["violations"]}
    assert ("app/services/forms.py", "PLG301") in found and ("app/handlers/users.py", "PLG603") in found
    assert not any(p == "app/adapters/good.py" for p, _ in found)


def test_explain_plg201_cites_the_source_the_finding_cites() -> None:
    for root in (SERVICE_BAD, RULES_FIXTURE):
        finding = next(v for v in json.loads(run_cli("check", "--no-cache", "--format", "json", "--select", "PLG201",
                                                     cwd=root).stdout)["violations"])
        explained = run_cli("explain", "PLG201", "--root", str(root)).stdout
        assert f"In this repo, findings cite: {finding['source']}\n" in explained, (root, finding)
