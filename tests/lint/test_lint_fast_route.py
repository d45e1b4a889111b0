"""Agreement test (issue 3): the fast fact route and the full ``ast`` walk give identical facts.

The fast route skips compound statements whose lines hold no ``import`` bytes. It runs here over
every .py file of this repository (package, linter, tests, fixture trees) and, when the benchmark
corpus has been built, over Django's source too; plus hand-written edge cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plumego_lint.facts import byte_scannable, extract

from conftest import REPO

EDGE_CASES = [
    b"def f():\n    x = 1; import os\n",
    b"def f():\n    if x: import os.path as p\n",
    b"class C:\n    def m(self):\n        from \\\n            a.b import \\\n            c\n",
    b"def f():\n    '''no import here'''\n    return 1\n",
    b"def f():\r\n    import os\r\n",
    b"def f():\r    import os\r",
    b"from typing import TYPE_CHECKING as TC\nif TC:\n    import a\nelse:\n    import b\n",
    b"try:\n    pass\nexcept ImportError:\n    def g():\n        import fallback\n",
    b"@dec\ndef f():\n    with x:\n        for i in y:\n            while z:\n                import deep\n",
    b"match v:\n    case 1:\n        import m1\n    case _:\n        pass\n",
    b"async def f():\n    async with a:\n        async for b in c:\n            import inner\n",
    b"lambda: 0\nif not TYPE_CHECKING:\n    pass\nelse:\n    import typing_only\n",
    b"def f():\n    s = 'import x'\n    def g():\n        return 2\n",
    b"from importlib import import_module as im\ndef f():\n    x = 1\n    return im('a.b')\n",
    b"from importlib import (\n    import_module as load,\n)\nclass C:\n    def m(self):\n        y = load(name)\n",
    b"from importlib import import_module as \\\n    sneaky\ndef f():\n    return sneaky('x.y')\n",
    b"from builtins import __import__ as imp\ndef f():\n    return imp('x', fromlist=['y'], level=1)\n",
    b"import importlib\n@register(importlib.import_module('plugins'))\ndef f():\n    pass\n",
    b"import importlib as il\nclass C(\n    il.import_module('base').Base):\n    pass\n",
    b"import importlib\nhandler = lambda n: importlib.\\\n    import_module(n)\n",
    # identifiers are NFKC-normalized: fullwidth letters spell the alias `im` without its bytes
    "from importlib import import_module as im\ndef f():\n    return \uff49\uff4d('x.y')\n".encode(),
    # UTF-7 spells ASCII with other ASCII bytes: `+AGk-mport` is the keyword `import`
    b"# coding: utf-7\ndef f():\n    x = 1\n    +AGk-mport os\n",
    b"# -*- coding: utf-7 -*-\nfrom importlib import import_module as im\ndef f():\n    return +/0n/TQ-('x.y')\n",
]


def _python_files() -> list[Path]:
    roots = [REPO / "plumego", REPO / "plumego_lint", REPO / "tests", REPO / "reference_app", REPO / "bench",
             REPO / "scripts"]
    corpus = REPO / "bench/.work/django_src/django"
    if corpus.is_dir():
        roots.append(corpus)
    files: list[Path] = []
    for root in roots:
        if root.is_dir():
            files.extend(p for p in sorted(root.rglob("*.py")) if ".work" not in p.parts or root == corpus)
    return files


def test_fast_and_full_routes_agree_on_every_repo_file() -> None:
    files = _python_files()
    assert len(files) > 100
    for path in files:
        data = path.read_bytes()
        assert extract(data) == extract(data, fast=False), path


@pytest.mark.parametrize("source", EDGE_CASES)
def test_fast_and_full_routes_agree_on_edge_cases(source: bytes) -> None:
    fast, full = extract(source), extract(source, fast=False)
    assert fast == full
    assert fast.error is None


@pytest.mark.parametrize(("source", "expected"), [
    (b"import os\n", True),
    (b"# -*- coding: utf-8 -*-\nimport os\n", True),
    (b"#!/usr/bin/env python\n# coding: latin-1\nimport os\n", True),
    (b"x = 'coding'\n", True),                                  # no cookie: UTF-8
    (b"\n\n# coding: utf-7\n", True),                            # a cookie on line 3 does not count
    (b"# coding: utf-7\nimport os\n", False),
    (b"# vim: set fileencoding=iso-2022-jp :\n", False),
    (b"# coding: no-such-codec\n", False),
    (b"import os\r\n", False),
])
def test_byte_scannable_says_when_bytes_show_what_the_parser_reads(source: bytes, expected: bool) -> None:
    assert byte_scannable(source) is expected
