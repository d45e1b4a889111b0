"""Type-checked conversion of parsed JSON into dataclasses, TypedDicts and plain types, compiled once per type.

Owns the converter plans: a type is compiled to a tree of small closures the first time it is bound (unsupported
annotations fail there, with the field named), then each request only runs the closures. Errors are collected per
field, never first-failure-only, and capped. Strict JSON typing: ``1`` is not ``True``, ``"1"`` is not ``1``,
``1.5`` is not an ``int``; integers must fit in 64 bits. Imports the standard library only.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import re
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal

from ._errors import MAX_FIELD_ERRORS, FieldError, join_path

__all__ = ["Extra", "Rule", "UnsupportedType", "compile_plan", "convert_value"]

Extra = Literal["forbid", "ignore"]
Path = tuple[str | int, ...]
Plan = Callable[[Any], Any]

_INT64_MIN: Final = -(1 << 63)
_INT64_MAX: Final = (1 << 63) - 1
_MISSING: Final = dataclasses.MISSING


class UnsupportedType(TypeError):
    """An annotation bind() cannot check (raised when the type is first compiled, naming the field)."""


class _Invalid(Exception):
    """Conversion failed; ``errors`` are (path relative to the value, reason) pairs."""

    __slots__ = ("errors",)

    def __init__(self, errors: list[tuple[Path, str]]) -> None:
        super().__init__()
        self.errors = errors


def _fail(reason: str) -> _Invalid:
    return _Invalid([((), reason)])


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """Field constraints for ``Annotated[T, Rule(...)]``: lengths (strings, lists, dicts), bounds (numbers) and a
    regular expression (strings, matched in full). x/openapi reads :meth:`json_schema` for the same limits."""

    min_length: int | None = None
    max_length: int | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    pattern: str | None = None

    def json_schema(self, kind: str) -> dict[str, Any]:
        """The JSON Schema keywords for a value of JSON ``kind`` (``string``, ``array``, ``object``, ``number``)."""
        out: dict[str, Any] = {}
        prefix = {"string": "Length", "array": "Items", "object": "Properties"}.get(kind)
        if prefix is not None:
            if self.min_length is not None:
                out[f"min{prefix}"] = self.min_length
            if self.max_length is not None:
                out[f"max{prefix}"] = self.max_length
        for key, name in (("ge", "minimum"), ("le", "maximum"), ("gt", "exclusiveMinimum"),
                          ("lt", "exclusiveMaximum")):
            value = getattr(self, key)
            if value is not None:
                out[name] = value
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out

    def checker(self) -> Callable[[Any], None]:
        compiled = re.compile(self.pattern) if self.pattern is not None else None

        def check(value: Any) -> None:
            if self.min_length is not None or self.max_length is not None:
                if isinstance(value, (str, list, dict, tuple, set, frozenset)):
                    size = len(value)
                    if self.min_length is not None and size < self.min_length:
                        raise _fail(f"must have at least {self.min_length} {_unit(value)}")
                    if self.max_length is not None and size > self.max_length:
                        raise _fail(f"must have at most {self.max_length} {_unit(value)}")
            if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
                if self.ge is not None and value < self.ge:
                    raise _fail(f"must be >= {self.ge:g}")
                if self.gt is not None and value <= self.gt:
                    raise _fail(f"must be > {self.gt:g}")
                if self.le is not None and value > self.le:
                    raise _fail(f"must be <= {self.le:g}")
                if self.lt is not None and value >= self.lt:
                    raise _fail(f"must be < {self.lt:g}")
            if compiled is not None and isinstance(value, str) and compiled.fullmatch(value) is None:
                raise _fail(f"must match {self.pattern}")

        return check


def _unit(value: Any) -> str:
    return "characters" if isinstance(value, str) else "items"


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _expected(name: str, value: Any) -> _Invalid:
    return _fail(f"expected {name}, got {_json_kind(value)}")


# --- scalar plans ---------------------------------------------------------------------------------
def _any(value: Any) -> Any:
    return value


def _none(value: Any) -> None:
    if value is not None:
        raise _expected("null", value)
    return None


def _bool(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise _expected("boolean", value)


def _int(value: Any) -> int:
    if type(value) is int:
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
        raise _fail("integer out of range (64-bit)")
    raise _expected("integer", value)


def _float(value: Any) -> float:
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            raise _fail("number out of range") from None
    raise _expected("number", value)


def _str(value: Any) -> str:
    if type(value) is str:
        return value
    raise _expected("string", value)


def _parsed(name: str, parse: Callable[[str], Any]) -> Plan:
    def plan(value: Any) -> Any:
        if type(value) is not str:
            raise _expected(name, value)
        try:
            return parse(value)
        except (ValueError, ArithmeticError):
            raise _fail(f"expected {name}") from None

    return plan


def _decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, (int, float, str)) and not isinstance(value, bool) and len(str(value)) <= 100:
        try:
            result = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            raise _fail("expected a decimal number") from None
        if result.is_finite():
            return result
    raise _fail("expected a decimal number")


_SCALARS: Final[Mapping[Any, Plan]] = {
    Any: _any,
    object: _any,
    type(None): _none,
    None: _none,
    bool: _bool,
    int: _int,
    float: _float,
    str: _str,
    decimal.Decimal: _decimal,
    datetime.datetime: _parsed("an ISO 8601 date-time", datetime.datetime.fromisoformat),
    datetime.date: _parsed("an ISO 8601 date", datetime.date.fromisoformat),
    datetime.time: _parsed("an ISO 8601 time", datetime.time.fromisoformat),
    uuid.UUID: _parsed("a UUID", uuid.UUID),
}


# --- compound plans -------------------------------------------------------------------------------
def _collect(errors: list[tuple[Path, str]], prefix: str | int, exc: _Invalid) -> None:
    room = MAX_FIELD_ERRORS + 1 - len(errors)
    for path, reason in exc.errors[:max(room, 0)]:
        errors.append(((prefix, *path), reason))


def _list_plan(item: Plan, build: Callable[[list[Any]], Any], name: str) -> Plan:
    def plan(value: Any) -> Any:
        if type(value) is not list:
            raise _expected(name, value)
        out: list[Any] = []
        errors: list[tuple[Path, str]] = []
        for index, element in enumerate(value):
            try:
                out.append(item(element))
            except _Invalid as exc:
                _collect(errors, index, exc)
                if len(errors) > MAX_FIELD_ERRORS:
                    break
        if errors:
            raise _Invalid(errors)
        return build(out)

    return plan


def _tuple_plan(items: Sequence[Plan]) -> Plan:
    def plan(value: Any) -> Any:
        if type(value) is not list:
            raise _expected("array", value)
        if len(value) != len(items):
            raise _fail(f"expected an array of {len(items)} items, got {len(value)}")
        out: list[Any] = []
        errors: list[tuple[Path, str]] = []
        for index, (check, element) in enumerate(zip(items, value)):
            try:
                out.append(check(element))
            except _Invalid as exc:
                _collect(errors, index, exc)
        if errors:
            raise _Invalid(errors)
        return tuple(out)

    return plan


def _dict_plan(key: Plan, val: Plan) -> Plan:
    def plan(value: Any) -> Any:
        if type(value) is not dict:
            raise _expected("object", value)
        out: dict[Any, Any] = {}
        errors: list[tuple[Path, str]] = []
        for k, v in value.items():
            try:
                out[key(k)] = val(v)
            except _Invalid as exc:
                _collect(errors, k, exc)
                if len(errors) > MAX_FIELD_ERRORS:
                    break
        if errors:
            raise _Invalid(errors)
        return out

    return plan


def _literal_plan(values: tuple[Any, ...]) -> Plan:
    allowed = {(type(v), v) for v in values}
    shown = ", ".join(repr(v) if not isinstance(v, enum.Enum) else repr(v.value) for v in values)

    def plan(value: Any) -> Any:
        try:
            if (type(value), value) in allowed:
                return value
        except TypeError:  # unhashable (a list or an object)
            pass
        raise _fail(f"must be one of {shown}")

    return plan


def _enum_plan(cls: type[enum.Enum]) -> Plan:
    by_value = {(type(m.value), m.value): m for m in cls}
    shown = ", ".join(repr(m.value) for m in cls)

    def plan(value: Any) -> Any:
        try:
            found = by_value.get((type(value), value))
        except TypeError:
            found = None
        if found is None:
            raise _fail(f"must be one of {shown}")
        return found

    return plan


def _union_plan(arms: Sequence[tuple[Any, Plan]], name: str) -> Plan:
    nullable = any(tp is type(None) for tp, _ in arms)
    others = [plan for tp, plan in arms if tp is not type(None)]

    def plan(value: Any) -> Any:
        if value is None and nullable:
            return None
        if len(others) == 1:  # Optional[X]: X's own reason is the clearest
            return others[0](value)
        failures: list[_Invalid] = []
        for arm in others:
            try:
                return arm(value)
            except _Invalid as exc:
                failures.append(exc)
        # One arm that at least had the right shape (errors inside it) explains the failure best.
        nested = [f for f in failures if any(path for path, _ in f.errors)]
        if len(nested) == 1:
            raise nested[0]
        raise _fail(f"expected {name}, got {_json_kind(value)}")

    return plan


def _checked(inner: Plan, checks: Sequence[Callable[[Any], None]]) -> Plan:
    def plan(value: Any) -> Any:
        result = inner(value)
        for check in checks:
            check(result)
        return result

    return plan


def _lazy(compile_fields: Callable[[], Plan]) -> Plan:
    """Compile a record type's fields on first use, so recursive types (a tree of nodes) terminate."""
    compiled: list[Plan] = []

    def plan(value: Any) -> Any:
        if not compiled:
            compiled.append(compile_fields())
        return compiled[0](value)

    return plan


