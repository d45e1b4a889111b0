"""The structured logger contract and its text, JSON and discard backends.

Owns levels, bound fields and rendering of one log line per call: redaction, escaping of unsafe
characters and value caps happen here, once per field. Imports only the standard library; there is no
module-level logger: callers construct one and pass it explicitly.
"""

from __future__ import annotations

import enum
import json
import os
import re
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from types import CodeType, FrameType, MappingProxyType
from typing import Final, Literal, NoReturn, Protocol, TextIO, runtime_checkable

from plumego.log._escape import ESCAPES, truncate
from plumego.log._redact import REDACTED, is_secret_key

Fields = Mapping[str, object]
LogFormat = Literal["text", "json", "discard"]  # anything else discards, as in Go


class Level(enum.IntEnum):
    """Severity levels; numeric values match Go plumego (DEBUG=-1 ... FATAL=3)."""

    DEBUG = -1
    INFO = 0
    WARNING = 1
    ERROR = 2
    FATAL = 3


_LEVEL_NAMES: Mapping[Level, str] = MappingProxyType(
    {Level.DEBUG: "DEBUG", Level.INFO: "INFO", Level.WARNING: "WARN", Level.ERROR: "ERROR", Level.FATAL: "FATAL"}
)
_LEVEL_LETTERS: Mapping[Level, str] = MappingProxyType(
    {Level.DEBUG: "D", Level.INFO: "I", Level.WARNING: "W", Level.ERROR: "E", Level.FATAL: "F"}
)
# Module constants for the level checks on every call: reading ``Level.INFO`` goes through the enum class (~75 ns).
_DEBUG: Final = Level.DEBUG
_INFO: Final = Level.INFO
_WARNING: Final = Level.WARNING
_ERROR: Final = Level.ERROR
_FATAL: Final = Level.FATAL
# What follows the timestamp in a JSON line, per level: the level and the start of the message.
_JSON_LEVELS: Mapping[Level, str] = MappingProxyType(
    {level: f'","level":"{name}","msg":' for level, name in _LEVEL_NAMES.items()}
)


def parse_level(name: str) -> Level:
    """Parse ``debug|info|warn|warning|error|fatal`` (case-insensitive); raise ValueError otherwise."""
    folded = name.strip().lower()
    aliases = {
        "debug": Level.DEBUG,
        "info": Level.INFO,
        "warn": Level.WARNING,
        "warning": Level.WARNING,
        "error": Level.ERROR,
        "fatal": Level.FATAL,
    }
    try:
        return aliases[folded]
    except KeyError:
        raise ValueError(f"unknown log level {name!r}") from None


@runtime_checkable
class StructuredLogger(Protocol):
    """What every plumego component logs through. Calls never raise on bad field values."""

    def with_fields(self, fields: Fields) -> StructuredLogger:
        """Return a logger that adds ``fields`` to every line (call fields win over bound fields)."""
        ...

    def enabled(self, level: Level) -> bool:
        """Return True when a line at ``level`` would be written (lets callers skip building fields)."""
        ...

    def debug(self, msg: str, fields: Fields | None = None) -> None: ...

    def info(self, msg: str, fields: Fields | None = None) -> None: ...

    def warn(self, msg: str, fields: Fields | None = None) -> None: ...

    def error(self, msg: str, fields: Fields | None = None) -> None: ...

    def fatal(self, msg: str, fields: Fields | None = None) -> NoReturn:
        """Write the line at FATAL, then raise SystemExit(1) (Go's Fatal exits the process)."""
        ...


@dataclass(frozen=True, slots=True)
class LoggerConfig:
    """Construction options for :func:`new_logger`.

    ``output`` defaults to stdout for JSON and stderr for text. When ``error_output`` is set, ERROR and
    FATAL lines go there instead of ``output``. ``fields`` are copied at construction. Keys matching
    ``extra_secret_keys`` (case-insensitive substrings) are redacted in addition to SECRET_KEY_FRAGMENTS.
    ``max_value_chars`` caps the message and every string value (nested ones too) at that many
    characters, marking the cut with ``...[truncated N chars]``; ``0`` disables the cap.
    """

    format: str = "text"
    output: TextIO | None = None
    error_output: TextIO | None = None
    level: Level = Level.INFO
    fields: Fields = field(default_factory=dict)
    extra_secret_keys: tuple[str, ...] = ()
    max_value_chars: int = 16384


