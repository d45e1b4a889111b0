"""`plumego-lint fix` for PLG305: deprecated plumego symbols rewritten to their declared replacement.

The codemod itself (``rewrite_deprecated``) on source text, then the CLI end to end against a plumego whose
manifests deprecate symbols: a copy of this checkout's plumego package, first on PYTHONPATH, with
``deprecated_symbols`` entries added, as a future release would ship them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plumego_lint.service.context import Deprecation
from plumego_lint.service.fix_deprecated import Target, replacement_target, rewrite_deprecated

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "service_repo"

DEPS = {
    "plumego.core.OldApp": Deprecation("plumego.core.OldApp", "plumego.core.App", "0.1"),
    "plumego.core.old_serve": Deprecation("plumego.core.old_serve", "plumego.core.cli.serve", "0.1"),
    "plumego.core.legacy": Deprecation("plumego.core.legacy", "nothing: remove the call", "0.1"),
    "plumego.core.make": Deprecation("plumego.core.make", "build", "0.2"),
}


def fix(source: str) -> tuple[str, set[int], dict[int, str]]:
    result = rewrite_deprecated(source, DEPS)
    assert rewrite_deprecated(result.after, DEPS).after == result.after    # idempotent, every case
    return result.after, result.fixed_lines, result.skipped


def test_replacement_targets() -> None:
    assert replacement_target(DEPS["plumego.core.OldApp"]) == Target("plumego.core", "App")
    assert replacement_target(DEPS["plumego.core.make"]) == Target("plumego.core", "build")   # bare: same module
    assert replacement_target(DEPS["plumego.core.legacy"]) is None
    assert replacement_target(Deprecation("plumego.core.x", "requests.get", "")) is None     # not plumego's
    assert replacement_target(Deprecation("plumego.core.x", "", "")) is None


def test_from_import_without_alias_renames_every_use_it_binds() -> None:
    after, fixed, skipped = fix(
        "from plumego.core import OldApp, Router  # keep\n\n\n"
        "def build() -> object:\n    app: OldApp = OldApp()\n    return app, [OldApp for _ in range(2)]\n\n\n"
        "class OldAppLike:\n    OldApp = 1\n")
    assert after == (
        "from plumego.core import App, Router  # keep\n\n\n"
        "def build() -> object:\n    app: App = App()\n    return app, [App for _ in range(2)]\n\n\n"
        "class OldAppLike:\n    OldApp = 1\n")     # a class attribute that only shares the name is not a use
    assert fixed == {1} and skipped == {}


def test_an_alias_keeps_the_rest_of_the_file_unchanged() -> None:
    after, fixed, _ = fix("from plumego.core import OldApp as A\nfrom plumego.core import old_serve as s\n\nA(); s()\n")
    assert after == "from plumego.core import App as A\nfrom plumego.core.cli import serve as s\n\nA(); s()\n"
    assert fixed == {1, 2}


def test_a_replacement_in_another_module_moves_the_import_to_its_own_line() -> None:
    after, fixed, skipped = fix("from plumego.core import (\n    Router,\n    old_serve,\n)\n\nold_serve(Router)\n")
    assert after == ("from plumego.core import (\n    Router,\n)\nfrom plumego.core.cli import serve\n\n"
                     "serve(Router)\n")
    assert fixed == {1} and skipped == {}
    after, _, _ = fix("from plumego.core import old_serve\nold_serve()\n")
    assert after == "from plumego.core.cli import serve\nserve()\n"
    after, _, _ = fix("from plumego.core import (\n    old_serve,\n    Router\n)\nold_serve(Router)\n")
    assert after == "from plumego.core import (\n    Router\n)\nfrom plumego.core.cli import serve\nserve(Router)\n"


def test_comments_inside_a_parenthesised_import_stay_with_their_names() -> None:
    after, _, _ = fix("from plumego.core import (  # c1\n    OldApp,  # c2\n    old_serve,  # c3\n)\n"
                      "OldApp(old_serve)\n")
    assert after == ("from plumego.core import (  # c1\n    App,  # c2\n)\nfrom plumego.core.cli import serve\n"
                     "App(serve)\n")


def test_attribute_uses_are_renamed_when_the_replacement_is_in_the_same_module() -> None:
    after, fixed, skipped = fix(
        "import plumego.core\nimport plumego.core as pc\nfrom plumego import core\n\n"
        "a = plumego.core.OldApp()\nb = pc.OldApp; c = core.OldApp\n")
    assert after == ("import plumego.core\nimport plumego.core as pc\nfrom plumego import core\n\n"
                     "a = plumego.core.App()\nb = pc.App; c = core.App\n")
    assert fixed == {5, 6} and skipped == {}


def test_an_attribute_use_whose_replacement_is_in_another_module_gets_an_import() -> None:
    after, fixed, skipped = fix(
        "import plumego.core  # the app\nimport plumego.core as pc\n\n\n"
        "def run() -> object:\n    return plumego.core.old_serve(pc.old_serve)\n")
    assert after == ("import plumego.core  # the app\nfrom plumego.core.cli import serve\n"
                     "import plumego.core as pc\n\n\n"
                     "def run() -> object:\n    return serve(serve)\n")     # one import for both uses
    assert fixed == {6} and skipped == {}
    # the replacement already imported at the top: no second import
    after, _, _ = fix("from plumego import core\nfrom plumego.core.cli import serve\nx = core.old_serve\n")
    assert after == "from plumego import core\nfrom plumego.core.cli import serve\nx = serve\n"


def test_attribute_uses_that_cannot_be_moved_are_reported() -> None:
    cases = {
        # `serve` already names something else: the new import would capture it
        "import plumego.core\nserve = 1\nx = plumego.core.old_serve()\n": (3, "serve is already bound"),
        # the module is imported inside a function: a new top-level import would not be next to it
        "def f() -> object:\n    import plumego.core\n    return plumego.core.old_serve()\n":
            (3, "not imported at the top"),
        # a store or delete is not a use to rename
        "import plumego.core as pc\npc.OldApp = 1\n": (2, "assigned or deleted"),
        "import plumego.core as pc\ndel pc.old_serve\n": (2, "assigned or deleted"),
        # a builtin or undefined name the new import would shadow
        "import plumego.core\nprint(serve)\nplumego.core.old_serve()\n": (3, "already used in this file"),
    }
    for source, (line, reason) in cases.items():
        after, fixed, skipped = fix(source)
        assert after == source and not fixed, source
        assert reason in skipped[line], (source, skipped)


def test_already_imported_replacement_drops_the_deprecated_name() -> None:
    after, fixed, _ = fix("from plumego.core import App, OldApp\n\nx = (OldApp(), App())\n")
    assert after == "from plumego.core import App\n\nx = (App(), App())\n"
    assert fixed == {1}


def test_unsafe_cases_are_reported_and_left_as_written() -> None:
    cases = {
        # the new name is already a local variable somewhere: renaming would capture it
        "from plumego.core import OldApp\n\n\ndef f(App: int) -> object:\n    return OldApp\n": "already bound",
        # the new name is used unbound (a match class pattern here): the import would capture it
        "from plumego.core import OldApp\nmatch 1:\n    case App():\n        pass\nOldApp()\n": "already used",
        "from plumego.core import legacy\nlegacy()\n": "not a symbol",
        "from plumego.core import *\nOldApp()\n": "star import",
        # re-bound after the import: renaming the uses would skip the re-binding
        "from plumego.core import OldApp\nOldApp = wrap(OldApp)\nOldApp()\n": "re-bound",
        "from plumego.core import OldApp\n\n\ndef f() -> None:\n    global OldApp\n    OldApp = None\n": "re-bound",
        # exported under its old name: renaming would change this module's public names
        "from plumego.core import OldApp\n__all__ = ['OldApp']\n": "__all__",
    }
    for source, reason in cases.items():
        after, fixed, skipped = fix(source)
        assert after == source
        assert not fixed and reason in skipped[1], (source, skipped)
    source = "try:\n    from plumego.core import OldApp\nexcept ImportError:\n    OldApp = None\nOldApp()\n"
    after, fixed, skipped = fix(source)
    assert after == source and not fixed and "re-bound" in skipped[2]


def test_string_annotations_are_renamed_with_the_uses() -> None:
    after, fixed, _ = fix("from plumego.core import OldApp\n\n\n"
                          "def f(a: 'OldApp', b: 'x.OldApp') -> 'list[OldApp]':\n    return OldApp()\n")
    assert after == ("from plumego.core import App\n\n\n"
                     "def f(a: 'App', b: 'x.OldApp') -> 'list[App]':\n    return App()\n")
    assert fixed == {1}


def test_a_deprecated_module_is_reported_not_rewritten() -> None:
    deps = {**DEPS, "plumego.core.cli": Deprecation("plumego.core.cli", "plumego.core", "0.3")}
    source = ("import plumego.core.cli\nfrom plumego.core.cli import serve\nfrom plumego.core import cli\n"
              "plumego.core.cli.serve()\n")
    result = rewrite_deprecated(source, deps, lambda dotted: dotted == "plumego.core.cli")
    assert result.after == source and not result.fixed_lines
    assert set(result.skipped) == {1, 2, 3, 4}
    assert all("deprecated as a whole module" in reason for reason in result.skipped.values())


def test_a_replacement_that_is_not_in_a_module_is_reported() -> None:
    deps = {"plumego.core.make_app": Deprecation("plumego.core.make_app", "plumego.core.App.create", "0.3")}
    modules = {"plumego", "plumego.core"}.__contains__
    for source, line in (("from plumego.core import make_app\nmake_app()\n", 1),
                         ("import plumego.core\nplumego.core.make_app()\n", 2)):
        result = rewrite_deprecated(source, deps, modules)
        assert result.after == source and not result.fixed_lines
        assert "plumego.core.App is not a module" in result.skipped[line]


MORE = {
    **DEPS,
    "plumego.core.OlderApp": Deprecation("plumego.core.OlderApp", "plumego.core.App", "0.1"),
    "plumego.core.MidApp": Deprecation("plumego.core.MidApp", "OldApp", "0.2"),
    "plumego.core.make_other": Deprecation("plumego.core.make_other", "plumego.x.rest.App", "0.2"),
    "plumego.core.LoopA": Deprecation("plumego.core.LoopA", "LoopB", "0.2"),
    "plumego.core.LoopB": Deprecation("plumego.core.LoopB", "plumego.core.LoopA", "0.2"),
}


def fix_more(source: str, lines: set[int] | None = None) -> tuple[str, set[int], dict[int, str]]:
    result = rewrite_deprecated(source, MORE, lines=lines)
    assert rewrite_deprecated(result.after, MORE, lines=lines).after == result.after
    return result.after, result.fixed_lines, result.skipped


def test_an_aliased_import_of_the_new_name_does_not_bind_it() -> None:
    # `App as A` binds A, not App: the deprecated name must still become an import of App
    after, fixed, skipped = fix_more("from plumego.core import App as A, OlderApp\nw = A, OlderApp\n")
    assert after == "from plumego.core import App as A, App\nw = A, App\n"
    assert fixed == {1} and skipped == {}


def test_a_deprecated_replacement_is_followed_to_the_end_of_the_chain() -> None:
    after, fixed, _ = fix_more("from plumego.core import MidApp\nimport plumego.core as pc\ny = MidApp(), pc.MidApp\n")
    assert after == "from plumego.core import App\nimport plumego.core as pc\ny = App(), pc.App\n"
    assert fixed == {1, 3}
    source = "from plumego.core import LoopA\nLoopA()\n"
    after, fixed, skipped = fix_more(source)
    assert after == source and not fixed and "loop back to a deprecated name" in skipped[1]


def test_two_deprecated_names_may_not_take_one_new_name_for_different_things() -> None:
    after, fixed, skipped = fix_more("from plumego.core import OldApp, make_other\nz = OldApp, make_other\n")
    assert after == "from plumego.core import App, make_other\nz = App, make_other\n"
    assert "App is also the new name of plumego.core.App" in skipped[1]


def test_an_import_the_file_already_has_is_not_repeated() -> None:
    cases = {
        # an earlier top-level import binds App the same way: the deprecated import goes
        "from plumego.core import App\nfrom plumego.core import OlderApp, Router\nz = OlderApp, App\n":
            "from plumego.core import App\nfrom plumego.core import Router\nz = App, App\n",
        # two deprecated names with one replacement: one import
        "from plumego.core import OldApp\nfrom plumego.core import OlderApp\nz = OldApp, OlderApp\n":
            "from plumego.core import App\nz = App, App\n",
        # the file's own import of App after the rewritten one would only re-bind it
        "from plumego.core import OldApp\nfrom plumego.core import App, Router\nz = OldApp, App\n":
            "from plumego.core import App\nfrom plumego.core import Router\nz = App, App\n",
        # a moved import meets the one the file has
        "from plumego.core.cli import serve\nfrom plumego.core import old_serve\nz = old_serve, serve\n":
            "from plumego.core.cli import serve\nz = serve, serve\n",
        # a comment on the line stays, and so does the (harmless) repeated import with it
        "from plumego.core import App\n# why\nfrom plumego.core import OldApp  # note\nz = OldApp\n":
            "from plumego.core import App\n# why\nfrom plumego.core import App  # note\nz = App\n",
        # inside a function the import is local: kept
        "from plumego.core import App\n\n\ndef f() -> object:\n    from plumego.core import OldApp\n"
        "    return OldApp\n":
            "from plumego.core import App\n\n\ndef f() -> object:\n    from plumego.core import App\n"
            "    return App\n",
    }
    for source, expected in cases.items():
        after, fixed, skipped = fix_more(source)
        assert after == expected, source
        assert fixed and not skipped, source
        compile(after, "<fixed>", "exec")


def test_only_the_lines_check_reports_are_rewritten() -> None:
    source = ("from plumego.core import OldApp  # noqa: PLG305\nimport plumego.core as pc\n\n"
              "w = OldApp, pc.OlderApp, pc.OldApp\n")
    after, fixed, _ = fix_more(source, lines={4})
    assert after == ("from plumego.core import OldApp  # noqa: PLG305\nimport plumego.core as pc\n\n"
                     "w = OldApp, pc.App, pc.App\n")
    assert fixed == {4}
    assert fix_more(source, lines=set()) == (source, set(), {})


def test_relative_and_unrelated_imports_are_untouched() -> None:
    source = "from .core import OldApp\nfrom other.core import OldApp as B\nimport plumego.core.OldAppish\n"
    assert fix(source) == (source, set(), {})


def test_crlf_and_comments_are_preserved() -> None:
    source = "# header\r\nfrom plumego.core import OldApp  # why\r\n\r\nx = OldApp()  # trailing\r\n"
    after, _, _ = fix(source)
    assert after == "# header\r\nfrom plumego.core import App  # why\r\n\r\nx = App()  # trailing\r\n"


# ------------------------------------------------------------------------------------------ end to end

@pytest.fixture
def deprecating_plumego(tmp_path: Path) -> dict[str, str]:
    """Environment whose `plumego` is a copy of this checkout's, with OldApp and old_serve deprecated."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "plumego", site / "plumego", ignore=shutil.ignore_patterns("__pycache__"))
    core = site / "plumego" / "core" / "module.yaml"
    text = core.read_text()
    assert "deprecated_symbols: []" in text
    core.write_text(text.replace("deprecated_symbols: []", "deprecated_symbols:\n"
                                 "  - symbol: OldApp\n    replacement: plumego.core.App\n    since: '0.1'\n"
                                 "  - symbol: old_serve\n    replacement: plumego.core.cli.serve\n    since: '0.1'\n"
                                 "  - symbol: old_loader\n    replacement: plumego.core.cli.load_app\n"
                                 "    since: '0.2'\n"
                                 "  - symbol: legacy\n    replacement: delete the call\n    since: '0.1'\n"
                                 "  - symbol: MidApp\n    replacement: OldApp\n    since: '0.2'"))
    return {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}"}


def cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plumego_lint", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def codes(out: str) -> list[str]:
    return [line.split(": ", 1)[1].split()[0] for line in out.splitlines() if ": PLG" in line]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    dest = tmp_path / "svc"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".plumego-lint-cache", "__pycache__"))
    (dest / "app" / "legacy.py").write_bytes(
        b"from plumego.core import OldApp\r\nfrom plumego.core import legacy\r\n\r\n\r\n"
        b"def build() -> object:\r\n    return OldApp()\r\n")
    return dest


def test_cli_fixes_deprecations_then_check_is_clean_of_them(repo: Path, deprecating_plumego: dict[str, str]) -> None:
    env = deprecating_plumego
    before = cli(["check", "--no-cache", "--select", "PLG305"], repo, env)
    assert codes(before.stdout) == ["PLG305", "PLG305"], before.stdout + before.stderr  # the import lines
    assert "plumego.core.OldApp is deprecated since 0.1; use plumego.core.App" in before.stdout
    assert "plumego.core.legacy is deprecated since 0.1; delete the call" in before.stdout
    diff = cli(["fix", "--diff", "--select", "PLG305"], repo, env)
    assert diff.returncode == 1
    # text mode reads the diff's CRLF as LF; the bytes on disk are checked below
    assert "-from plumego.core import OldApp\n+from plumego.core import App\n" in diff.stdout
    assert "app/legacy.py:2: plumego.core.legacy: replacement 'delete the call' is not a symbol" in diff.stderr
    # --diff writes nothing
    assert (repo / "app" / "legacy.py").read_bytes().startswith(b"from plumego.core import OldApp\r\n")

    done = cli(["fix", "--select", "PLG305"], repo, env)
    assert done.returncode == 0, done.stderr
    assert (repo / "app" / "legacy.py").read_bytes() == (
        b"from plumego.core import App\r\nfrom plumego.core import legacy\r\n\r\n\r\n"
        b"def build() -> object:\r\n    return App()\r\n")
    assert "rewrote app/legacy.py" in done.stderr
    assert "app/services/chat.py" not in done.stderr          # PLG301 was not selected: its import stays
    after = cli(["check", "--no-cache", "--select", "PLG305"], repo, env)
    assert codes(after.stdout) == ["PLG305"] and ":2:" in after.stdout     # only the unfixable one is left
    assert cli(["fix", "--diff", "--select", "PLG305"], repo, env).stdout == ""  # idempotent


