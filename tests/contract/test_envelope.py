from __future__ import annotations

import json

import pytest

from plumego.contract import APIError, ErrorType, encode_error_envelope, encode_success_envelope, go_json


def test_error_envelope_bytes_exact_go_shape() -> None:
    err = APIError(ErrorType.NOT_FOUND, "user not found", details={"id": "42", "a": 1})
    body = encode_error_envelope(err, "req-123")
    assert body == (
        b'{"error":{"code":"RESOURCE_NOT_FOUND","message":"user not found","category":"client_error",'
        b'"type":"resource_not_found","details":{"a":1,"id":"42"}},"request_id":"req-123"}\n'
    )


def test_error_envelope_omits_empty_type_details_request_id() -> None:
    err = APIError(status=503)
    assert encode_error_envelope(err) == (
        b'{"error":{"code":"SERVICE_UNAVAILABLE","message":"Service Unavailable","category":"server_error"}}\n'
    )


def test_error_request_id_prefers_the_errors_own() -> None:
    err = APIError(ErrorType.BAD_REQUEST, "x", request_id="own")
    assert encode_error_envelope(err, "scope").endswith(b',"request_id":"own"}\n')


def test_nested_detail_maps_are_sorted_like_go_maps() -> None:
    err = APIError(ErrorType.VALIDATION, "bad", details={"z": {"b": 1, "a": 2}, "m": [{"y": 1, "x": 2}]})
    assert b'"details":{"m":[{"x":2,"y":1}],"z":{"a":2,"b":1}}' in encode_error_envelope(err)


def test_html_escaping_and_utf8_like_go() -> None:
    assert go_json("<a href='x'>&</a>") == '"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e"'
    assert go_json("caf\u00e9 \u2028\u2029") == '"caf\u00e9 \\u2028\\u2029"'
    assert go_json("tab\tnl\nctl\x01") == '"tab\\tnl\\nctl\\u0001"'
    err = APIError(ErrorType.BAD_REQUEST, "caf\u00e9 <b>")
    assert "caf\u00e9 \\u003cb\\u003e".encode() in encode_error_envelope(err)


def test_nan_is_rejected_like_go() -> None:
    with pytest.raises(ValueError):
        go_json(float("nan"))


def test_success_envelope_shapes() -> None:
    assert encode_success_envelope() == b"{}\n"
    assert encode_success_envelope({"id": 1, "name": "a"}) == b'{"data":{"id":1,"name":"a"}}\n'
    assert encode_success_envelope(
        [1, 2], {"total": 2, "limit": 20, "offset": 0}, "r1"
    ) == b'{"data":[1,2],"meta":{"limit":20,"offset":0,"total":2},"request_id":"r1"}\n'
    assert encode_success_envelope(None, {"k": "v"}) == b'{"meta":{"k":"v"}}\n'
    assert encode_success_envelope(None, {}, "r") == b'{"request_id":"r"}\n'
    # Empty containers as data are kept (Go omits only the nil interface).
    assert encode_success_envelope({}) == b'{"data":{}}\n'


def test_success_envelope_is_valid_json() -> None:
    body = encode_success_envelope({"msg": "<hi>"}, {"n": 1}, "rid")
    assert json.loads(body) == {"data": {"msg": "<hi>"}, "meta": {"n": 1}, "request_id": "rid"}
