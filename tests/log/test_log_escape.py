"""Escaping and caps: a log call writes exactly one line, whatever the field values hold (issue 13.3),
and redaction still holds on the access log's own field set (issue 12.6)."""

from __future__ import annotations

import io
import json
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plumego.log import REDACTED, LoggerConfig, escape_unsafe, new_logger, truncate
from plumego.log._escape import ESCAPES, UNSAFE_RANGES
from plumego.log._logger import _text_value

UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp", "Zs"}

# One of each kind: C0 (NUL, ESC, CR, LF, TAB), DEL, C1 (NEL, CSI), separators, bidi and format characters,
# a non-space separator and a lone surrogate.
HOSTILE = ["\x00", "\x1b", "\r", "\n", "\t", "\x7f", "\x85", "\x9b", "\u2028", "\u2029", "\u202e", "\u2066",
           "\u200b", "\ufeff", "\u00a0", "\u3000", "\ud800", "\U000e0041"]

FIELDS: dict[str, object] = {
    "method": "GET", "path": "/api/v1/items/42", "status": 200, "duration": "153.2µs", "duration_ms": 0.153,
    "request_id": "0Ab3xYz9QwE1", "bytes": 1234, "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
    "client_ip": "127.0.0.1", "route": "/api/v1/items/:id",
}


def test_table_covers_every_unsafe_code_point_of_this_python() -> None:
    table = {code for low, high in UNSAFE_RANGES for code in range(low, high + 1)}
    expected = {code for code in range(sys.maxunicode + 1)
                if unicodedata.category(chr(code)) in UNSAFE_CATEGORIES and code != 0x20}
    assert expected <= table, sorted(hex(code) for code in expected - table)[:20]
    assert all(not chr(code).isprintable() for code in table)  # so isprintable() is a sound fast check
    assert set(ESCAPES) == table


@pytest.mark.parametrize("char", HOSTILE)
def test_escape_unsafe_leaves_no_unsafe_character(char: str) -> None:
    escaped = escape_unsafe(f"a{char}b")
    assert escaped.isprintable() and escaped.isascii()
    assert json.loads(f'"{escaped}"') == f"a{char}b"  # JSON escapes: decoding gives the original back
    assert escape_unsafe("plain café 日本") == "plain café 日本"


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("char", HOSTILE)
def test_one_call_is_one_line_whatever_the_values(fmt: str, char: str) -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format=fmt, output=buf))
    forged = f"x{char}I1206 00:00:00.000000 1 [a.py:1] request completed status=200"
    logger.info(f"msg{char}tail", {"user_agent": forged, f"k{char}ey": "v", "nested": {"ua": forged}})
    text = buf.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    assert len(text.splitlines()) == 1  # splitlines() also splits on U+0085, U+2028, \x1c ...
    assert text[:-1].isprintable()
    text.encode("utf-8")  # lone surrogates are escaped, so the line can always be written
    if fmt == "json":
        record = json.loads(text)
        assert record["user_agent"] == forged and record["msg"] == f"msg{char}tail"
        assert record[f"k{char}ey"] == "v" and record["nested"] == {"ua": forged}


def test_text_values_with_escapes_are_quoted_json_literals() -> None:
    buf = io.StringIO()
    new_logger(LoggerConfig(format="text", output=buf)).info("m", {"ua": "a\u0085b", "plain": "ok"})
    line = buf.getvalue()
    assert 'ua="a\\u0085b"' in line and " plain=ok " in line


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_values_and_message_are_capped_with_a_visible_marker(fmt: str) -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format=fmt, output=buf, max_value_chars=100))
    logger.info("m" * 1000, {"big": "b" * (8 << 20), "nested": ["n" * 500], "many": ["x"] * 10_000, "count": 7})
    line = buf.getvalue()
    assert len(line) < 1200
    marker = "...[truncated 8388508 chars]"
    assert marker in line and "...[truncated 900 chars]" in line  # the value and the message
    if fmt == "json":
        record = json.loads(line)
        assert record["big"] == "b" * 100 + marker and record["count"] == 7
        assert record["nested"].startswith('["nnnn')  # over the cap as a whole: kept as its cut JSON text
        assert record["many"].startswith('["x","x"') and record["many"].endswith("...[truncated 39901 chars]")