def test_ignore_skips_the_deprecation_codemod(repo: Path, deprecating_plumego: dict[str, str]) -> None:
    diff = cli(["fix", "--diff", "--ignore", "PLG305"], repo, deprecating_plumego)
    assert "app/legacy.py" not in diff.stdout and "app/services/chat.py" in diff.stdout


def test_deprecations_are_fixed_before_the_adapter_codemod_in_one_edit(repo: Path,
                                                                         deprecating_plumego: dict[str, str]) -> None:
    env = deprecating_plumego
    chat = repo / "app" / "services" / "chat.py"
    chat.write_text("from plumego.core import OldApp\n" + chat.read_text() + "\n\ndef app() -> object:\n"
                    "    return OldApp()\n")
    diff = cli(["fix", "--diff"], repo, env)
    assert diff.stdout.count("+++ b/app/services/chat.py") == 1     # one edit for the file both codemods touch
    assert cli(["fix"], repo, env).returncode == 0
    text = chat.read_text()
    assert "from plumego.core import App\n" in text and "return App()" in text
    assert "from app.adapters.ai import ai" in text
    left = cli(["check", "--no-cache"], repo, env)
    assert [c for c in codes(left.stdout) if c in ("PLG301", "PLG305")] == ["PLG305"], left.stdout  # legacy.py:2