# Plans whose only job is an exact type test: the record loop does that test inline (a call saved per field).
_EXACT: Final[Mapping[Plan, type]] = {_str: str, _bool: bool}


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    plan: Plan
    required: bool


def _record_plan(fields: Sequence[_Field], extra: Extra, build: Callable[[dict[str, Any]], Any],
                 type_name: str) -> Plan:
    known = frozenset(f.name for f in fields)
    table = [(f.name, f.plan, f.required, _EXACT.get(f.plan)) for f in fields]

    def plan(value: Any) -> Any:
        if type(value) is not dict:
            raise _expected(f"object ({type_name})", value)
        out: dict[str, Any] = {}
        errors: list[tuple[Path, str]] = []
        present = 0
        for name, plan, required, exact in table:
            if name in value:
                present += 1
                item = value[name]
                if exact is not None and type(item) is exact:  # str/bool fields: nothing to convert or bound
                    out[name] = item
                    continue
                try:
                    out[name] = plan(item)
                except _Invalid as exc:
                    _collect(errors, name, exc)
            elif required:
                errors.append(((name,), "field is required"))
        if extra == "forbid" and len(value) > present:
            for key in value:
                if key not in known:
                    errors.append(((str(key),), "unknown field"))
                    if len(errors) > MAX_FIELD_ERRORS:
                        break
        if errors:
            raise _Invalid(errors)
        try:
            return build(out)
        except ValueError as exc:  # __post_init__ checks: their message is the reason
            raise _fail(str(exc) or "invalid value") from None

    return plan