def test_cap_zero_means_unlimited_and_truncate_contract() -> None:
    assert truncate("abcdef", 3) == "abc...[truncated 3 chars]"
    assert truncate("abc", 3) == "abc" and truncate("abcdef", 0) == "abcdef"
    buf = io.StringIO()
    new_logger(LoggerConfig(format="json", output=buf, max_value_chars=0)).info("m", {"big": "b" * 100_000})
    assert json.loads(buf.getvalue())["big"] == "b" * 100_000


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_redaction_holds_on_the_access_log_fields(fmt: str) -> None:
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format=fmt, output=buf, extra_secret_keys=("client_ip",)))
    secrets = {"authorization": "Bearer s3cr3t-1", "X-Api-Key": "s3cr3t-2", "session_cookie": "s3cr3t-3",
               "meta": {"access_token": "s3cr3t-4", "items": [{"password": "s3cr3t-5"}]}}
    for _ in range(3):  # the per-key cache must give the same answer every time
        logger.with_fields({"db_password": "s3cr3t-6"}).info("request completed", {**FIELDS, **secrets})
    out = buf.getvalue()
    assert "s3cr3t" not in out and "127.0.0.1" not in out  # extra_secret_keys applies to a plain field too
    assert out.count(REDACTED) == 3 * 7
    for key in ("GET", "/api/v1/items/42", "0Ab3xYz9QwE1", "/api/v1/items/:id"):
        assert key in out


def test_hostile_values_never_raise() -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    loop: list[object] = []
    loop.append(loop)
    deep: dict[str, object] = {}
    node = deep
    for _ in range(100):
        node["d"] = {}
        node = node["d"]  # type: ignore[assignment]
    for fmt in ("text", "json"):
        buf = io.StringIO()
        logger = new_logger(LoggerConfig(format=fmt, output=buf))
        logger.info("x", {"broken": Broken(), "loop": loop, "deep": deep, "tuple_keys": {(1, 2): "v"},
                          3: "int key"})  # type: ignore[dict-item]
        logger.info(Broken())  # type: ignore[arg-type]  # not even the message can make a call raise
        assert buf.getvalue().count("\n") == 2
        assert "<unprintable Broken>" in buf.getvalue() and "[nested too deep]" in buf.getvalue()


_KEYS = st.sampled_from(["method", "path", "status", "user_agent", "b", "z_last", "token_id", "bad key", "x=y"])
_VALUES = st.one_of(
    st.text(alphabet=st.sampled_from(list('ab é日 ="\\\x00\x1b\n\x85\u2028\u202e')), max_size=12),
    st.text(alphabet="ab=", max_size=4),  # nearly plain: one '=' must still force quoting
    st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=8), st.integers(min_value=0, max_value=6))
def test_text_lines_match_the_per_field_rules(fields: dict[str, object], cap: int) -> None:
    # The text renderer inlines the common cases and reuses a cached key plan; the result must be exactly
    # what the per-field rules give (bare when printable without space, '=' or '"', else an escaped JSON
    # literal; secrets redacted).
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="text", output=buf, max_value_chars=cap))
    logger.info("m", fields)
    logger.info("m", dict(fields))  # the second call reuses the cached key plan
    sink = logger._sink  # type: ignore[attr-defined]
    expected = " ".join(
        sink.key(key).text + (REDACTED if sink.key(key).kind == 1 else _text_value(fields[key], sink))
        for key in sorted(fields)
    )
    for line in buf.getvalue().splitlines():
        assert line.split("] m", 1)[1] == (" " + expected if expected else "")


_JSON_VALUES = st.one_of(
    st.text(alphabet=st.sampled_from(list('ab µé日 ="\\\x00\x1b\n\x7f\x85\u2028\u202e\ud800')), max_size=12),
    st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
    st.lists(st.text(alphabet=st.sampled_from(list("a\x7f\u2028µ")), max_size=3), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_KEYS, _JSON_VALUES, max_size=8), st.text(alphabet="m\x7fµ\u2028\n", max_size=4),
       st.integers(min_value=0, max_value=6))
def test_json_lines_are_one_printable_line_that_decodes_to_the_capped_fields(
    fields: dict[str, object], msg: str, cap: int
) -> None:
    # The JSON renderer only runs the escaping pass when a string is non-ASCII and not printable, or the line
    # holds DEL; whatever the values, the line must be one printable line decoding to the (capped) values.
    buf = io.StringIO()
    logger = new_logger(LoggerConfig(format="json", output=buf, max_value_chars=cap))
    logger.info(msg, fields)
    line = buf.getvalue()
    assert line.endswith("\n") and line[:-1].isprintable() and len(line.splitlines()) == 1
    record = json.loads(line)
    assert record["msg"] == truncate(msg, cap)
    for key, value in fields.items():
        written = record[truncate(key, cap)]  # keys are capped too (each of _KEYS has its own first letter)
        if key == "token_id":
            assert written == REDACTED
        elif isinstance(value, str):
            assert written == truncate(value, cap)
        elif isinstance(value, float) and value != value:
            assert written != written
        elif isinstance(value, list):
            # a container longer than the cap as a whole is written as its cut JSON text
            assert written == [truncate(item, cap) for item in value] or "...[truncated " in written
        else:
            assert written == value