def test_a_file_that_is_not_utf8_is_reported_not_rewritten(repo: Path, deprecating_plumego: dict[str, str]) -> None:
    legacy = repo / "app" / "legacy.py"
    data = b"# -*- coding: latin-1 -*-\n# caf\xe9\nfrom plumego.core import OldApp\n"
    legacy.write_bytes(data)
    done = cli(["fix", "--select", "PLG305"], repo, deprecating_plumego)
    assert done.returncode == 0, done.stderr
    assert "app/legacy.py:3: not UTF-8" in done.stderr
    assert legacy.read_bytes() == data


def test_broken_files_are_plg901_for_check_and_skipped_by_fix(repo: Path, deprecating_plumego: dict[str, str]) -> None:
    env = deprecating_plumego
    (repo / "app" / "deep.py").write_text("x = " + "-" * 200_000 + "1\n")        # too deep for CPython's parser
    (repo / "app" / "comment.py").write_bytes(b"# caf\xe9\nimport os\n")       # Python refuses: not UTF-8
    (repo / "app" / "nul.py").write_bytes(b"import os\x00\n")
    checked = cli(["check", "--no-cache", "--select", "PLG9"], repo, env)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr, checked.stderr
    assert sorted(line.split(":")[0] for line in checked.stdout.splitlines() if "PLG901" in line) == [
        "app/comment.py", "app/deep.py", "app/nul.py"]
    for args in (["fix", "--diff"], ["fix"], ["report"]):
        out = cli(args, repo, env)
        assert "Traceback" not in out.stderr and out.returncode in (0, 1), (args, out.stderr)
    assert "return App()" in (repo / "app" / "legacy.py").read_text()   # the rest was still fixed


