"""Per-file facts for the service rules, read from a stdlib ``ast`` tree in one walk.

Owns ``ImportFact`` (every import form: plain, from, star, relative, literal ``import_module`` and
``__import__``; flagged typing-only / function-level / in-try), the module-level bindings the
re-export rules need, and the module-level state and side effects the hygiene rules need.
Works on the tree flake8 already parsed; must not import rules, reporters, libcst or the CLI.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeVar

from plumego_lint.facts import byte_scannable, lines_containing

ImportKind = Literal["import", "from", "star", "dynamic"]
_T = TypeVar("_T")
IsModule = Callable[[str], bool]


@dataclass(frozen=True)
class ImportFact:
    """One imported thing. ``module`` is resolved (``from a import b`` is ``a.b`` when that module exists)."""

    module: str
    line: int
    column: int  # 1-based
    kind: ImportKind
    symbol: str | None = None  # the name taken from ``module`` when it is not a submodule
    bound: str | None = None  # the local name bound by the import (None for star and dynamic)
    typing_only: bool = False
    function_level: bool = False
    in_try: bool = False
    module_level: bool = True
    end_line: int = 0
    aliased: bool = False  # written with ``as``

    @property
    def target(self) -> str:
        """The most precise dotted name imported: ``module.symbol`` or ``module``."""
        return f"{self.module}.{self.symbol}" if self.symbol else self.module


@dataclass(frozen=True)
class AttributeUse:
    """``name.attr.attr`` where ``name`` is bound by an import; ``dotted`` is fully resolved."""

    dotted: str
    line: int
    column: int


@dataclass(frozen=True)
class Alias:
    """A module-level ``Name = other`` or ``Name = other.attr`` (a plain alias, possibly a re-export)."""

    name: str
    value: str  # dotted source expression, first segment is a local name
    line: int
    column: int


@dataclass(frozen=True)
class StateFact:
    """Module-level mutable state: an assignment whose value is mutable, or a ``global`` rebinding."""

    name: str
    line: int
    column: int
    reason: str


@dataclass(frozen=True)
class EffectFact:
    """A statement that runs at import time and changes something outside the module's own bindings."""

    line: int
    column: int
    description: str


@dataclass(frozen=True)
class ClassFact:
    name: str
    bases: tuple[str, ...]  # dotted base expressions, as written
    is_interface: bool  # Protocol or ABC, judged from the bases and metaclass
    line: int


@dataclass
class ModuleFacts:
    """Everything the service rules know about one module."""

    module: str
    is_package: bool
    imports: list[ImportFact] = field(default_factory=list)
    attribute_uses: list[AttributeUse] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    dunder_all: tuple[tuple[str, int, int], ...] | None = None
    classes: list[ClassFact] = field(default_factory=list)
    state: list[StateFact] = field(default_factory=list)
    effects: list[EffectFact] = field(default_factory=list)
    module_bindings: dict[str, str] = field(default_factory=dict)  # local name -> "import"|"def"|"class"|"assign"

    def import_bindings(self) -> Mapping[str, ImportFact]:
        """Module-level names bound by imports (last binding wins), typing-only ones included."""
        found: dict[str, ImportFact] = {}
        for fact in self.imports:
            if fact.bound and fact.module_level:
                found[fact.bound] = fact
        return found

    def to_plain(self) -> tuple[object, ...]:
        """Tuples, strings, numbers and dicts only: what ``marshal`` stores in the facts cache."""
        return (self.module, self.is_package,
                tuple((f.module, f.line, f.column, f.kind, f.symbol, f.bound, f.typing_only, f.function_level,
                       f.in_try, f.module_level, f.end_line, f.aliased) for f in self.imports),
                tuple((u.dotted, u.line, u.column) for u in self.attribute_uses),
                tuple((a.name, a.value, a.line, a.column) for a in self.aliases),
                self.dunder_all,
                tuple((c.name, c.bases, c.is_interface, c.line) for c in self.classes),
                tuple((s.name, s.line, s.column, s.reason) for s in self.state),
                tuple((e.line, e.column, e.description) for e in self.effects),
                dict(self.module_bindings))

    @classmethod
    def from_plain(cls, data: tuple[object, ...]) -> ModuleFacts:
        """The inverse of ``to_plain``; a wrongly shaped value raises TypeError or ValueError."""
        module, is_package, imports, uses, aliases, dunder_all, classes, state, effects, bindings = data
        if not (isinstance(module, str) and isinstance(is_package, bool) and isinstance(bindings, dict)
                and (dunder_all is None or isinstance(dunder_all, tuple))):
            raise TypeError("not the plain form of ModuleFacts")
        return cls(module, is_package, _made(ImportFact, imports), _made(AttributeUse, uses), _made(Alias, aliases),
                   dunder_all, _made(ClassFact, classes), _made(StateFact, state), _made(EffectFact, effects),
                   bindings)

    def binding_target(self, name: str) -> str | None:
        """Dotted thing a module-level name refers to when it comes from an import or an alias of one."""
        bindings = self.import_bindings()
        fact = bindings.get(name)
        if fact is not None:
            return fact.target if fact.kind == "from" else fact.module if fact.bound == fact.module else fact.module
        for alias in self.aliases:
            if alias.name == name:
                head, _, rest = alias.value.partition(".")
                base = bindings.get(head)
                if base is not None:
                    return f"{base.target}.{rest}" if rest else base.target
        return None


