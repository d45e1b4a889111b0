"""Property tests for the parsers that read untrusted headers: they never raise and round-trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from plumego.contract import TraceContext
from plumego.middleware import accepts_gzip, format_traceparent, parse_baggage, parse_traceparent

hex_ids = st.integers(min_value=1, max_value=2**128 - 1).map(lambda v: f"{v:032x}")
span_ids = st.integers(min_value=1, max_value=2**64 - 1).map(lambda v: f"{v:016x}")


@given(hex_ids, span_ids, st.integers(min_value=0, max_value=255))
def test_traceparent_round_trip(trace_id: str, span_id: str, flags: int) -> None:
    header = format_traceparent(TraceContext(trace_id=trace_id, span_id=span_id, flags=flags))
    parsed = parse_traceparent(header)
    assert parsed is not None
    assert (parsed.trace_id, parsed.parent_id, parsed.flags) == (trace_id, span_id, flags)


@given(st.text())
def test_header_parsers_never_raise(text: str) -> None:
    parse_traceparent(text)
    parse_baggage(text)
    accepts_gzip(text)
