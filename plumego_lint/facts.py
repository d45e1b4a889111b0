"""Per-file facts: every import a Python file makes, its noqa comments, and its public definitions.

Owns extraction (bytes -> ``FileFacts``, one parse with the stdlib ``ast`` fast route) and resolution
(raw import + importer module + module index -> absolute ``ImportFact``). Facts are plain tuples so the
cache can store them with ``marshal``. Must not import rules, reporters, specs or the CLI.
Facts come from stdlib ``ast`` (lint-anchors §5: libcst parse+visit is ~10x slower); libcst is kept
for what needs exact spans, comments and rewrites (codemods), never on the check path.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

try:   # the builtin BLAKE2 module: importing ``hashlib`` also loads OpenSSL (about 3 ms of every short run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython builds it in
    from hashlib import blake2b

PARSER_VERSION = "ast-3"   # ast-2: non-UTF-8 bytes in comments are PLG901; ast-3: fast route exact on UTF-7 / NFKC

KIND_IMPORT = "import"      # import a.b [as c]
KIND_FROM = "from"          # from a import b  /  from . import b  /  from a import *
KIND_DYNAMIC = "dynamic"    # importlib.import_module(...) / __import__(...)

PKG_NONE = ""               # import_module without package=
PKG_SELF = "\0self"         # package=__package__ / __name__ / __spec__.parent
PKG_UNKNOWN = "\0unknown"   # package= a non-literal expression


class RawImport(NamedTuple):
    """One import as written, before resolution (cached per content hash)."""

    kind: str
    module: str | None      # dotted module as written (None: non-literal dynamic name)
    name: str               # from-import: the imported name or "*"; else ""
    level: int              # number of leading dots
    line: int               # 1-based position of the imported name
    col: int                # 1-based
    stmt_line: int          # the statement's first and last line (noqa applies to all of them)
    end_line: int
    typing_only: bool
    function_level: bool
    package: str            # dynamic only: PKG_NONE, PKG_SELF, PKG_UNKNOWN or a literal package


class ParseError(NamedTuple):
    kind: str               # "syntax" | "encoding" | "nul" | "unreadable"
    message: str
    line: int
    col: int


class FileFacts(NamedTuple):
    """Everything the rules need from one file; never the tree itself."""

    imports: tuple[RawImport, ...]
    error: ParseError | None
    noqa: Mapping[int, tuple[str, ...]]           # line -> codes; () means a bare "# noqa"
    names: tuple[str, ...]                        # module-level public-ish names (defs, classes, assignments, imports)
    classes: Mapping[str, tuple[str, ...]]        # class name -> member names

    def to_plain(self) -> tuple[object, ...]:
        return (tuple(tuple(i) for i in self.imports), tuple(self.error) if self.error else None,
                dict(self.noqa), self.names, dict(self.classes))

    @classmethod
    def from_plain(cls, data: tuple[object, ...]) -> FileFacts:
        imports, error, noqa, names, classes = data
        assert isinstance(imports, tuple) and isinstance(noqa, dict) and isinstance(classes, dict)
        assert isinstance(names, tuple)
        return cls(tuple(map(RawImport._make, imports)), ParseError(*error) if isinstance(error, tuple) else None,
                   noqa, names, classes)


class ImportFact(NamedTuple):
    """A resolved import: ``importer`` imports ``target`` at ``line``:``col``."""

    importer: str
    target: str | None      # None: a dynamic import whose name is not a literal (unverifiable)
    line: int
    col: int
    stmt_line: int
    end_line: int
    typing_only: bool
    function_level: bool
    dynamic: bool
    star: bool
    written: str            # the import as written, for messages


def content_hash(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


# ---------------------------------------------------------------------------------------------- noqa

_NOQA = re.compile(rb"#\s*noqa(?::[\s]?(?P<codes>[A-Z][0-9A-Z]*(?:[,\s]+[A-Z][0-9A-Z]*)*))?", re.IGNORECASE)


def scan_noqa(data: bytes) -> dict[int, tuple[str, ...]]:
    """``# noqa`` / ``# noqa: PLG101,PLG102`` by physical line, as flake8 reads them."""
    out: dict[int, tuple[str, ...]] = {}
    if b"noqa" not in data.lower():
        return out
    for m in _NOQA.finditer(data):
        line = data.count(b"\n", 0, m.start()) + 1
        codes = m.group("codes")
        out[line] = tuple(c.upper() for c in re.split(r"[,\s]+", codes.decode("ascii")) if c) if codes else ()
    return out


