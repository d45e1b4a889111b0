"""Strict client-input parsers: ASCII decimal integers within int64, and JSON bodies as Go reads them."""

from __future__ import annotations

import json

import pytest

from contract.asgi_driver import http_scope
from plumego.contract import (
    INT64_MAX,
    INT64_MIN,
    APIError,
    IntegerRangeError,
    IntegerSyntaxError,
    JSONBodyError,
    Request,
    Scope,
    is_json_content_type,
    parse_int,
    parse_json_body,
)


@pytest.mark.parametrize("text", ["+5", " 5", "5 ", "1_0", "٥", "５", "0x10", "", "-", "--1", "1.0", "1e3", "²"])
def test_parse_int_refuses_what_go_refuses(text: str) -> None:
    with pytest.raises(IntegerSyntaxError):
        parse_int(text)


def test_parse_int_range() -> None:
    assert parse_int("0") == 0 and parse_int("-17") == -17 and parse_int(b"42") == 42
    assert parse_int(str(INT64_MAX)) == INT64_MAX and parse_int(str(INT64_MIN)) == INT64_MIN
    for text in (str(INT64_MAX + 1), str(INT64_MIN - 1), "9" * 100_000):
        with pytest.raises(IntegerRangeError):
            parse_int(text)
    with pytest.raises(IntegerRangeError):
        parse_int("101", minimum=1, maximum=100)
    assert issubclass(IntegerRangeError, ValueError) and issubclass(IntegerSyntaxError, ValueError)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"name":"\\ud800"}', "lone UTF-16 surrogate"),
        (b'["ok", {"k\\udfff": 1}]', "lone UTF-16 surrogate"),
        (b'"\\ud83d"', "lone UTF-16 surrogate"),
        ('{"name":"x"}'.encode("utf-16"), "not UTF-8"),
        ('{"name":"x"}'.encode("utf-16-le"), "Expecting"),
        (b'\xef\xbb\xbf{"name":"x"}', "byte order mark"),
        (b'{"n": NaN}', "NaN is not valid JSON"),
        (b"[-Infinity]", "-Infinity is not valid JSON"),
        (b'{"n": -1e999}', "out of range"),
        (b'{"n": ' + b"7" * 5000 + b"}", "number too long"),
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        (b'{"name": "a"} x', "Extra data"),
        (b"\xed\xa0\x80", "not UTF-8"),  # a surrogate encoded straight into the bytes (CESU-8)
    ],
)
def test_parse_json_body_refusals(body: bytes, reason: str) -> None:
    with pytest.raises(JSONBodyError) as caught:
        parse_json_body(body)
    assert reason in caught.value.reason


def test_parse_json_body_accepts_what_json_means() -> None:
    assert parse_json_body('{"e":"\\ud83d\\ude00","raw":"é","s":"\\\\ud800"}'.encode()) == {
        "e": "😀", "raw": "é", "s": "\\ud800"}  # a pair, raw UTF-8, and an escaped backslash are all fine
    assert parse_json_body(b" [1, 2.5, true, null] ") == [1, 2.5, True, None]


async def test_request_json_answers_400_not_500() -> None:
    async def receive_body(body: bytes) -> Request:
        sent = False

        async def receive() -> dict[str, object]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        scope: Scope = http_scope("POST", "/")
        return Request(scope, receive)

    for body in (b'{"a":"\\udc00"}', b'{"a": NaN}', '{"a":1}'.encode("utf-16")):
        request = await receive_body(body)
        with pytest.raises(APIError) as caught:
            await request.json()
        assert caught.value.status == 400 and caught.value.code == "INVALID_JSON"
        json.dumps(caught.value.details)  # client-safe, serialisable details


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("application/json", True), ("Application/JSON; charset=UTF-8", True), ("application/problem+json", True),
        (b"application/json;charset=utf-8", True), ("text/plain", False), ("", False), (None, False),
        ("application/json; charset=utf-16", False), ("application/+json", False), ("application/jsonp", False),
        ("multipart/form-data; boundary=x", False), ("application/x-www-form-urlencoded", False),
    ],
)
def test_is_json_content_type(value: str | bytes | None, expected: bool) -> None:
    assert is_json_content_type(value) is expected