def test_cli_moves_attribute_uses_reports_conflicts_and_the_result_runs(repo: Path,
                                                                        deprecating_plumego: dict[str, str]) -> None:
    env = deprecating_plumego
    (repo / "app" / "legacy.py").unlink()
    wiring = repo / "app" / "wiring.py"
    wiring.write_text("import plumego.core as pc\n\n\ndef build() -> object:\n"
                      "    return pc.OldApp(), pc.old_loader, 'ok'\n")
    clash = repo / "app" / "clash.py"
    clash_source = "import plumego.core\n\nload_app = None\nx = plumego.core.old_loader\n"
    clash.write_text(clash_source)
    before = cli(["check", "--no-cache", "--select", "PLG305"], repo, env)
    assert len(codes(before.stdout)) == 3, before.stdout      # wiring.py:5 (two symbols), clash.py:4

    done = cli(["fix", "--select", "PLG305"], repo, env)
    assert done.returncode == 0, done.stderr
    assert wiring.read_text() == ("import plumego.core as pc\nfrom plumego.core.cli import load_app\n\n\n"
                                  "def build() -> object:\n    return pc.App(), load_app, 'ok'\n")
    assert clash.read_text() == clash_source
    assert ("not fixed automatically: app/clash.py:4: plumego.core.old_loader: its replacement "
            "plumego.core.cli.load_app lives in another module and load_app is already bound") in done.stderr
    after = cli(["check", "--no-cache", "--select", "PLG305"], repo, env)
    assert after.stdout.count("PLG305") == 1 and "app/clash.py:4:" in after.stdout, after.stdout
    # the rewritten module imports and runs against the real plumego: App and load_app exist, OldApp never did
    run = subprocess.run([sys.executable, "-c", "from app.wiring import build; print(build()[2])"], cwd=repo,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == "ok", run.stderr
    assert cli(["fix", "--select", "PLG305"], repo, env).stderr.count("rewrote") == 0      # idempotent


def test_cli_reports_a_deprecated_module_and_select_plg301_leaves_deprecations(
        repo: Path, deprecating_plumego: dict[str, str], tmp_path: Path) -> None:
    env = deprecating_plumego
    site = Path(env["PYTHONPATH"].split(os.pathsep)[0])
    manifest = site / "plumego" / "log" / "module.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("deprecated_symbols: []", "deprecated_symbols:\n"
                                     "  - symbol: _redact\n    replacement: plumego.log\n    since: '0.3'"))
    (repo / "app" / "redact.py").write_text("import plumego.log._redact\nfrom plumego.log import _redact\n")
    only_adapters = cli(["fix", "--diff", "--select", "PLG301"], repo, env)
    assert "app/legacy.py" not in only_adapters.stdout and "not fixed automatically" not in only_adapters.stderr
    assert "app/services/chat.py" in only_adapters.stdout
    done = cli(["fix", "--diff", "--select", "PLG305"], repo, env)
    assert "app/redact.py" not in done.stdout
    for line in (1, 2):
        assert (f"app/redact.py:{line}: plumego.log._redact is deprecated as a whole module, not one symbol; "
                f"move to plumego.log by hand") in done.stderr