_FIELDS: dict[type, tuple[str, ...]] = {}


def _made(cls: type[_T], values: object) -> list[_T]:
    """``[cls(*v) for v in values]`` for a frozen dataclass given every field: the same objects, built without
    the frozen ``__init__``'s ``object.__setattr__`` per field (the engine decodes every file's facts)."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    count = len(names)
    new = object.__new__
    out: list[_T] = []
    for value in _tuples(values):
        if len(value) != count:
            raise TypeError(f"{cls.__name__} takes {count} values, not {len(value)}")
        obj = new(cls)
        obj.__dict__.update(zip(names, value))
        out.append(obj)
    return out


def _tuples(value: object) -> tuple[tuple[Any, ...], ...]:
    if not isinstance(value, tuple) or not all(isinstance(v, tuple) for v in value):
        raise TypeError("expected a tuple of tuples")
    return value


PROTOCOL_BASES = frozenset({"Protocol", "typing.Protocol", "typing_extensions.Protocol", "ABC", "abc.ABC"})
ABC_METAS = frozenset({"ABCMeta", "abc.ABCMeta"})
MUTABLE_CALLS = frozenset({
    "dict", "list", "set", "bytearray", "defaultdict", "collections.defaultdict", "OrderedDict",
    "collections.OrderedDict", "deque", "collections.deque", "Counter", "collections.Counter", "ChainMap",
    "collections.ChainMap", "WeakValueDictionary", "weakref.WeakValueDictionary", "WeakKeyDictionary",
    "weakref.WeakKeyDictionary", "WeakSet", "weakref.WeakSet", "Queue", "queue.Queue", "asyncio.Queue",
    "Lock", "threading.Lock", "RLock", "threading.RLock", "asyncio.Lock",
})
# Calls whose result is immutable or designed for per-context state, even though CamelCase.
IMMUTABLE_CALLS = frozenset({
    "frozenset", "tuple", "TypeVar", "typing.TypeVar", "ParamSpec", "TypeVarTuple", "NewType", "typing.NewType",
    "NamedTuple", "namedtuple", "collections.namedtuple", "TypedDict", "MappingProxyType", "types.MappingProxyType",
    "ContextVar", "contextvars.ContextVar", "Decimal", "Fraction", "Path", "PurePath", "PurePosixPath", "UUID",
    "timedelta", "datetime.timedelta", "date", "time", "datetime", "Enum", "IntEnum", "StrEnum", "Literal", "Final",
    "object", "re.compile", "struct.Struct", "logging.getLogger", "getLogger", "Annotated",
})
# Attributes an object describes itself with: storing into them at import time registers nothing
# (``func.__doc__ = ...`` documents a function built by a factory; ``__module__`` tidies a public name).
SELF_DESCRIPTION_ATTRS = frozenset({"__doc__", "__module__", "__qualname__", "__name__"})
REGISTRATION_VERBS = frozenset({
    "route", "get", "post", "put", "patch", "delete", "head", "options", "websocket", "mount", "register",
    "add", "append", "add_route", "add_api_route", "include", "include_router", "on_event", "on", "subscribe",
    "handle", "handler", "listen", "listener", "task", "connect", "use", "middleware",
})


def dotted_name(node: ast.expr) -> str | None:
    """``a.b.c`` for a Name/Attribute chain; None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str | None:
    """Absolute name of ``from <level dots><name> import ...`` in ``module``; None when it escapes the top."""
    parts = module.split(".") if module else []
    package = parts if is_package else parts[:-1]
    if level - 1 > len(package) or (level - 1 == len(package) and not name):
        return None
    base = package[: len(package) - (level - 1)]
    if name:
        base = base + name.split(".")
    return ".".join(base) if base else None


