"""Instruction counts of the parse step's parts, for a loaded machine (callgrind does not move with load).

Reads the first N Python files of a corpus the way a parse worker does (gc paused), then runs the chosen
parts on each file: ``floor`` (``ast.parse`` only), ``walk`` (the import facts walk), ``defs`` (the
module-level definitions walk), ``noqa`` (noqa scan + content hash), ``svc`` (the service family's tree
extractor). Run each mode under callgrind and subtract the ``floor`` count:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python bench/extraction_ir.py bench/.work/corpus_a walk,svc 300

(with ``PYTHONHASHSEED=0`` and bytecode already written: one run without valgrind first). Not a test.
"""

from __future__ import annotations

import ast
import gc
import sys
from pathlib import Path

from plumego_lint.engine import build_project
from plumego_lint.facts import _definitions, _walk_imports, content_hash, scan_noqa
from plumego_lint.rules.service import ServiceFamily


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    root, modes, count = Path(argv[0]), set(argv[1].split(",")), int(argv[2])
    project = build_project(root)
    extractor = ServiceFamily().tree_extractor(project)
    files = project.files[:count]
    keys = [extractor.key(f) if extractor is not None else None for f in files]
    gc.disable()
    for file, key in zip(files, keys):
        with open(file.abspath, "rb") as handle:
            data = handle.read()
        tree = ast.parse(data)
        if "walk" in modes:
            _walk_imports(tree, data, True)
        if "defs" in modes:
            _definitions(tree)
        if "noqa" in modes:
            scan_noqa(data)
            content_hash(data)
        if "svc" in modes and key is not None and extractor is not None:
            extractor.extract(key, tree, data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