def _dataclass_plan(cls: type, extra: Extra) -> Plan:
    def compile_fields() -> Plan:
        hints = _hints(cls)
        fields = [
            _Field(f.name, _field_plan(cls, f.name, hints[f.name], extra),
                   f.default is _MISSING and f.default_factory is _MISSING)
            for f in dataclasses.fields(cls) if f.init
        ]
        return _record_plan(fields, extra, lambda kwargs: cls(**kwargs), cls.__name__)

    return _lazy(compile_fields)


def _typeddict_plan(cls: type, extra: Extra) -> Plan:
    def compile_fields() -> Plan:
        hints = _hints(cls)
        required: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
        fields = []
        for name, hint in hints.items():
            origin = typing.get_origin(hint)
            is_required = name in required
            # Under ``from __future__ import annotations`` Python 3.11 cannot see NotRequired when it builds
            # __required_keys__; the resolved hint still says it.
            if origin is typing.Required or origin is typing.NotRequired:
                is_required = origin is typing.Required
                hint = typing.get_args(hint)[0]
            fields.append(_Field(name, _field_plan(cls, name, hint, extra), is_required))
        return _record_plan(fields, extra, dict, cls.__name__)

    return _lazy(compile_fields)


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:  # noqa: BLE001 - a forward reference that does not resolve
        raise UnsupportedType(f"cannot resolve the annotations of {cls.__qualname__}: {exc}") from exc


