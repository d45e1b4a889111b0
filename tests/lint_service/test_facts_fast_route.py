"""The service facts' fast route (expressions skipped when their lines spell no tracked name or dynamic-import
function) gives exactly the facts of the full walk: on every Python file of this repository, on Django's
source when the benchmark has downloaded it, and on edge cases written to break a line-based skip."""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from plumego_lint.facts import ParseError, parse
from plumego_lint.service.facts import extract_facts

ROOT = Path(__file__).resolve().parents[2]
DJANGO = ROOT / "bench" / ".work" / "django_src" / "django"

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
        pytest.skip(f"{DJANGO} not downloaded (python bench/lint_bench.py fetches it)")
    checked = sum(_agree(path.read_bytes(), "django.x") for path in _python_files(DJANGO))
    assert checked > 800


EDGE_CASES = {
    "attribute chain split over lines": "import plumego.core as pc\n\nx = (pc\n     .OldApp)\ny = 1\n",
    "name only inside a string": "import plumego.core as pc\n\nx = 'pc.OldApp'\ny = len([1])\n",
    "name inside an f-string": "import plumego.core as pc\n\nx = f'{pc.OldApp}'\n",
    "lambda and comprehension": "import plumego.core as pc\n\nf = lambda: pc.App\ng = [pc.App for _ in ()]\n",
    "decorators and defaults": ("import plumego.core as pc\n\n\n@pc.route('/')\ndef f(a=pc.DEFAULT, *, b=(\n"
                                "        pc.OTHER)):\n    return a\n"),
    "semicolons": "import plumego.core as pc; x = pc.App; y = 2\n",
    "backslash continuation": "import plumego.core as pc\nx = 1 + \\\n    pc.App.size\n",
    "aliased import_module": ("from importlib import import_module as im\nimport plumego.core as pc\n"
                              "m = im('plumego.x.ai')\nn = pc.App\n"),
    "importlib attribute": "import importlib as il\nimport plumego.core as pc\nm = il.import_module('x.y')\n",
    "dunder import": "import plumego\nm = __import__('plumego.x.ai')\nk = plumego.core\n",
    "class bodies and bases": ("import plumego.core as pc\n\n\nclass A(pc.Base, metaclass=pc.Meta):\n"
                               "    x = pc.App\n\n    def f(self) -> None:\n        return pc.App\n"),
    "typing only": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import plumego.core as pc\n"
                    "x: 'pc.App'\ny = pc.App if TYPE_CHECKING else None\n"),
    "star import": "from plumego.core import *\nfrom plumego import core\nx = core.App\n",
    "carriage returns": "import plumego.core as pc\rx = (pc\r  .App)\ry = 1\r",
    "non-ascii identifier": "import plumego.core as pç\n\nx = pç.App\ny = 1\n",
    "nested functions": ("import plumego.core as pc\n\n\ndef outer():\n    def inner():\n"
                         "        return pc.App\n    return inner\n"),
    "match statement": "import plumego.core as pc\nmatch 1:\n    case 1:\n        x = pc.App\n",
}


@pytest.mark.parametrize("source", EDGE_CASES.values(), ids=list(EDGE_CASES))
def test_fast_and_full_routes_agree_on_edge_cases(source: str) -> None:
    assert _agree(source.encode("utf-8")) == 1


def test_the_fast_route_still_sees_the_uses() -> None:
    data = EDGE_CASES["attribute chain split over lines"].encode()
    tree = ast.parse(data)
    facts = extract_facts(tree, "app.x", False, lambda name: False, source=data)
    assert [u.dotted for u in facts.attribute_uses] == ["plumego.core.OldApp"]
