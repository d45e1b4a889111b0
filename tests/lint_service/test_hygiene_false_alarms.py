"""Hygiene rules without false alarms on real libraries (issue 11, item 6), each next to the true positives
the same rule must keep. The false-alarm lines are copied from the library releases that raised them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from plumego_lint.service import ServiceContext, check_paths, load_service_config


def findings(root: Path, files: dict[str, str]) -> set[tuple[str, int, str]]:
    (root / "pyproject.toml").write_text("[project]\nname = \"lib\"\n", encoding="utf-8")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    ctx = ServiceContext.create(load_service_config(root))
    return {(p.relative_to(root).as_posix(), f.line, f.code) for p, fs in check_paths([], ctx).items() for f in fs}


def lines(found: set[tuple[str, int, str]], path: str, code: str) -> list[int]:
    return sorted(line for p, line, c in found if p == path and c == code)


def test_plg602_skips_a_main_guard_joined_with_and(tmp_path: Path) -> None:
    # rich 13/14/15, rich/ansi.py: a demo that runs only when the module is executed
    found = findings(tmp_path, {"lib/__init__.py": "", "lib/ansi.py": """\
        import sys

        if sys.platform != "win32" and __name__ == "__main__":  # pragma: no cover
            import pty
            pty.spawn(sys.argv[1:])
            for line in sys.stdin:
                print(line)

        if "__main__" == __name__:
            print("either way round")

        if __name__ != "__main__":
            print("runs at every import")

        if __name__ == "__main__":
            print("script")
        else:
            print("the else runs at import")

        if sys.platform == "win32" or __name__ == "__main__":
            print("runs at import on Windows")
        """})
    assert lines(found, "lib/ansi.py", "PLG602") == [13, 18, 21]


def test_plg602_accepts_the_logging_howto_null_handler(tmp_path: Path) -> None:
    # requests 2.x, requests/__init__.py: the logging HOWTO's "configuring logging for a library" idiom
    found = findings(tmp_path, {"lib/__init__.py": """\
        import logging
        from logging import NullHandler

        logging.getLogger(__name__).addHandler(NullHandler())
        logging.getLogger("lib.sub").addHandler(logging.NullHandler())
        logger = logging.getLogger(__name__)
        logger.addHandler(logging.NullHandler())
        logger.addHandler(logging.StreamHandler())
        logging.basicConfig(level=logging.DEBUG)
        logger.addHandler(logging.NullHandler(), "extra")
        """})
    assert lines(found, "lib/__init__.py", "PLG602") == [8, 9, 10]


def test_plg602_accepts_docstring_assignment(tmp_path: Path) -> None:
    # sqlalchemy 2.x, sqlalchemy/sql/functions.py; django 5.x, django/views/decorators/http.py
    found = findings(tmp_path, {"lib/__init__.py": "", "lib/decorators.py": """\
        def require_http_methods(methods):
            def decorator(func):
                return func
            return decorator


        class _FunctionGenerator:
            \"\"\"Generate SQL function expressions.\"\"\"


        func = _FunctionGenerator()
        func.__doc__ = _FunctionGenerator.__doc__
        require_GET = require_http_methods(["GET"])
        require_GET.__doc__ = "Decorator to require that a view only accepts the GET method."
        require_GET.__module__ = "lib"
        __all__ = ["func"]
        __all__ += ["require_GET"]
        REGISTRY = {}
        REGISTRY["get"] = require_GET
        func.registry = REGISTRY
        _FunctionGenerator.__init__ = lambda self: None
        COUNT = 0
        COUNT += 1
        """})
    assert lines(found, "lib/decorators.py", "PLG602") == [19, 20, 21, 23]


def test_plg201_spares_a_module_of_a_package_but_not_a_package_or_top_level_name(tmp_path: Path) -> None:
    # requests 2.x: requests/utils.py is a documented part of the library's API
    found = findings(tmp_path, {
        "requests/__init__.py": "", "requests/utils.py": "def quote(s):\n    return s\n",
        "app/__init__.py": "", "app/utils/__init__.py": "",
        "helpers.py": "",
    })
    assert {(p, c) for p, _, c in found if c == "PLG201"} == {("app/utils/__init__.py", "PLG201"),
                                                              ("helpers.py", "PLG201")}


def test_selecting_plg201_runs_its_service_form() -> None:
    """`--select PLG2` in a service repo used to skip the service family (which owns PLG201 there): no findings."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    for select in ("PLG201", "PLG2"):
        proc = subprocess.run([sys.executable, "-m", "plumego_lint", "check", "--no-cache", "--select", select],
                              cwd=root / "tests/fixtures/service_bad", env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 1 and "app/utils/__init__.py:1:1: PLG201 vague package name" in proc.stdout
