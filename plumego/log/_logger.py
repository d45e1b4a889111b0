"""The structured logger contract and its text, JSON and discard backends.

Owns levels, bound fields and rendering of one log line per call. Imports only the standard library;
there is no module-level logger: callers construct one and pass it explicitly.
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import FrameType, MappingProxyType
from typing import Literal, NoReturn, Protocol, TextIO, runtime_checkable

from plumego.log._redact import redact_fields

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
    """

    format: str = "text"
    output: TextIO | None = None
    error_output: TextIO | None = None
    level: Level = Level.INFO
    fields: Fields = field(default_factory=dict)
    extra_secret_keys: tuple[str, ...] = ()


class _Sink:
    """Shared by a logger and every logger derived from it with ``with_fields``: streams plus one write lock."""

    __slots__ = ("output", "error_output", "lock", "level", "extra_secret_keys")

    def __init__(self, output: TextIO, error_output: TextIO | None, level: Level, extra: tuple[str, ...]) -> None:
        self.output = output
        self.error_output = error_output
        self.lock = threading.Lock()
        self.level = level
        self.extra_secret_keys = tuple(fragment.lower().replace("-", "_") for fragment in extra)

    def write(self, level: Level, line: str) -> None:
        stream = self.error_output if self.error_output is not None and level >= Level.ERROR else self.output
        with self.lock:
            try:
                stream.write(line)
                stream.flush()
            except (OSError, ValueError):
                # A closed or broken log stream must never take a request down with it.
                pass

    def redact(self, fields: Mapping[str, object]) -> dict[str, object]:
        return redact_fields(fields, self.extra_secret_keys)


class _BaseLogger:
    """Level filtering, field merging and redaction; subclasses only render a line."""

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

    def debug(self, msg: str, fields: Fields | None = None) -> None:
        if Level.DEBUG >= self._sink.level:
            self._log(Level.DEBUG, msg, fields)

    def info(self, msg: str, fields: Fields | None = None) -> None:
        if Level.INFO >= self._sink.level:
            self._log(Level.INFO, msg, fields)

    def warn(self, msg: str, fields: Fields | None = None) -> None:
        if Level.WARNING >= self._sink.level:
            self._log(Level.WARNING, msg, fields)

    def error(self, msg: str, fields: Fields | None = None) -> None:
        if Level.ERROR >= self._sink.level:
            self._log(Level.ERROR, msg, fields)

    def fatal(self, msg: str, fields: Fields | None = None) -> NoReturn:
        self._log(Level.FATAL, msg, fields)
        raise SystemExit(1)

    def _log(self, level: Level, msg: str, fields: Fields | None) -> None:
        if fields:
            merged = dict(self._fields)
            merged.update(fields)
        else:
            merged = self._fields
        self._sink.write(level, self._render(level, msg, self._sink.redact(merged)))

    def _render(self, level: Level, msg: str, fields: dict[str, object]) -> str:
        raise NotImplementedError


def _rfc3339_nano(moment: _dt.datetime) -> str:
    """UTC timestamp as Go's RFC3339Nano renders it (fraction without trailing zeros, ``Z`` suffix)."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


class JSONLogger(_BaseLogger):
    """One JSON object per line: ``time`` (UTC RFC3339Nano), ``level``, ``msg``, then the fields.

    The reserved keys always win over fields of the same name; values json cannot encode are stringified.
    """

    __slots__ = ()

    def _render(self, level: Level, msg: str, fields: dict[str, object]) -> str:
        record: dict[str, object] = {
            "time": _rfc3339_nano(_dt.datetime.now(_dt.timezone.utc)),
            "level": _LEVEL_NAMES[level],
            "msg": msg,
        }
        for key, value in fields.items():
            if key not in record:
                record[key] = value
        return json.dumps(record, default=str, ensure_ascii=False) + "\n"


_SAFE_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./")


def _text_key(key: str) -> str:
    if key and all(char in _SAFE_KEY_CHARS for char in key):
        return key
    return json.dumps(key, ensure_ascii=False)


def _text_value(value: object) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "<nil>"
    elif isinstance(value, (int, float)):
        text = repr(value)
    elif isinstance(value, (Mapping, list, tuple)):
        text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    if text == "" or any(char in text for char in ' \t\r\n="'):
        return json.dumps(text, ensure_ascii=False)
    return text


class TextLogger(_BaseLogger):
    """glog-style lines: ``I0102 15:04:05.000000    1234 [file.py:42] msg k=v k2="v 2"`` with sorted keys."""

    __slots__ = ()

    def _render(self, level: Level, msg: str, fields: dict[str, object]) -> str:
        now = _dt.datetime.now()
        caller = _caller_location()
        parts = [
            f"{_LEVEL_LETTERS[level]}{now:%m%d %H:%M:%S.%f} {os.getpid():7d} [{caller}] {msg}",
        ]
        for key in sorted(fields):
            parts.append(f"{_text_key(key)}={_text_value(fields[key])}")
        return " ".join(parts) + "\n"


def _caller_location() -> str:
    """``file.py:line`` of the first frame outside this module (the code that called ``info`` etc.)."""
    frame: FrameType | None = sys._getframe(1)
    here = __file__
    while frame is not None and frame.f_code.co_filename == here:
        frame = frame.f_back
    if frame is None:
        return "???:0"
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


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
        sink = _Sink(cfg.output or sys.stdout, cfg.error_output, cfg.level, cfg.extra_secret_keys)
        return JSONLogger(sink, cfg.fields)
    if cfg.format in ("text", ""):
        sink = _Sink(cfg.output or sys.stderr, cfg.error_output, cfg.level, cfg.extra_secret_keys)
        return TextLogger(sink, cfg.fields)
    return DiscardLogger()
