"""The service facts' fast route gives exactly the facts of the full walk (``fast=False``).

The fast route skips statements below module level and expressions whose lines spell no ``import``, no
dynamic-import function and no tracked name. Compared on every Python file of this repository, on Django's
source when the benchmark has downloaded it, and on edge cases written to break a line-based skip; a
second test checks that the edge cases do yield the facts they are about, so agreement is not vacuous."""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from plumego_lint.facts import ParseError, parse
from plumego_lint.service.facts import extract_facts

ROOT = Path(__file__).resolve().parents[2]
# The benchmark's download in this checkout; PLUMEGO_DJANGO_SRC points elsewhere (a git worktree, a CI cache).
DJANGO = Path(os.environ.get("PLUMEGO_DJANGO_SRC") or ROOT / "bench/.work/django_src/django")

Track = Callable[[str], bool] | None
TRACKS: dict[str, Track] = {
    "every import": None,                                               # the most expressions kept
    "plumego only": lambda m: m == "plumego" or m.startswith("plumego."),   # what service repos track
}


def _is_module(name: str) -> bool:
    return name.count(".") % 2 == 1      # any fixed answer will do: both routes ask the same question


def _agree(data: bytes, module: str = "pkg.mod", is_package: bool = False) -> int:
    tree = parse(data)
    if isinstance(tree, ParseError):
        return 0
    for track in TRACKS.values():
        fast = extract_facts(tree, module, is_package, _is_module, source=data, track=track)
        full = extract_facts(tree, module, is_package, _is_module, source=data, track=track, fast=False)
        assert fast.to_plain() == full.to_plain()
    return 1


def _python_files(root: Path) -> Iterator[Path]:
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in {".git", ".venv", "__pycache__", ".work", ".ci", "node_modules"}]
        for name in files:
            if name.endswith(".py"):
                yield Path(directory, name)


def test_fast_and_full_routes_agree_on_every_file_of_this_repo() -> None:
    checked = sum(_agree(path.read_bytes()) for path in _python_files(ROOT))
    assert checked > 300


def test_fast_and_full_routes_agree_on_django() -> None:
    if not DJANGO.is_dir():
        pytest.skip(f"{DJANGO} not downloaded (python bench/lint_bench.py fetches it; or set PLUMEGO_DJANGO_SRC)")
    checked = sum(_agree(path.read_bytes(), "django.x") for path in _python_files(DJANGO))
    assert checked > 800


