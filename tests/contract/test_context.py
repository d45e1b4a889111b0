from __future__ import annotations

from typing import Any

import pytest

from plumego.contract import (
    SCOPE_REQUEST_ID,
    RouteContext,
    TraceContext,
    path_params_from_scope,
    request_id_from_scope,
    route_context_from_scope,
    trace_context_from_scope,
    valid_request_id,
    with_request_id,
    with_route_context,
    with_trace_context,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abc", "abc"),
        ("  padded\t", "padded"),
        ("", ""),
        ("   ", ""),
        ("a" * 128, "a" * 128),
        ("a" * 129, ""),
        ("bad\x01id", ""),
        ("bad\x7fid", ""),
        ("\u00e9" * 64, "\u00e9" * 64),  # 128 bytes
        ("\u00e9" * 65, ""),  # 130 bytes
        ("ok-\u00e9\x02", ""),
        # issue 13.3: non-ASCII ids follow the same rule (Go accepts these)
        ("id\u0085", ""),  # NEL, which str.splitlines() reads as a line break
        ("\u009b31m", ""),  # C1 CSI
        ("a\u2028b", ""),  # line separator
        ("a\u2029b", ""),  # paragraph separator
        ("\u202egnp.exe", ""),  # right-to-left override
        ("a\u200bb", ""),  # zero-width space (format character)
        ("a\u00a0b", ""),  # no-break space
        ("a\ud800b", ""),  # lone surrogate
        ("\u00a0abc", ""),  # non-ASCII whitespace is not trimmed, it is refused
        ("caf\u00e9-\u65e5\u672c", "caf\u00e9-\u65e5\u672c"),  # printable non-ASCII stays accepted
    ],
)
def test_request_id_validation(raw: str, expected: str) -> None:
    assert valid_request_id(raw) == expected


def test_request_id_carrier() -> None:
    scope: dict[str, Any] = {}
    assert request_id_from_scope(scope) == ""
    assert with_request_id(scope, " r-1 ")
    assert scope[SCOPE_REQUEST_ID] == "r-1"
    assert request_id_from_scope(scope) == "r-1"
    assert not with_request_id(scope, "x\ny")
    assert request_id_from_scope(scope) == "r-1"


def test_trace_context_validity_and_copy() -> None:
    baggage = {"k": "v"}
    tc = TraceContext("4BF92F3577B34DA6A3CE929D0E0E4736", "00f067aa0ba902b7", baggage=baggage, flags=0x101)
    baggage["k"] = "changed"
    assert tc.baggage == {"k": "v"}
    assert tc.valid() and tc.sampled and tc.flags == 1
    assert not TraceContext("0" * 32, "00f067aa0ba902b7").has_trace_id()
    assert not TraceContext("abc", "0" * 16).valid()
    assert TraceContext("a" * 32, "b" * 16, parent_span_id="c" * 16).to_dict() == {
        "trace_id": "a" * 32, "span_id": "b" * 16, "parent_span_id": "c" * 16, "flags": 0,
    }
    scope: dict[str, Any] = {}
    assert trace_context_from_scope(scope) is None
    with_trace_context(scope, tc)
    assert trace_context_from_scope(scope) is tc


def test_route_carrier() -> None:
    scope: dict[str, Any] = {}
    assert route_context_from_scope(scope) is None and path_params_from_scope(scope) == {}
    rc = RouteContext("GET", "/users/:id", "user")
    with_route_context(scope, rc, {"id": "7"})
    assert route_context_from_scope(scope) is rc
    assert path_params_from_scope(scope) == {"id": "7"}
    assert scope["path_params"] == {"id": "7"}