def _field_plan(owner: type, name: str, hint: Any, extra: Extra) -> Plan:
    try:
        return compile_plan(hint, extra)
    except UnsupportedType as exc:
        raise UnsupportedType(f"{owner.__qualname__}.{name}: {exc}") from None


def _type_name(tp: Any) -> str:
    if tp is type(None) or tp is None:
        return "null"
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(tp)[0])
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object",
            tuple: "array", set: "array", frozenset: "array"}.get(origin or tp,
                                                                   getattr(tp, "__name__", None) or repr(tp))


_SEQUENCES: Final[Mapping[Any, Callable[[list[Any]], Any]]] = {
    list: list, Sequence: list, set: set, frozenset: frozenset,
}


@functools.lru_cache(maxsize=512)
def compile_plan(tp: Any, extra: Extra = "forbid") -> Plan:
    """The converter for ``tp`` (cached: types are compiled once per process, then shared read-only).

    Raises :class:`UnsupportedType` for annotations no JSON value can satisfy (``bytes``, a plain class)."""
    scalar = _SCALARS.get(tp) if _hashable(tp) else None
    if scalar is not None:
        return scalar
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        inner = compile_plan(args[0], extra)
        checks = [m.checker() for m in args[1:] if isinstance(m, Rule)]
        return _checked(inner, checks) if checks else inner
    if origin is typing.Union or origin is types.UnionType:
        return _union_plan([(a, compile_plan(a, extra)) for a in args],
                           " or ".join(_type_name(a) for a in args))
    if origin is Literal:
        return _literal_plan(args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _list_plan(compile_plan(args[0], extra), tuple, "array")
        return _tuple_plan([compile_plan(a, extra) for a in args])
    if origin in _SEQUENCES or tp in _SEQUENCES:
        item = compile_plan(args[0], extra) if args else _any
        return _list_plan(item, _SEQUENCES[origin or tp], "array")
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        key_type = args[0] if args else str
        if key_type is not str and typing.get_origin(key_type) is not Literal and not (
                isinstance(key_type, type) and issubclass(key_type, str)):
            raise UnsupportedType(f"JSON object keys are strings; {tp!r} has {_type_name(key_type)} keys")
        return _dict_plan(compile_plan(key_type, extra), compile_plan(args[1], extra) if args else _any)
    supertype = getattr(tp, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return compile_plan(supertype, extra)
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return _enum_plan(tp)
        if dataclasses.is_dataclass(tp):
            return _dataclass_plan(tp, extra)
        if typing.is_typeddict(tp):
            return _typeddict_plan(tp, extra)
    raise UnsupportedType(f"{_type_name(tp)} cannot be checked from JSON")


def _hashable(tp: Any) -> bool:
    try:
        hash(tp)
    except TypeError:
        return False
    return True


def convert_value(value: Any, tp: Any, extra: Extra = "forbid") -> tuple[Any, list[FieldError]]:
    """Convert parsed JSON ``value`` to ``tp``: ``(result, [])`` or ``(None, errors)``."""
    plan = compile_plan(tp, extra)
    try:
        return plan(value), []
    except _Invalid as exc:
        return None, [FieldError(join_path(path), reason) for path, reason in exc.errors]
    except RecursionError:
        return None, [FieldError("", "body is nested too deeply")]