def _is_type_checking(test: ast.expr, names: set[str]) -> bool | None:
    """True: body is typing-only; False: else-branch is typing-only; None: neither."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _is_type_checking(test.operand, names)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return True if any(_is_type_checking(v, names) is True for v in test.values) else None
    name = dotted_name(test)
    if name is not None and (name in names or name.endswith(".TYPE_CHECKING")):
        return True
    return None


def _is_mutable_value(value: ast.expr, alias_calls: Mapping[str, str]) -> str | None:
    if isinstance(value, (ast.Dict, ast.List, ast.Set)):
        return f"a {type(value).__name__.lower()} literal"
    if isinstance(value, (ast.DictComp, ast.ListComp, ast.SetComp)):
        return "a comprehension"
    if isinstance(value, ast.Call):
        name = dotted_name(value.func)
        if name is None:
            return None
        canonical = alias_calls.get(name, name)
        if canonical in IMMUTABLE_CALLS or name in IMMUTABLE_CALLS:
            return None
        if canonical in MUTABLE_CALLS or name in MUTABLE_CALLS:
            return f"a mutable {name}()"
        last = name.rsplit(".", 1)[-1]
        if last[:1].isupper() and not last.isupper():
            return f"an instance of {name}"
    return None


class _Walker:
    def __init__(self, facts: ModuleFacts, is_module: IsModule) -> None:
        self.facts = facts
        self.is_module = is_module
        self.type_checking_names = {"TYPE_CHECKING"}
        self.import_module_names = {"importlib.import_module"}
        self.dunder_import_names = {"__import__", "importlib.__import__"}
        self.alias_calls: dict[str, str] = {}  # local name -> canonical dotted (from collections import deque as dq)
        self.bindings: dict[str, ImportFact] = {}
        self.scan_expressions = True
        self.scan_calls = True   # look for dynamic-import calls in the expressions scanned
        self.tracked: set[str] = set()  # import-bound names whose attribute uses are recorded
        # The lines that can yield a fact (None: walk everything). Below module level only imports, calls
        # of a dynamic-import function and attribute uses of tracked names are facts; a statement or an
        # expression whose lines spell none of them is skipped.
        self.lines: _TokenLines | None = None
        # False when the source spells no `global`: function bodies then need no scan for one
        self.may_global = True

    def _calls_by(self, name: str) -> None:
        """``name`` now calls a dynamic-import function: its lines can hold facts from here on."""
        if self.lines is not None and self.scan_calls:
            self.lines.add(name.split(".", 1)[0])

    # -- imports -------------------------------------------------------------------------------------
    def _add(self, fact: ImportFact) -> None:
        self.facts.imports.append(fact)
        if fact.bound and fact.module_level:
            self.facts.module_bindings[fact.bound] = "import"
            self.bindings[fact.bound] = fact

    def import_stmt(self, node: ast.Import, ctx: _Ctx) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".", 1)[0]
            self._add(ImportFact(
                module=alias.name, line=node.lineno, column=node.col_offset + 1, kind="import",
                bound=bound if alias.asname else alias.name.split(".", 1)[0], typing_only=ctx.typing_only,
                function_level=ctx.function_level, in_try=ctx.in_try, module_level=ctx.module_level,
                end_line=node.end_lineno or node.lineno, aliased=alias.asname is not None,
            ))
            if alias.name == "importlib":
                self.import_module_names.add(f"{bound}.import_module" if alias.asname else "importlib.import_module")
                self._calls_by(bound)
            if alias.asname:
                self.alias_calls[alias.asname] = alias.name

    def importfrom_stmt(self, node: ast.ImportFrom, ctx: _Ctx) -> None:
        if node.level:
            base = resolve_relative(self.facts.module, self.facts.is_package, node.level, node.module)
            if base is None:
                return
        else:
            base = node.module or ""
        for alias in node.names:
            common = dict(line=node.lineno, column=node.col_offset + 1, typing_only=ctx.typing_only,
                          function_level=ctx.function_level, in_try=ctx.in_try, module_level=ctx.module_level,
                          end_line=node.end_lineno or node.lineno)
            if alias.name == "*":
                self._add(ImportFact(module=base, kind="star", **common))  # type: ignore[arg-type]
                continue
            bound = alias.asname or alias.name
            candidate = f"{base}.{alias.name}" if base else alias.name
            if self.is_module(candidate):
                fact = ImportFact(module=candidate, kind="from", bound=bound, aliased=alias.asname is not None,
                                  **common)  # type: ignore[arg-type]
            else:
                fact = ImportFact(module=base, kind="from", symbol=alias.name, bound=bound,
                                  aliased=alias.asname is not None, **common)  # type: ignore[arg-type]
            self._add(fact)
            if base == "typing" and alias.name == "TYPE_CHECKING":
                self.type_checking_names.add(bound)
            if base == "importlib" and alias.name == "import_module":
                self.import_module_names.add(bound)
                self._calls_by(bound)
            if base == "importlib" and alias.name == "__import__":
                self.dunder_import_names.add(bound)
                self._calls_by(bound)
            self.alias_calls[bound] = candidate

    def call(self, node: ast.Call, ctx: _Ctx) -> None:
        name = dotted_name(node.func)
        if name is None or not node.args:
            return
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            return
        target: str | None = first.value
        if name in self.import_module_names:
            if target and target.startswith("."):
                level = len(target) - len(target.lstrip("."))
                target = resolve_relative(self.facts.module, self.facts.is_package, level, target.lstrip(".") or None)
        elif name not in self.dunder_import_names:
            return
        if target:
            self.facts.imports.append(ImportFact(
                module=target, line=node.lineno, column=node.col_offset + 1, kind="dynamic",
                typing_only=ctx.typing_only, function_level=ctx.function_level, in_try=ctx.in_try,
                module_level=ctx.module_level, end_line=node.end_lineno or node.lineno,
            ))

    # -- module-level shapes ---------------------------------------------------------------------------
    def module_assign(self, node: ast.Assign | ast.AnnAssign, ctx: _Ctx) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        for target in targets:
            if isinstance(target, ast.Name):
                self.facts.module_bindings.setdefault(target.id, "assign")
                if value is None:
                    continue
                if target.id == "__all__" and isinstance(value, (ast.List, ast.Tuple)):
                    self.facts.dunder_all = tuple(
                        (e.value, e.lineno, e.col_offset + 1) for e in value.elts
                        if isinstance(e, ast.Constant) and isinstance(e.value, str)
                    )
                    continue
                if target.id in {"__slots__", "__match_args__"}:
                    continue
                source = dotted_name(value)
                if source is not None:
                    self.facts.aliases.append(Alias(target.id, source, node.lineno, node.col_offset + 1))
                reason = _is_mutable_value(value, self.alias_calls)
                if reason and not ctx.typing_only:
                    self.facts.state.append(StateFact(target.id, node.lineno, node.col_offset + 1,
                                                      f"bound to {reason}"))
            elif isinstance(target, ast.Attribute) and target.attr in SELF_DESCRIPTION_ATTRS:
                continue
            elif isinstance(target, (ast.Subscript, ast.Attribute)) and not ctx.typing_only:
                self.facts.effects.append(EffectFact(node.lineno, node.col_offset + 1,
                                                     f"stores into {ast.unparse(target)} at import time"))
            elif isinstance(target, (ast.Tuple, ast.List)):
                for element in target.elts:
                    if isinstance(element, ast.Name):
                        self.facts.module_bindings.setdefault(element.id, "assign")

    def module_statement_effect(self, node: ast.stmt, ctx: _Ctx) -> None:
        if ctx.typing_only:
            return
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
            call = node.value.value if isinstance(node.value, ast.Await) else node.value
            if isinstance(call, ast.Call) and _is_null_handler_setup(call):
                return
            what = dotted_name(call.func) if isinstance(call, ast.Call) else None
            label = f"{what}()" if what else ast.unparse(call)[:60]
            self.facts.effects.append(EffectFact(node.lineno, node.col_offset + 1, f"calls {label} at import time"))
        elif isinstance(node, ast.AugAssign) and not (isinstance(node.target, ast.Name)
                                                       and node.target.id == "__all__"):
            # (`__all__ += sub.__all__` only extends this module's own export list)
            self.facts.effects.append(EffectFact(node.lineno, node.col_offset + 1,
                                                 f"updates {ast.unparse(node.target)} at import time"))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            self.facts.effects.append(EffectFact(node.lineno, node.col_offset + 1, "runs a loop at import time"))

    def decorators(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, ctx: _Ctx) -> None:
        if not ctx.module_level or ctx.typing_only:
            return
        for decorator in node.decorator_list:
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = dotted_name(func)
            if name is None or "." not in name:
                continue
            head, _, rest = name.partition(".")
            verb = name.rsplit(".", 1)[-1]
            kind = self.facts.module_bindings.get(head)
            if kind in {"def", "class"}:
                continue  # functools.singledispatch-style registration on this module's own function
            imported = self.bindings.get(head)
            module_import = imported is not None and imported.kind == "import"
            if kind == "assign" or (verb in REGISTRATION_VERBS and not module_import):
                self.facts.effects.append(EffectFact(
                    decorator.lineno, decorator.col_offset + 1,
                    f"registers {node.name} with @{name} at import time",
                ))

    def class_def(self, node: ast.ClassDef) -> None:
        bases = tuple(n for n in (dotted_name(b.value if isinstance(b, ast.Subscript) else b) for b in node.bases) if n)
        meta = next((dotted_name(k.value) for k in node.keywords if k.arg == "metaclass"), None)
        canonical = tuple(self.alias_calls.get(b, b) for b in bases)
        abc_meta = meta is not None and (meta in ABC_METAS or self.alias_calls.get(meta) == "abc.ABCMeta")
        is_interface = abc_meta or any(b in PROTOCOL_BASES or b.endswith(".Protocol") or b.endswith(".ABC")
                                       for b in bases + canonical)
        self.facts.classes.append(ClassFact(node.name, bases, is_interface, node.lineno))

    def attribute(self, node: ast.Attribute) -> None:
        name = dotted_name(node)
        if name is None:
            return
        head, _, rest = name.partition(".")
        fact = self.bindings.get(head)
        if fact is None or fact.kind == "star" or head not in self.tracked:
            return
        if fact.kind == "import" and fact.bound == fact.module.split(".", 1)[0] and "." in fact.module:
            base = head  # `import a.b` binds `a`; the chain a.b.C is already absolute
            resolved = name
        else:
            base = fact.target
            resolved = f"{base}.{rest}"
        self.facts.attribute_uses.append(AttributeUse(resolved, node.lineno, node.col_offset + 1))


class _TokenLines:
    """Sorted numbers of the lines of a file that spell one of ``tokens`` (or hold a non-ASCII byte, which
    may spell any identifier); grows when the walk learns a new token."""

    def __init__(self, data: bytes, tokens: set[str]) -> None:
        self.data = data
        self.tokens = tokens
        self.lines = self._find()

    def _find(self) -> list[int]:
        return lines_containing(self.data, sorted(t.encode() for t in self.tokens if t.isascii()), non_ascii=True)

    def add(self, token: str) -> None:
        if token not in self.tokens:
            self.tokens.add(token)
            self.lines = self._find()

    def touch(self, first: int, last: int) -> bool:
        """Whether any line from ``first`` to ``last`` (inclusive) holds a token."""
        lines = self.lines
        i = bisect.bisect_left(lines, first)
        return i < len(lines) and lines[i] <= last


@dataclass(frozen=True)
class _Ctx:
    typing_only: bool = False
    function_level: bool = False
    in_try: bool = False
    module_level: bool = True


_CONTEXTS: dict[tuple[bool, bool, bool, bool], _Ctx] = {}


def _ctx(typing_only: bool, function_level: bool, in_try: bool, module_level: bool) -> _Ctx:
    """The one (immutable) ``_Ctx`` of these flags: the walk makes one per compound statement otherwise."""
    key = (typing_only, function_level, in_try, module_level)
    found = _CONTEXTS.get(key)
    if found is None:
        found = _CONTEXTS[key] = _Ctx(*key)
    return found


def _walk(w: _Walker, body: list[ast.stmt], ctx: _Ctx) -> None:
    if w.lines is not None and not ctx.module_level and body:
        if not w.lines.touch(_first_line(body[0]), body[-1].end_lineno or body[-1].lineno):
            return      # a whole body (of a function, a class, a loop...) that can hold no fact
    for node in body:
        _stmt(w, node, ctx)


def _first_line(node: ast.stmt) -> int:
    decorators: list[ast.expr] | None = getattr(node, "decorator_list", None)
    return min(node.lineno, *(d.lineno for d in decorators)) if decorators else node.lineno


def _stmt(w: _Walker, node: ast.stmt, ctx: _Ctx) -> None:
    if w.lines is not None and not ctx.module_level:
        if not w.lines.touch(_first_line(node), node.end_lineno or node.lineno):
            return      # no import, dynamic-import call or tracked name: nothing here is a fact
    if isinstance(node, ast.Import):
        w.import_stmt(node, ctx)
        return
    if isinstance(node, ast.ImportFrom):
        w.importfrom_stmt(node, ctx)
        return
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        w.decorators(node, ctx)
        if ctx.module_level:
            w.facts.module_bindings[node.name] = "def"
        for expr in (*node.decorator_list, *node.args.defaults, *node.args.kw_defaults):
            if expr is not None:
                _expr(w, expr, ctx)
        inner = _ctx(ctx.typing_only, True, ctx.in_try, False)
        for child in node.body if ctx.module_level and w.may_global else ():
            if isinstance(child, ast.Global):
                for name in child.names:
                    w.facts.state.append(StateFact(name, child.lineno, child.col_offset + 1,
                                                   f"rebound at runtime by `global` in {node.name}()"))
        _walk(w, node.body, inner)
        return
    if isinstance(node, ast.ClassDef):
        w.decorators(node, ctx)
        if ctx.module_level:
            w.facts.module_bindings[node.name] = "class"
            w.class_def(node)
        for expr in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
            _expr(w, expr, ctx)
        _walk(w, node.body, _ctx(ctx.typing_only, ctx.function_level, ctx.in_try, False))
        return
    if isinstance(node, ast.If):
        verdict = _is_type_checking(node.test, w.type_checking_names)
        if ctx.module_level and verdict is None and _is_main_guard(node.test):
            _walk(w, node.orelse, ctx)      # an `else:` does run at import
            return  # the script entry point runs only when executed, never at import
        _expr(w, node.test, ctx)
        body_ctx = _ctx(ctx.typing_only or verdict is True, ctx.function_level, ctx.in_try, ctx.module_level)
        else_ctx = _ctx(ctx.typing_only or verdict is False, ctx.function_level, ctx.in_try, ctx.module_level)
        _walk(w, node.body, body_ctx)
        _walk(w, node.orelse, else_ctx)
        return
    if isinstance(node, (ast.Try, ast.TryStar)):
        try_ctx = _ctx(ctx.typing_only, ctx.function_level, True, ctx.module_level)
        _walk(w, node.body, try_ctx)
        for handler in node.handlers:
            _walk(w, handler.body, try_ctx)
        _walk(w, node.orelse, try_ctx)
        _walk(w, node.finalbody, ctx)
        return
    if ctx.module_level:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            w.module_assign(node, ctx)
        w.module_statement_effect(node, ctx)
    if not w.scan_expressions:
        # fast path (flake8's time budget): only nested statements can hold imports or state
        for name in _BODY_FIELDS:
            body = getattr(node, name, None)
            if body:
                _walk(w, body, ctx)
        if isinstance(node, ast.Match):
            for case in node.cases:
                _walk(w, case.body, ctx)
        return
    for sub in ast.iter_child_nodes(node):
        if isinstance(sub, ast.stmt):
            _stmt(w, sub, ctx)
        elif isinstance(sub, ast.expr):
            _expr(w, sub, ctx)
        elif isinstance(sub, ast.match_case):
            _walk(w, sub.body, ctx)


_BODY_FIELDS = ("body", "orelse", "finalbody")


def _is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round), alone or as one operand of an ``and``: the body then runs
    only when the module is executed as a script (``if sys.platform != "win32" and __name__ == "__main__":``)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_is_main_guard(value) for value in test.values)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    left, right = test.left, test.comparators[0]
    return any(isinstance(a, ast.Name) and a.id == "__name__" and isinstance(b, ast.Constant) and b.value == "__main__"
               for a, b in ((left, right), (right, left)))


def _is_null_handler_setup(call: ast.Call) -> bool:
    """``<logger>.addHandler(<...>NullHandler())``: the logging HOWTO's idiom for a library, which only stops
    "no handlers could be found" output until the application configures logging (registers nothing)."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "addHandler" and len(call.args) == 1
            and not call.keywords):
        return False
    handler = call.args[0]
    if not isinstance(handler, ast.Call) or handler.args or handler.keywords:
        return False
    name = dotted_name(handler.func)
    return name is not None and name.rsplit(".", 1)[-1] == "NullHandler"


