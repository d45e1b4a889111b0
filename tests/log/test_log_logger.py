"""Behaviour of the text, JSON and discard loggers: levels, bound fields, routing and redaction."""

from __future__ import annotations

import io
import json
import os
import re
import sys

import pytest

from plumego.log import (
    DiscardLogger,
    Level,
    LoggerConfig,
    StructuredLogger,
    new_logger,
    parse_level,
)


def _json_lines(buf: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def test_json_line_has_reserved_keys_first_and_fields() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf))
    logger.info("request completed", {"status": 200, "path": "/x"})
    line = buf.getvalue()
    assert line.endswith("\n") and line.count("\n") == 1
    record = json.loads(line)
    assert list(record)[:3] == ["time", "level", "msg"]
    assert record["level"] == "INFO"
    assert record["msg"] == "request completed"
    assert record["status"] == 200 and record["path"] == "/x"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", str(record["time"]))


def test_reserved_keys_override_fields() -> None:
    buf = io.StringIO()
    new_logger(LoggerConfig(format="json", output=buf)).warn("real", {"msg": "fake", "level": "x", "time": 1})
    record = _json_lines(buf)[0]
    assert record["msg"] == "real" and record["level"] == "WARN" and record["time"] != 1


def test_min_level_filters_and_enabled_reports_it() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf, level=Level.WARNING))
    logger.debug("d")
    logger.info("i")
    logger.warn("w")
    logger.error("e")
    assert [r["level"] for r in _json_lines(buf)] == ["WARN", "ERROR"]
    assert not logger.enabled(Level.INFO) and logger.enabled(Level.ERROR)


def test_default_level_is_info() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf))
    logger.debug("hidden")
    logger.info("shown")
    assert [r["msg"] for r in _json_lines(buf)] == ["shown"]


def test_with_fields_binds_and_call_fields_win() -> None:
    buf = io.StringIO()
    base = new_logger(LoggerConfig(format="json", output=buf, fields={"service": "svc", "env": "dev"}))
    child = base.with_fields({"component": "db", "env": "prod"})
    child.info("one", {"component": "cache"})
    base.info("two")
    first, second = _json_lines(buf)
    assert first["service"] == "svc" and first["env"] == "prod" and first["component"] == "cache"
    assert "component" not in second and second["env"] == "dev"


def test_config_fields_are_copied_at_construction() -> None:
    buf = io.StringIO()
    fields: dict[str, object] = {"a": 1}
    logger = new_logger(LoggerConfig(format="json", output=buf, fields=fields))
    fields["a"] = 2
    logger.info("x")
    assert _json_lines(buf)[0]["a"] == 1


def test_unencodable_values_are_stringified() -> None:
    class Thing:
        def __str__(self) -> str:
            return "thing!"

    buf = io.StringIO()
    new_logger(LoggerConfig(format="json", output=buf)).info("x", {"obj": Thing(), "n": None})
    record = _json_lines(buf)[0]
    assert record["obj"] == "thing!" and record["n"] is None


def test_error_output_receives_error_and_fatal_only() -> None:
    out, err = io.StringIO(), io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=out, error_output=err))
    logger.info("fine")
    logger.error("bad")
    with pytest.raises(SystemExit) as exc:
        logger.fatal("worse")
    assert exc.value.code == 1
    assert [r["msg"] for r in _json_lines(out)] == ["fine"]
    assert [(r["level"], r["msg"]) for r in _json_lines(err)] == [("ERROR", "bad"), ("FATAL", "worse")]


def test_text_format_is_glog_style_with_sorted_quoted_fields() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="text", output=buf))
    logger.info("hello world", {"zeta": "v 2", "alpha": 1, "empty": "", "eq": "a=b", "ok": True, "bad key": "x"})
    line = buf.getvalue()
    pattern = (
        r"I\d{4} \d\d:\d\d:\d\d\.\d{6} +(\d+) \[test_log_logger\.py:\d+\] hello world "
        r'alpha=1 "bad key"=x empty="" eq="a=b" ok=true zeta="v 2"\n'
    )
    match = re.fullmatch(pattern, line)
    assert match is not None, line
    assert int(match.group(1)) == os.getpid()


def test_text_levels_use_glog_letters() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(output=buf, level=Level.DEBUG))
    logger.debug("a")
    logger.warn("b")
    logger.error("c")
    assert [line[0] for line in buf.getvalue().splitlines()] == ["D", "W", "E"]


def test_unknown_format_discards_and_discard_logger_is_silent() -> None:
    logger = new_logger(LoggerConfig(format="yaml"))
    assert isinstance(logger, DiscardLogger)
    logger.info("x")
    assert logger.with_fields({"a": 1}) is logger
    assert not logger.enabled(Level.FATAL)
    with pytest.raises(SystemExit):
        logger.fatal("bye")


def test_backends_satisfy_the_protocol() -> None:
    for fmt in ("text", "json", "discard"):
        assert isinstance(new_logger(LoggerConfig(format=fmt, output=io.StringIO())), StructuredLogger)


def test_closed_stream_does_not_raise() -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf))
    buf.close()
    logger.error("still fine")


def test_parse_level() -> None:
    assert parse_level("WARN") is Level.WARNING
    assert parse_level(" debug ") is Level.DEBUG
    with pytest.raises(ValueError):
        parse_level("loud")
    assert int(Level.DEBUG) == -1 and int(Level.FATAL) == 3


def _log_twice_from_two_lines(logger: StructuredLogger) -> list[int]:
    lines = []
    for _ in range(2):  # the second pass is served from the per-call-site cache
        lines.append(sys._getframe().f_lineno + 1)
        logger.info("first")
        lines.append(sys._getframe().f_lineno + 1)
        logger.with_fields({"k": 1}).warn("second")
    return lines


def test_text_caller_is_the_exact_line_of_each_call_site() -> None:
    # The caller's "file.py:line" is cached per call site (code object and instruction offset); two calls in
    # one function, a bound-fields child and a repeated call must each name their own line.
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="text", output=buf))
    expected = _log_twice_from_two_lines(logger)
    expected_fatal = sys._getframe().f_lineno + 2
    with pytest.raises(SystemExit):
        logger.fatal("bye")
    found = [int(m) for m in re.findall(r"\[test_log_logger\.py:(\d+)\]", buf.getvalue())]
    assert found == [*expected, expected_fatal]
    assert expected[0] != expected[1] and expected[:2] == expected[2:]