def test_cli_leaves_noqa_and_ignored_typing_only_lines_and_follows_chains(
        repo: Path, deprecating_plumego: dict[str, str]) -> None:
    env = deprecating_plumego
    (repo / "app" / "legacy.py").unlink()
    kept = ("from typing import TYPE_CHECKING\n\nfrom plumego.core import OldApp  # noqa: PLG305\n"
            "import plumego.core as pc\n\nif TYPE_CHECKING:\n    from plumego.core import OlderApp\n\n"
            "w = OldApp, pc.MidApp\n")
    mixed = repo / "app" / "mixed.py"
    mixed.write_text(kept.replace("OlderApp", "old_serve"))
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'ignore_typing_only = ["PLG305"]\n')
    before = cli(["check", "--no-cache", "--select", "PLG305"], repo, env)
    assert codes(before.stdout) == ["PLG305"] and "app/mixed.py:9:" in before.stdout, before.stdout

    done = cli(["fix", "--select", "PLG305"], repo, env)
    assert done.returncode == 0 and "not fixed automatically" not in done.stderr, done.stderr
    # MidApp -> OldApp -> App in one run; the noqa line and the typing-only import stay as written
    assert mixed.read_text() == kept.replace("OlderApp", "old_serve").replace("pc.MidApp", "pc.App")
    after = cli(["check", "--no-cache", "--select", "PLG305"], repo, env)
    assert after.returncode == 0 and codes(after.stdout) == [], after.stdout
    assert cli(["fix", "--diff", "--select", "PLG305"], repo, env).returncode == 0       # nothing left to do


def test_cli_fix_refuses_paths_it_cannot_fix(repo: Path, deprecating_plumego: dict[str, str], tmp_path: Path) -> None:
    missing = cli(["fix", "app/nope.py"], repo, deprecating_plumego)
    assert missing.returncode == 2 and "path not found: app/nope.py" in missing.stderr
    outside = cli(["fix", "--diff", str(tmp_path / "site")], repo, deprecating_plumego)
    assert outside.returncode == 2 and "is outside the project root" in outside.stderr
    one = cli(["fix", "--diff", "--select", "PLG305", "app/legacy.py"], repo, deprecating_plumego)
    assert one.returncode == 1 and "+++ b/app/legacy.py" in one.stdout