# Keys seen per logger family; field keys come from code, so this stays tiny. Bounded for hostile maps.
_KEY_CACHE_SIZE: Final = 4096
# Nested containers deeper than this are rendered as a marker; bounds work on hostile, self-referencing values.
_MAX_DEPTH: Final = 16
_SCALARS: Final = frozenset({int, float, bool, type(None)})
_SAFE_KEY = re.compile(r"[A-Za-z0-9_\-./]+").fullmatch
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The C encoder behind json.dumps, built once instead of per call (json builds it on every encode()). No
# cycle markers: records only hold scalars, strings and _clean()'s depth-bounded copies.
_make_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODER = (
    _make_c_encoder(None, _JSON.default, encode_basestring, None, ":", ",", False, False, True)
    if _make_c_encoder is not None
    else None
)


def _encode_record(record: object) -> str:
    if _C_ENCODER is not None:
        return "".join(_C_ENCODER(record, 0))
    return _JSON.encode(record)


# Key kinds in the sink's cache.
_PLAIN: Final = 0
_SECRET: Final = 1
_RESERVED: Final = 2  # time, level, msg: the JSON format's own keys, which fields never overwrite
_JSON_RESERVED: Final = frozenset({"time", "level", "msg"})
_DIGITS3: Final = tuple(f"{n:03d}" for n in range(1000))
_FLOAT_WORDS: Final = MappingProxyType({"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"})  # json's spelling


class _Key:
    """Everything a renderer needs about one field key, computed once per distinct key."""

    __slots__ = ("kind", "text", "text_redacted", "json", "json_redacted")

    def __init__(self, kind: int, text: str, json_name: str) -> None:
        self.kind = kind
        self.text = text + "="  # ``key=`` in a text line
        self.text_redacted = self.text + REDACTED
        self.json = "," + json_name + ":"  # ``,"key":`` in a JSON line
        self.json_redacted = self.json + '"' + REDACTED + '"'