PC = "import plumego.core as pc\n"
EDGE_CASES = {
    "attribute chain split over lines": PC + "\nx = (pc\n     .OldApp)\ny = 1\n",
    "name only inside a string": PC + "\nx = 'pc.OldApp'\ny = len([1])\n",
    "name inside an f-string": PC + "\nx = f'{pc.OldApp}'\n",
    "lambda and comprehension": PC + "\nf = lambda: pc.App\ng = [pc.App for _ in ()]\n",
    "decorators and defaults": (PC + "\n\n@pc.route('/')\ndef f(a=pc.DEFAULT, *, b=(\n"
                                "        pc.OTHER)):\n    return a\n"),
    "semicolons": "import plumego.core as pc; x = pc.App; y = 2\n",
    "backslash continuation": PC + "x = 1 + \\\n    pc.App.size\n",
    "aliased import_module": ("from importlib import import_module as im\n" + PC +
                              "m = im('plumego.x.ai')\nn = pc.App\n"),
    "importlib attribute": "import importlib as il\n" + PC + "m = il.import_module('x.y')\n",
    "dunder import": "import plumego\nm = __import__('plumego.x.ai')\nk = plumego.core\n",
    "class bodies and bases": (PC + "\n\nclass A(pc.Base, metaclass=pc.Meta):\n"
                               "    x = pc.App\n\n    def f(self) -> None:\n        return pc.App\n"),
    "typing only": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import plumego.core as pc\n"
                    "x: 'pc.App'\ny = pc.App if TYPE_CHECKING else None\n"),
    "star import": "from plumego.core import *\nfrom plumego import core\nx = core.App\n",
    "carriage returns": "import plumego.core as pc\rx = (pc\r  .App)\ry = 1\r",
    "non-ascii identifier": "import plumego.core as p\u00e7\n\nx = p\u00e7.App\ny = 1\n",
    "nested functions": PC + "\n\ndef outer():\n    def inner():\n        return pc.App\n    return inner\n",
    "match statement": PC + "import os\nmatch 1:\n    case 1:\n        x = pc.App\n",
    # Statements below module level: skipped unless their lines spell an import, a call alias or a tracked name.
    "function-level import": "def f():\n    x = 1\n    import plumego.core as pc\n    return pc.App\n",
    "one-line compound statements": ("def f(): import plumego.core as pc; return pc.App\n"
                                     "class A: x = 1; import plumego.x.ai as ai\n"
                                     "def g():\n    if 1: return __import__('plumego.x.ai')\n"),
    "semicolons in a body": PC + "def f():\n    y = 2; z = pc.App; w = 3\n",
    "backslash in a body": ("def f():\n    from importlib \\\n        import import_module as im\n"
                            "    return 1 + \\\n        im('a.b')\n"),
    "alias bound in one function, called in others": (
        PC + "def before():\n    return im('a.before')\n"
        "def bind():\n    from importlib import import_module as im\n    return im('a.bind')\n"
        "def after():\n    return im('a.after')\n"),
    "alias bound by a later module-level import": (
        "def f():\n    return load('x.y')\nfrom importlib import import_module as load\n"
        "def g():\n    return load('x.z')\n"),
    "decorated first member of a class body": PC + "class A:\n    @pc.route\n    def f(self):\n        return 1\n",
    "decorated nested function": PC + "def f():\n    @pc.cache(\n        1)\n    def g():\n        pass\n",
    "nested classes": PC + "def f():\n    class B(pc.Base):\n        class C:\n            y = pc.App\n",
    "lambdas and comprehensions in bodies": (
        "import importlib\n" + PC + "def f():\n    return ([pc.App for _ in ()],\n"
        "            lambda: importlib.import_module('x.y'),\n            {k: pc.V for k in ()})\n"),
    "star import used in a body": "from plumego.core import *\nimport plumego\ndef f():\n    return plumego.core.App\n",
    "TYPE_CHECKING alias in a body": ("from typing import TYPE_CHECKING as TC\ndef f():\n    if TC:\n"
                                      "        import plumego.core as pc\n    return 1\n"),
    "carriage returns in a body": "import plumego.core as pc\r\ndef f():\r\n    x = 1\r\n    return pc.App\r\n",
    "fullwidth spelling of a tracked name": PC + "def f():\n    return \uff50\uff43.App\n",
    "fullwidth spelling of a call alias": ("from importlib import import_module as im\n" + PC +
                                           "def f():\n    return \uff49\uff4d('x.y')\n"),
    "non-ASCII tracked name in a body": "import plumego.core as p\u00e7\ndef f():\n    return p\u00e7.App\n",
    # no ASCII `import_module` bytes: the first walk reads no calls, the second one (pc is tracked) finds this one
    "fullwidth import_module": ("from importlib import \uff49\uff4d\uff50\uff4f\uff52\uff54_module as im\n" + PC +
                                "x = pc.App\ndef f():\n    return im('x.y')\n"),
    "no dynamic bytes, tracked names only": PC + "def f():\n    return pc.App(lambda: g('x'))\n",
    "rebound import name": PC + "def f():\n    return pc.App\nimport os as pc\n",
}
UTF7_CASES = {
    # UTF-7 spells ASCII text with other ASCII bytes: `+/1D/Qw-` is the fullwidth `pc`, `+AGk-mport` is `import`.
    "utf-7 tracked name": b"# coding: utf-7\nimport plumego.core as pc\ndef f():\n    return +/1D/Qw-.App\n",
    "utf-7 import keyword": b"# coding: utf-7\ndef f():\n    x = 1\n    +AGk-mport plumego.core\n",
}
# What each edge case is about, seen in the fast route's facts: (dynamic imports, attribute uses) it must find.
EXPECTED = {
    "function-level import": (["plumego.core"], [], []),   # a function's own names are not tracked
    "one-line compound statements": (["plumego.core", "plumego.x.ai"], ["plumego.x.ai"], []),
    "semicolons in a body": ([], [], ["plumego.core.App"]),
    "backslash in a body": (["importlib"], ["a.b"], []),
    "alias bound in one function, called in others": (["importlib"], ["a.bind", "a.after"], []),
    "alias bound by a later module-level import": ([], ["x.z"], []),
    "decorated first member of a class body": ([], [], ["plumego.core.route"]),
    "decorated nested function": ([], [], ["plumego.core.cache"]),
    "nested classes": ([], [], ["plumego.core.App", "plumego.core.Base"]),
    "lambdas and comprehensions in bodies": ([], ["x.y"], ["plumego.core.App", "plumego.core.V"]),
    "star import used in a body": ([], [], ["plumego.core.App"]),
    "carriage returns in a body": ([], [], ["plumego.core.App"]),
    "fullwidth spelling of a tracked name": ([], [], ["plumego.core.App"]),
    "fullwidth spelling of a call alias": ([], ["x.y"], []),
    "non-ASCII tracked name in a body": ([], [], ["plumego.core.App"]),
    "fullwidth import_module": ([], ["x.y"], ["plumego.core.App"]),
    "no dynamic bytes, tracked names only": ([], [], ["plumego.core.App"]),
    "rebound import name": ([], [], []),
}


@pytest.mark.parametrize("source", UTF7_CASES.values(), ids=list(UTF7_CASES))
def test_fast_and_full_routes_agree_on_utf7(source: bytes) -> None:
    assert _agree(source) == 1
    facts = extract_facts(ast.parse(source), "app.x", False, lambda name: False, source=source)
    assert [f.module for f in facts.imports][-1] == "plumego.core"
    assert facts.attribute_uses or facts.imports[-1].function_level


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items(), ids=list(EXPECTED))
def test_edge_cases_yield_the_facts_they_are_about(name: str,
                                                   expected: tuple[list[str], list[str], list[str]]) -> None:
    data = EDGE_CASES[name].encode("utf-8")
    facts = extract_facts(ast.parse(data), "app.x", False, lambda name: False, source=data,
                          track=TRACKS["plumego only"])
    inner = [f.module for f in facts.imports if not f.module_level and f.kind != "dynamic"]
    dynamic = [f.module for f in facts.imports if f.kind == "dynamic"]
    assert (inner, dynamic, sorted(u.dotted for u in facts.attribute_uses)) == expected


@pytest.mark.parametrize("source", EDGE_CASES.values(), ids=list(EDGE_CASES))
def test_fast_and_full_routes_agree_on_edge_cases(source: str) -> None:
    assert _agree(source.encode("utf-8")) == 1


def test_the_fast_route_still_sees_the_uses() -> None:
    data = EDGE_CASES["attribute chain split over lines"].encode()
    tree = ast.parse(data)
    facts = extract_facts(tree, "app.x", False, lambda name: False, source=data)
    assert [u.dotted for u in facts.attribute_uses] == ["plumego.core.OldApp"]