def noqa_suppresses(noqa: Mapping[int, tuple[str, ...]], code: str, lines: Iterable[int]) -> bool:
    for line in lines:
        codes = noqa.get(line)
        if codes is None:
            continue
        if not codes or any(code.startswith(c) for c in codes):
            return True
    return False


# ------------------------------------------------------------------------------------------ extraction

_TYPING_MODULES = frozenset({"typing", "typing_extensions"})


class _Extractor:
    """A statement-level walk; expressions are visited only when the file can contain a dynamic import."""

    def __init__(self, look_for_dynamic: bool, import_lines: list[int] | None = None) -> None:
        self.out: list[RawImport] = []
        self.look_for_dynamic = look_for_dynamic
        # Sorted lines that could hold an import (None: walk everything). An Import/ImportFrom always
        # spells "import" inside its statement, a dynamic import spells import_module/__import__ or
        # the alias it is called by; a statement whose lines hold none of these is skipped.
        self.import_lines = import_lines
        self.tc_names = {"TYPE_CHECKING"}
        self.typing_aliases: set[str] = set()
        self.importlib_aliases: set[str] = set()
        self.import_module_aliases: set[str] = set()
        self.dunder_aliases = {"__import__"}
        self.builtins_aliases: set[str] = set()

    # -- context helpers
    def _is_tc(self, test: ast.expr) -> bool:
        if isinstance(test, ast.Name):
            return test.id in self.tc_names
        if isinstance(test, ast.Attribute):
            return test.attr == "TYPE_CHECKING"
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            return any(self._is_tc(v) for v in test.values)
        return False

    def _is_not_tc(self, test: ast.expr) -> bool:
        return isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and self._is_tc(test.operand)

    def _track_aliases(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for a in node.names:
                bound = a.asname or a.name.split(".")[0]
                if a.name in _TYPING_MODULES:
                    self.typing_aliases.add(bound)
                elif a.name == "importlib" or (a.name.startswith("importlib.") and not a.asname):
                    self.importlib_aliases.add(bound)
                elif a.name == "builtins":
                    self.builtins_aliases.add(bound)
        elif node.level == 0 and node.module:
            for a in node.names:
                bound = a.asname or a.name
                if node.module in _TYPING_MODULES and a.name == "TYPE_CHECKING":
                    self.tc_names.add(bound)
                elif node.module == "importlib" and a.name == "import_module":
                    self.import_module_aliases.add(bound)
                elif node.module == "builtins" and a.name == "__import__":
                    self.dunder_aliases.add(bound)

    def _skip(self, node: ast.stmt) -> bool:
        lines = self.import_lines
        if lines is None:
            return False
        start = node.lineno
        decorators: list[ast.expr] | None = getattr(node, "decorator_list", None)
        if decorators:
            start = min(start, *(d.lineno for d in decorators))
        i = bisect.bisect_left(lines, start)
        return i == len(lines) or lines[i] > (node.end_lineno or node.lineno)

    # -- statements
    def walk(self, body: list[ast.stmt], tc: bool, fn: bool) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                self._track_aliases(node)
                end = node.end_lineno or node.lineno
                for a in node.names:
                    self.out.append(RawImport(KIND_IMPORT, a.name, "", 0, a.lineno, a.col_offset + 1, node.lineno, end,
                                              tc, fn, PKG_NONE))
            elif isinstance(node, ast.ImportFrom):
                self._track_aliases(node)
                end = node.end_lineno or node.lineno
                for a in node.names:
                    self.out.append(RawImport(KIND_FROM, node.module or "", a.name, node.level, a.lineno,
                                              a.col_offset + 1, node.lineno, end, tc, fn, PKG_NONE))
            elif self.import_lines is not None and self._skip(node):
                continue
            elif isinstance(node, ast.If):
                self._exprs([node.test], tc, fn)
                if self._is_tc(node.test):
                    self.walk(node.body, True, fn)
                    self.walk(node.orelse, tc, fn)      # else/elif run when TYPE_CHECKING is false: runtime
                elif self._is_not_tc(node.test):
                    self.walk(node.body, tc, fn)
                    self.walk(node.orelse, True, fn)
                else:
                    self.walk(node.body, tc, fn)
                    self.walk(node.orelse, tc, fn)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._exprs([*node.decorator_list, *node.args.defaults,
                             *[d for d in node.args.kw_defaults if d is not None]], tc, fn)
                self.walk(node.body, tc, True)
            elif isinstance(node, ast.ClassDef):
                self._exprs([*node.decorator_list, *node.bases, *[k.value for k in node.keywords]], tc, fn)
                self.walk(node.body, tc, fn)
            elif isinstance(node, (ast.Try, ast.TryStar)):
                self.walk(node.body, tc, fn)
                for h in node.handlers:
                    self.walk(h.body, tc, fn)
                self.walk(node.orelse, tc, fn)
                self.walk(node.finalbody, tc, fn)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
                self._exprs([node.iter] if not isinstance(node, ast.While) else [node.test], tc, fn)
                self.walk(node.body, tc, fn)
                self.walk(node.orelse, tc, fn)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                self._exprs([i.context_expr for i in node.items], tc, fn)
                self.walk(node.body, tc, fn)
            elif isinstance(node, ast.Match):
                self._exprs([node.subject], tc, fn)
                for case in node.cases:
                    self.walk(case.body, tc, fn)
            elif self.look_for_dynamic:
                self._exprs([node], tc, fn)

    # -- dynamic imports inside expressions
    def _exprs(self, nodes: list[ast.AST], tc: bool, fn: bool) -> None:
        if not self.look_for_dynamic:
            return
        stack: list[tuple[ast.AST, bool]] = [(n, fn) for n in nodes]
        while stack:
            node, in_fn = stack.pop()
            if isinstance(node, ast.Call):
                self._call(node, tc, in_fn)
            elif isinstance(node, ast.Lambda):
                in_fn = True     # a lambda body runs when called, like a function body
            stack.extend((child, in_fn) for child in ast.iter_child_nodes(node))

    def _call(self, call: ast.Call, tc: bool, fn: bool) -> None:
        func = call.func
        kind = ""
        if isinstance(func, ast.Name):
            if func.id in self.import_module_aliases:
                kind = "import_module"
            elif func.id in self.dunder_aliases:
                kind = "__import__"
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.attr == "import_module" and func.value.id in self.importlib_aliases:
                kind = "import_module"
            elif func.attr == "__import__" and func.value.id in self.builtins_aliases:
                kind = "__import__"
        if not kind:
            return
        line, col, end = call.lineno, call.col_offset + 1, call.end_lineno or call.lineno
        name_node: ast.expr | None = call.args[0] if call.args else None
        for kw in call.keywords:
            if kw.arg == "name":
                name_node = kw.value
        literal = name_node.value if isinstance(name_node, ast.Constant) and isinstance(name_node.value, str) else None
        if literal is None:
            self.out.append(RawImport(KIND_DYNAMIC, None, kind, 0, line, col, line, end, tc, fn, PKG_NONE))
            return
        if kind == "import_module":
            package = PKG_NONE
            pkg_node: ast.expr | None = call.args[1] if len(call.args) > 1 else None
            for kw in call.keywords:
                if kw.arg == "package":
                    pkg_node = kw.value
            if pkg_node is not None:
                package = _package_arg(pkg_node)
            level = len(literal) - len(literal.lstrip("."))
            self.out.append(RawImport(KIND_DYNAMIC, literal[level:], "", level, line, col, line, end, tc, fn, package))
            return
        # __import__(name, globals, locals, fromlist, level)
        level = 0
        level_node: ast.expr | None = call.args[4] if len(call.args) > 4 else None
        fromlist_node: ast.expr | None = call.args[3] if len(call.args) > 3 else None
        for kw in call.keywords:
            if kw.arg == "level":
                level_node = kw.value
            elif kw.arg == "fromlist":
                fromlist_node = kw.value
        if isinstance(level_node, ast.Constant) and isinstance(level_node.value, int):
            level = level_node.value
        package = PKG_SELF if level else PKG_NONE
        self.out.append(RawImport(KIND_DYNAMIC, literal, "", level, line, col, line, end, tc, fn, package))
        if isinstance(fromlist_node, (ast.List, ast.Tuple)):
            for elt in fromlist_node.elts:
                if isinstance(elt, ast.Constant) and isinstance(elt.value, str) and elt.value != "*":
                    self.out.append(RawImport(KIND_FROM, literal, elt.value, level, line, col, line, end, tc, fn,
                                              PKG_NONE))


def _package_arg(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in {"__package__", "__name__"}:
        return PKG_SELF
    if (isinstance(node, ast.Attribute) and node.attr == "parent" and isinstance(node.value, ast.Name)
            and node.value.id == "__spec__"):
        return PKG_SELF
    return PKG_UNKNOWN


def _definitions(tree: ast.Module) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    names: list[str] = []
    classes: dict[str, tuple[str, ...]] = {}

    def targets(node: ast.expr) -> Iterator[str]:
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                yield from targets(elt)

    def members(body: list[ast.stmt]) -> Iterator[str]:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield node.name
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    yield from targets(t)
            elif isinstance(node, ast.AnnAssign):
                yield from targets(node.target)
            elif isinstance(node, ast.If):
                yield from members(node.body)
                yield from members(node.orelse)

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                names.append(node.name)
                classes[node.name] = tuple(dict.fromkeys((*classes.get(node.name, ()), *members(node.body))))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.append(node.name)
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    names.extend(targets(t))
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                names.extend(targets(node.target))
            elif isinstance(node, ast.Import):
                names.extend(a.asname or a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                names.extend(a.asname or a.name for a in node.names if a.name != "*")
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for h in node.handlers:
                    visit(h.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return tuple(dict.fromkeys(names)), classes


_CALL_ALIAS = re.compile(rb"\b(?:import_module|__import__)\s+as\s+([A-Za-z_][A-Za-z_0-9]*)")


def lines_containing(data: bytes, tokens: Iterable[bytes] = (b"import",), *, non_ascii: bool = False) -> list[int]:
    """Sorted 1-based numbers of the lines containing any of ``tokens`` (``\n`` line ends only), and with
    ``non_ascii`` every line holding a byte above 0x7f: an identifier spelled there may normalize (NFKC)
    to one of the tokens, or be a non-ASCII name the tokens cannot spell."""
    global _LAST_LINES
    tokens = tuple(tokens)
    non_ascii = non_ascii and not data.isascii()
    last = _LAST_LINES      # one tuple, replaced whole: a reader never sees half of an update
    if last is not None and last[0] is data and last[1] == tokens and last[2] == non_ascii:
        return list(last[3])      # the import walk and the service walk of one file ask the same question
    found = _lines_containing(data, tokens, non_ascii)
    _LAST_LINES = (data, tokens, non_ascii, tuple(found))
    return found


# (bytes, tokens, non_ascii, lines) of the last ``lines_containing`` call (the bytes are kept alive by it)
_LAST_LINES: tuple[bytes, tuple[bytes, ...], bool, tuple[int, ...]] | None = None


def _lines_containing(data: bytes, tokens: tuple[bytes, ...], non_ascii: bool) -> list[int]:
    positions: list[int] = []
    find = data.find
    for token in tokens:
        pos = find(token)
        while pos != -1:
            positions.append(pos)
            pos = find(token, pos + len(token))
    if non_ascii:
        positions.extend(m.start() for m in _NON_ASCII.finditer(data))
    positions.sort()
    out: list[int] = []
    line, last = 1, 0
    count = data.count
    for pos in positions:
        line += count(b"\n", last, pos)
        last = pos
        if not out or out[-1] != line:
            out.append(line)
    return out


_NON_ASCII = re.compile(rb"[\x80-\xff]+")
_COOKIE = re.compile(rb"coding[:=][ \t]*([-\w.]+)")
# Encodings that spell every ASCII character as itself and every other character with bytes above 0x7f.
_BYTE_TRANSPARENT = frozenset({"utf-8", "utf-8-sig", "ascii", "iso8859-1"})


def byte_scannable(data: bytes) -> bool:
    """Whether a line-based byte search over ``data`` sees what the parser sees: ``\n`` line ends only (a
    ``\r`` is a line end too for the parser) and no PEP 263 encoding that could spell ASCII text with other
    bytes (UTF-7, ISO-2022-JP: ``+AGk-mport`` may be the keyword ``import``). Unknown encodings: False."""
    if b"\r" in data:
        return False
    end = data.find(b"\n")
    end = data.find(b"\n", end + 1) if end != -1 else -1
    head = data if end == -1 else data[:end]      # a cookie counts on the first two lines only
    if b"coding" not in head:
        return True
    import codecs   # lazily: only files with a coding cookie get here
    for name in _COOKIE.findall(head):
        try:
            if codecs.lookup(name.decode("ascii")).name not in _BYTE_TRANSPARENT:
                return False
        except (LookupError, UnicodeDecodeError):
            return False
    return True


def _walk_imports(tree: ast.Module, data: bytes, fast: bool) -> list[RawImport]:
    """The extractor over ``tree``. The fast route skips statements whose lines cannot hold an import:
    without dynamic imports those spelling no ``import``; with them, also no name that a
    ``import_module``/``__import__`` alias could be called by. Aliases are pre-scanned from the bytes
    and checked against the ones the walk saw; any surprise re-walks everything."""
    dynamic = b"import_module" in data or b"__import__" in data
    if not fast or not byte_scannable(data):
        ex = _Extractor(dynamic)
        ex.walk(tree.body, False, False)
        return ex.out
    aliases = set(_CALL_ALIAS.findall(data)) if dynamic else set()
    ex = _Extractor(dynamic, lines_containing(data, (b"import", *aliases), non_ascii=dynamic))
    ex.walk(tree.body, False, False)
    seen = {a.encode() for a in ex.import_module_aliases | ex.dunder_aliases} - {b"import_module", b"__import__"}
    if seen - aliases:
        ex = _Extractor(dynamic)
        ex.walk(tree.body, False, False)
    return ex.out


def extract(data: bytes, *, fast: bool = True) -> FileFacts:
    """Facts of one file's bytes. Never raises: unparsable input gives ``FileFacts.error``.

    ``fast`` (the default) skips compound statements that cannot hold an import; ``fast=False`` walks
    every statement (the reference route the agreement test compares it with)."""
    return extract_with_tree(data, fast=fast)[0]


def parse(data: bytes, filename: str = "<unknown>") -> ast.Module | ParseError:
    """The file's tree, or why Python would refuse to run it. Never raises.

    Stricter than ``ast.parse`` alone in one place: CPython's parser skips the bytes of comments when it
    parses from memory, so a file whose only non-UTF-8 bytes sit in a comment parses, yet the interpreter
    refuses to import it ("Non-UTF-8 code ... but no encoding declared"). Non-ASCII files are therefore
    decoded with their PEP 263 encoding too (ASCII files, nearly all of them, skip that)."""
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        return ParseError("nul", "file contains NUL bytes", line, 1)
    try:
        tree = ast.parse(data, filename=filename)
    except SyntaxError as exc:
        message = exc.msg or "invalid syntax"
        kind = "encoding" if ("codec" in message or "encoding" in message or "unicode" in message) else "syntax"
        return ParseError(kind, message, exc.lineno or 1, exc.offset or 1)
    except (ValueError, UnicodeError) as exc:
        return ParseError("encoding", str(exc), 1, 1)
    except (RecursionError, MemoryError) as exc:
        return ParseError("syntax", f"too deeply nested to parse: {type(exc).__name__}", 1, 1)
    if not data.isascii():
        error = _undecodable(data)
        if error is not None:
            return error
    return tree


def _undecodable(data: bytes) -> ParseError | None:
    import io          # lazily: only files with non-ASCII bytes get here
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
    except SyntaxError as exc:          # a bad or unknown coding cookie (ast.parse has normally said so first)
        return ParseError("encoding", exc.msg or str(exc), exc.lineno or 1, 1)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return ParseError("encoding", f"bytes that are not {exc.encoding} and no encoding declared "
                                      f"(PEP 263): {exc.reason} at byte {exc.start}", line, 1)
    except LookupError as exc:
        return ParseError("encoding", str(exc), 1, 1)
    return None


def extract_with_tree(data: bytes, *, fast: bool = True) -> tuple[FileFacts, ast.Module | None]:
    """``extract``, also handing back the tree (None when the file does not parse) for rules that read more."""
    noqa = scan_noqa(data)
    tree = parse(data)
    if isinstance(tree, ParseError):
        return FileFacts((), tree, noqa, (), {}), None
    return facts_from_tree(tree, data, noqa, fast=fast), tree


def facts_from_tree(tree: ast.Module, data: bytes, noqa: Mapping[int, tuple[str, ...]] | None = None, *,
                    fast: bool = True) -> FileFacts:
    """Facts of a file someone else already parsed (the flake8 plugin passes flake8's tree)."""
    imports = _walk_imports(tree, data, fast)
    names, classes = _definitions(tree)
    return FileFacts(tuple(imports), None, scan_noqa(data) if noqa is None else noqa, names, classes)


def read_and_extract(path: Path) -> tuple[str, FileFacts]:
    """(content hash, facts) of a file; an unreadable file is a PLG901 fact, not an exception."""
    digest, _, facts, _ = read_and_parse(path)
    return digest, facts


def read_and_parse(path: Path) -> tuple[str, bytes, FileFacts, ast.Module | None]:
    """(content hash, bytes, facts, tree or None) of a file; unreadable: ("", b"", a PLG901 fact, None)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return "", b"", FileFacts((), ParseError("unreadable", f"cannot read file: {exc.strerror or exc}", 1, 1),
                                  {}, (), {}), None
    facts, tree = extract_with_tree(data)
    return content_hash(data), data, facts, tree


# ------------------------------------------------------------------------------------------ resolution

class ModuleIndex:
    """The dotted names that exist as modules or packages in the discovered tree (plus their parents)."""

    def __init__(self, modules: Iterable[str], extra_roots: Mapping[str, Path] | None = None) -> None:
        listed = list(modules)
        known = set(listed)
        for m in listed:      # add every parent; stop at one already known (its own parents are, or will be)
            parent = m.rpartition(".")[0]
            while parent and parent not in known:
                known.add(parent)
                parent = parent.rpartition(".")[0]
        self._known = known
        self._extra = dict(extra_roots or {})
        self._extra_cache: dict[str, bool] = {}
        self.top_level = frozenset(m.partition(".")[0] for m in listed)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name in self._known:
            return True
        top = name.split(".")[0]
        base = self._extra.get(top)
        if base is None:
            return False
        if name not in self._extra_cache:
            rel = Path(*name.split(".")[1:]) if "." in name else Path()
            target = base / rel
            self._extra_cache[name] = target.is_dir() or target.with_suffix(".py").is_file()
        return self._extra_cache[name]


def _base_package(importer: str, is_package: bool, level: int) -> str | None:
    package = importer if is_package else importer.rpartition(".")[0]
    for _ in range(level - 1):
        if not package:
            return None
        package = package.rpartition(".")[0]
    return package if package or level == 0 else None


def _join(base: str, name: str) -> str:
    return f"{base}.{name}" if base and name else (base or name)


def resolve(raw: RawImport, importer: str, is_package: bool, modules: ModuleIndex) -> ImportFact | None:
    """Absolute target of ``raw`` as imported by module ``importer``; None when it cannot be resolved."""
    kind, module, name, level, line, col, stmt_line, end_line, typing_only, function_level, package = raw
    if kind == KIND_IMPORT:
        return ImportFact(importer, module, line, col, stmt_line, end_line, typing_only, function_level, False, False,
                          f"import {module}")
    dots = "." * level
    if kind == KIND_DYNAMIC:
        if module is None:
            return ImportFact(importer, None, line, col, stmt_line, end_line, typing_only, function_level, True,
                              False, f"{name}(<non-literal>)")
        written = f"import_module({dots}{module!r})" if package or not level else f"{dots}{module}"
        target: str | None
        if level == 0:
            target = module
        else:
            base: str | None
            if package == PKG_SELF:
                base = _base_package(importer, is_package, level)
            elif package and package != PKG_UNKNOWN:
                base = package
                for _ in range(level - 1):
                    base = base.rpartition(".")[0]
            else:
                return ImportFact(importer, None, line, col, stmt_line, end_line, typing_only, function_level, True,
                                  False, written)
            if base is None:
                return None
            target = _join(base, module or "")
        return ImportFact(importer, target, line, col, stmt_line, end_line, typing_only, function_level, True, False,
                          written)
    # from-import
    base = module or ""
    if level:
        pkg = _base_package(importer, is_package, level)
        if pkg is None:
            return None
        base = _join(pkg, base)
    written = f"from {dots}{module or ''} import {name}"
    if name == "*":
        return ImportFact(importer, base, line, col, stmt_line, end_line, typing_only, function_level, False, True,
                          written)
    candidate = _join(base, name)
    return ImportFact(importer, candidate if candidate in modules else base, line, col, stmt_line, end_line,
                      typing_only, function_level, False, False, written)


@dataclass(frozen=True)
class SourceFile:
    """A discovered Python file: where it is and which module it is."""

    abspath: str        # absolute, as the OS spells it
    rel: str            # relative to the project root, with "/"
    module: str         # dotted module name ("" when it cannot be named)
    is_package: bool    # an __init__.py
    is_test: bool

    @classmethod
    def make(cls, abspath: str, rel: str, module: str, is_package: bool, is_test: bool) -> SourceFile:
        """The same object as ``SourceFile(...)`` built without the frozen ``__setattr__`` per field (a
        third of the time: the incremental run and the tree index make one per file of the tree)."""
        obj = object.__new__(cls)
        obj.__dict__.update(abspath=abspath, rel=rel, module=module, is_package=is_package, is_test=is_test)
        return obj

    @property
    def path(self) -> Path:
        return Path(self.abspath)