class _Sink:
    """Shared by a logger and every logger derived from it with ``with_fields``: streams, one write lock,
    the per-key cache and the per-second timestamp prefixes."""

    __slots__ = ("output", "error_output", "lock", "level", "extra_secret_keys", "max_chars", "limit", "keys",
                 "basenames", "callers", "utc_second", "local_second", "pid", "text_plan")

    def __init__(self, output: TextIO, error_output: TextIO | None, level: Level, extra: tuple[str, ...],
                 max_chars: int) -> None:
        self.output = output
        self.error_output = error_output
        self.lock = threading.Lock()
        self.level = level
        self.extra_secret_keys = tuple(fragment.lower().replace("-", "_") for fragment in extra)
        self.max_chars = max(0, max_chars)
        self.limit = self.max_chars or sys.maxsize  # one comparison per value on the hot path, 0 meaning no cap
        self.keys: dict[str, _Key] = {}
        self.basenames: dict[str, str] = {}  # source path -> file name, for the text format's caller field
        # (id(code), instruction offset) of a logging call site -> (its code, "file.py:line"). ``frame.f_lineno``
        # scans the code's line table on every read; a call site's line never changes, so it is read once.
        self.callers: dict[tuple[int, int], tuple[CodeType, str]] = {}
        self.utc_second: tuple[int, str] = (-1, "")
        self.local_second: tuple[int, str] = (-1, "")
        self.pid = f"{os.getpid():7d}"
        # The last key tuple a text line was rendered for, with its keys sorted and their cached facts.
        self.text_plan: tuple[tuple[str, ...], list[tuple[str, str, bool]]] = ((), [])

    def key(self, key: str) -> _Key:
        """The cached facts about ``key``: secret or not, and how each format writes it."""
        known = self.keys.get(key)
        if known is None:
            capped = truncate(key, self.max_chars)
            quoted = encode_basestring(capped).translate(ESCAPES)
            if key in _JSON_RESERVED:
                kind = _RESERVED
            elif is_secret_key(key, self.extra_secret_keys):
                kind = _SECRET
            else:
                kind = _PLAIN
            known = _Key(kind, capped if _SAFE_KEY(capped) else quoted, quoted)
            if len(self.keys) < _KEY_CACHE_SIZE:
                self.keys[key] = known
        return known

    def utc_timestamp(self) -> str:
        """Now in UTC as Go's RFC3339Nano renders it (fraction without trailing zeros, ``Z`` suffix)."""
        second, nanos = divmod(time.time_ns(), 1_000_000_000)
        cached = self.utc_second
        if cached[0] != second:
            cached = self.utc_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        millis, micros = divmod(nanos // 1000, 1000)
        if millis or micros:
            return cached[1] + "." + (_DIGITS3[millis] + _DIGITS3[micros]).rstrip("0") + "Z"
        return cached[1] + "Z"

    def local_second_prefix(self, second: int) -> tuple[int, str]:
        """The cached ``MMDD hh:mm:ss.`` of ``second`` in local time (glog's timestamp up to the fraction)."""
        cached = self.local_second = (second, time.strftime("%m%d %H:%M:%S", time.localtime(second)) + ".")
        # getpid() is a system call: read it once a second (a forked child shows its own pid within 1 s).
        self.pid = f"{os.getpid():7d}"
        return cached


def _as_text(value: object) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break the log call
        return f"<unprintable {type(value).__name__}>"


def _clean(value: object, sink: _Sink, depth: int) -> object:
    """A JSON-encodable copy of a nested value: secret keys redacted, strings capped, the rest stringified."""
    kind = type(value)
    if kind is str:
        return truncate(value, sink.max_chars)  # type: ignore[arg-type]
    if kind in _SCALARS:
        return value
    if depth > _MAX_DEPTH:
        return "[nested too deep]"
    if isinstance(value, Mapping):
        cleaned: dict[str, object] = {}
        for key, item in value.items():
            name = key if type(key) is str else _as_text(key)
            cleaned[truncate(name, sink.max_chars)] = (
                REDACTED if sink.key(name).kind == _SECRET else _clean(item, sink, depth + 1)
            )
        return cleaned
    if isinstance(value, (list, tuple)):
        return [_clean(item, sink, depth + 1) for item in value]
    if isinstance(value, str):
        return truncate(str.__str__(value), sink.max_chars)
    if isinstance(value, (int, float)):
        return value
    return truncate(_as_text(value), sink.max_chars)


class _BaseLogger:
    """Level filtering and field merging; subclasses render and write a line (redacting, escaping and capping)
    in one ``_log`` call, so a log call costs one extra frame."""

    __slots__ = ("_sink", "_fields")

    def __init__(self, sink: _Sink, fields: Fields) -> None:
        self._sink = sink
        self._fields: dict[str, object] = dict(fields)

    def with_fields(self, fields: Fields) -> StructuredLogger:
        merged = dict(self._fields)
        merged.update(fields)
        clone = type(self).__new__(type(self))
        _BaseLogger.__init__(clone, self._sink, merged)
        return clone

    def enabled(self, level: Level) -> bool:
        return level >= self._sink.level

    # ``_log`` must be called straight from these methods: the text format finds its caller two frames up.
    def debug(self, msg: str, fields: Fields | None = None) -> None:
        if _DEBUG >= self._sink.level:
            self._log(_DEBUG, msg, fields)

    def info(self, msg: str, fields: Fields | None = None) -> None:
        if _INFO >= self._sink.level:
            self._log(_INFO, msg, fields)

    def warn(self, msg: str, fields: Fields | None = None) -> None:
        if _WARNING >= self._sink.level:
            self._log(_WARNING, msg, fields)

    def error(self, msg: str, fields: Fields | None = None) -> None:
        if _ERROR >= self._sink.level:
            self._log(_ERROR, msg, fields)

    def fatal(self, msg: str, fields: Fields | None = None) -> NoReturn:
        self._log(_FATAL, msg, fields)
        raise SystemExit(1)

    def _log(self, level: Level, msg: str, fields: Fields | None) -> None:
        raise NotImplementedError


def _write(sink: _Sink, level: Level, line: str) -> None:
    stream = sink.error_output if sink.error_output is not None and level >= _ERROR else sink.output
    with sink.lock:
        try:
            stream.write(line)
            stream.flush()
        except (OSError, ValueError):
            # A closed or broken log stream must never take a request down with it.
            pass


class JSONLogger(_BaseLogger):
    """One compact JSON object per line: ``time`` (UTC RFC3339Nano), ``level``, ``msg``, then the fields.

    The reserved keys always win over fields of the same name; values json cannot encode are stringified.
    Every unsafe character (controls, C1, U+2028/U+2029, bidi and other format characters, lone
    surrogates) is written as a JSON escape, so a line is always one line of valid UTF-8 JSON.
    """

    __slots__ = ()

    def _log(self, level: Level, msg: str, fields: Fields | None) -> None:
        own = self._fields
        if not fields:
            fields = own
        elif own:
            fields = {**own, **fields}
        sink = self._sink
        limit = sink.limit
        if type(msg) is not str:
            msg = _as_text(msg)
        if len(msg) > limit:
            msg = truncate(msg, limit)
        # encode_basestring escapes U+0000-U+001F, so a string can only still carry an unsafe character raw when
        # it holds DEL or is not ASCII. isascii() is O(1) and DEL is one memchr over the finished line; only
        # non-ASCII strings pay for isprintable(), which looks up every character in the Unicode database.
        unsafe = not msg.isascii() and not msg.isprintable()
        parts = ['{"time":"', sink.utc_timestamp(), _JSON_LEVELS[level], encode_basestring(msg)]
        append = parts.append
        known = sink.keys
        for key, value in fields.items():
            info = known.get(key)
            if info is None:
                info = sink.key(key if type(key) is str else _as_text(key))
            if info.kind:
                if info.kind == _SECRET:
                    append(info.json_redacted)
                continue  # reserved keys always win
            append(info.json)
            kind = type(value)
            if kind is str:
                if len(value) > limit:  # type: ignore[arg-type]
                    value = truncate(value, limit)  # type: ignore[arg-type]
                if not unsafe and not value.isascii() and not value.isprintable():  # type: ignore[attr-defined]
                    unsafe = True
                append(encode_basestring(value))  # type: ignore[arg-type]
            elif kind is int:
                append(int.__repr__(value))
            elif kind is float:
                text = float.__repr__(value)
                append(_FLOAT_WORDS.get(text, text))
            elif kind is bool:
                append("true" if value else "false")
            elif value is None:
                append("null")
            else:
                text = _json_value(value, sink)
                if not unsafe and not text.isascii() and not text.isprintable():
                    unsafe = True
                append(text)
        append("}")
        line = "".join(parts)
        if unsafe or "\x7f" in line:
            line = line.translate(ESCAPES)
        _write(sink, level, line + "\n")


def _json_value(value: object, sink: _Sink) -> str:
    """A nested or unusual value as JSON: redacted and capped; past the cap as a whole, its cut JSON text."""
    cleaned = _clean(value, sink, 1)
    encoded = _encode_record(cleaned)
    cap = sink.max_chars
    if cap and len(encoded) > cap and type(cleaned) is not str:
        # A container with many capped items can still be huge: it is written as its cut JSON text.
        return encode_basestring(truncate(encoded, cap))
    return encoded


class TextLogger(_BaseLogger):
    """glog-style lines: ``I0102 15:04:05.000000    1234 [file.py:42] msg k=v k2="v 2"`` with sorted keys.

    A value is written bare when it is printable and has no space, ``=`` or ``"``; otherwise as a JSON
    string literal, with every unsafe character escaped. Unsafe characters in the message are escaped too.
    """

    __slots__ = ()

    def _log(self, level: Level, msg: str, fields: Fields | None) -> None:
        own = self._fields
        if not fields:
            fields = own
        elif own:
            fields = {**own, **fields}
        sink = self._sink
        limit = sink.limit
        if type(msg) is not str:
            msg = _as_text(msg)
        if len(msg) > limit:
            msg = truncate(msg, limit)
        if not msg.isprintable():
            msg = msg.translate(ESCAPES)
        second, nanos = divmod(time.time_ns(), 1_000_000_000)
        stamp = sink.local_second
        if stamp[0] != second:
            stamp = sink.local_second_prefix(second)
        millis, micros = divmod(nanos // 1000, 1000)
        # The caller is two frames up (_log <- info/warn/... <- caller); its "file.py:line" is cached per call site.
        frame = sys._getframe(2)
        code = frame.f_code
        site = sink.callers.get((id(code), frame.f_lasti))
        where = site[1] if site is not None and site[0] is code else _caller_location(sink, frame)
        parts = [f"{_LEVEL_LETTERS[level]}{stamp[1]}{_DIGITS3[millis]}{_DIGITS3[micros]} {sink.pid} [{where}] {msg}"]
        append = parts.append
        names = tuple(fields)
        plan = sink.text_plan
        if plan[0] != names:  # callers like the access log pass the same keys every time: sort them once
            plan = sink.text_plan = (names, _text_plan(sink, fields))
        for key, prefix, secret in plan[1]:
            value = fields[key]
            if secret:
                append(prefix + REDACTED)
            elif type(value) is str:
                if not value:
                    append(prefix + '""')
                elif (len(value) <= limit and value.isprintable()
                        and " " not in value and "=" not in value and '"' not in value):
                    append(prefix + value)
                else:
                    append(prefix + _text_string(value, sink.max_chars))
            elif type(value) is int:
                append(prefix + int.__repr__(value))
            else:
                append(prefix + _text_value(value, sink))
        _write(sink, level, " ".join(parts) + "\n")


def _text_plan(sink: _Sink, fields: Mapping[str, object]) -> list[tuple[str, str, bool]]:
    """The keys of ``fields`` sorted, each with its ``key=`` prefix and whether it is redacted."""
    try:
        keys = sorted(fields)
    except TypeError:  # mixed key types: order by their text
        keys = sorted(fields, key=_as_text)
    plan = []
    for key in keys:
        info = sink.key(key if type(key) is str else _as_text(key))
        plan.append((key, info.text, info.kind == _SECRET))
    return plan


def _text_value(value: object, sink: _Sink) -> str:
    kind = type(value)
    if kind is str:
        return _text_string(value, sink.max_chars)  # type: ignore[arg-type]
    if kind is int or kind is float:
        return repr(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, (Mapping, list, tuple)):
        return _text_string(_encode_record(_clean(value, sink, 1)), sink.max_chars)
    if isinstance(value, (int, float)):
        return repr(value)
    return _text_string(_as_text(value), sink.max_chars)


def _text_string(text: str, cap: int) -> str:
    """A text value: bare when printable without space, ``=`` or ``"``; else a JSON literal, unsafe chars escaped."""
    if cap and len(text) > cap:
        text = truncate(text, cap)
    if text.isprintable():
        if text and " " not in text and "=" not in text and '"' not in text:
            return text
        return encode_basestring(text)
    return encode_basestring(text).translate(ESCAPES)


def _caller_location(sink: _Sink, frame: FrameType | None) -> str:
    """``file.py:line`` of the first frame from ``frame`` outward that is outside this module; cached per call
    site when ``frame`` itself is that frame (a call from inside this module depends on its own caller)."""
    here = __file__
    first = frame
    while frame is not None and frame.f_code.co_filename == here:
        frame = frame.f_back
    if frame is None:
        return "???:0"
    code = frame.f_code
    path = code.co_filename
    name = sink.basenames.get(path)
    if name is None:
        name = os.path.basename(path)
        if len(sink.basenames) < _KEY_CACHE_SIZE:
            sink.basenames[path] = name
    where = f"{name}:{frame.f_lineno}"
    if frame is first and len(sink.callers) < _KEY_CACHE_SIZE:
        sink.callers[(id(code), frame.f_lasti)] = (code, where)
    return where


class DiscardLogger:
    """Accepts every call and writes nothing. ``fatal`` still raises SystemExit(1)."""

    __slots__ = ()

    def with_fields(self, fields: Fields) -> StructuredLogger:
        return self

    def enabled(self, level: Level) -> bool:
        return False

    def debug(self, msg: str, fields: Fields | None = None) -> None:
        return None

    def info(self, msg: str, fields: Fields | None = None) -> None:
        return None

    def warn(self, msg: str, fields: Fields | None = None) -> None:
        return None

    def error(self, msg: str, fields: Fields | None = None) -> None:
        return None

    def fatal(self, msg: str, fields: Fields | None = None) -> NoReturn:
        raise SystemExit(1)


def new_logger(config: LoggerConfig | None = None) -> StructuredLogger:
    """Build a logger from ``config`` (default: text to stderr at INFO). Unknown formats discard, as in Go."""
    cfg = config if config is not None else LoggerConfig()
    if cfg.format == "json":
        sink = _Sink(cfg.output or sys.stdout, cfg.error_output, cfg.level, cfg.extra_secret_keys,
                     cfg.max_value_chars)
        return JSONLogger(sink, cfg.fields)
    if cfg.format in ("text", ""):
        sink = _Sink(cfg.output or sys.stderr, cfg.error_output, cfg.level, cfg.extra_secret_keys,
                     cfg.max_value_chars)
        return TextLogger(sink, cfg.fields)
    return DiscardLogger()