def _expr(w: _Walker, node: ast.expr, ctx: _Ctx) -> None:
    if not w.scan_expressions:
        return
    if w.lines is not None and not w.lines.touch(node.lineno, node.end_lineno or node.lineno):
        return
    calls, attributes = w.scan_calls, bool(w.tracked)
    if not (calls or attributes):
        return
    # One depth-first pass: dynamic-import calls, and the longest attribute chains rooted at imported names
    # (a chain's inner parts are not separate uses, and a Name/Attribute chain holds no call).
    stack: list[ast.AST] = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        current = pop()
        if isinstance(current, ast.Attribute):
            if attributes and dotted_name(current) is not None:
                w.attribute(current)
                continue
        elif calls and isinstance(current, ast.Call):
            w.call(current, ctx)
        fields = _CHILD_FIELDS.get(type(current))
        if fields is None:
            fields = _CHILD_FIELDS[type(current)] = tuple(f for f in current._fields if f != "ctx")
        for name in fields:     # ast.iter_child_nodes, same order, without a generator or the Load/Store leaves
            value = getattr(current, name, None)
            if isinstance(value, ast.AST):
                push(value)
            elif isinstance(value, list):
                extend(v for v in value if isinstance(v, ast.AST))


_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def extract_facts(tree: ast.Module, module: str, is_package: bool, is_module: IsModule, *,
                  source: str | bytes | None = None, track: Callable[[str], bool] | None = None,
                  fast: bool = True) -> ModuleFacts:
    """All service facts of one parsed module, in source order.

    Expressions are walked only when they can matter (flake8's time budget): for literal dynamic
    imports when ``source`` mentions ``import_module``/``__import__`` (or is unknown), and for
    attribute uses of names imported from modules ``track`` selects (default: every module), in a
    second walk once the first one knows which names those are.
    With ``fast`` and the source known, both walks skip every statement below module level (in function
    and class bodies) and every expression whose lines spell no ``import``, no name a dynamic-import
    function is called by and (second walk) no tracked name: none of them can yield a fact there.
    ``fast=False`` is the reference route the agreement test compares it with.
    """
    if source is None:
        dynamic = True
    elif isinstance(source, bytes):
        dynamic = b"import_module" in source or b"__import__" in source
    else:
        dynamic = "import_module" in source or "__import__" in source
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    scannable = fast and data is not None and byte_scannable(data)
    facts, walker = _run(tree, module, is_package, is_module, dynamic, dynamic, set(),
                         _TokenLines(data, {"import"}) if scannable and data is not None else None)
    tracked = {name for name, fact in walker.bindings.items()
               if fact.kind != "star" and (track is None or track(fact.module))}
    if tracked:
        lines = None
        calls = True
        if scannable and data is not None:
            # A dynamic-import function is named only by bytes spelling import_module/__import__, unless a
            # non-ASCII spelling normalizes to it: otherwise the full walk finds no call either.
            calls = dynamic or not data.isascii()
            names = walker.import_module_names | walker.dunder_import_names if calls else set()
            lines = _TokenLines(data, {"import", *tracked, *(n.split(".", 1)[0] for n in names)})
        facts, walker = _run(tree, module, is_package, is_module, True, calls, tracked, lines)
    facts.imports.sort(key=lambda f: (f.line, f.column))
    return facts


def _run(tree: ast.Module, module: str, is_package: bool, is_module: IsModule, scan: bool, calls: bool,
         tracked: set[str], lines: _TokenLines | None) -> tuple[ModuleFacts, _Walker]:
    facts = ModuleFacts(module=module, is_package=is_package)
    walker = _Walker(facts, is_module)
    walker.scan_expressions = scan
    walker.scan_calls = calls
    walker.tracked = tracked
    walker.lines = lines
    if lines is not None:     # a `global` statement spells the keyword (a non-ASCII spelling: take no chance)
        walker.may_global = b"global" in lines.data or not lines.data.isascii()
    _walk(walker, tree.body, _ctx(False, False, False, True))
    return facts, walker
